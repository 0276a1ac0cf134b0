"""Through the documented API alone: a new hosting project taken from step 1 to its first monthly follow-up, the
follow-up's date still ahead, fired by the process owner; the dossier says what it waits for, and when."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from engine.campaign.campaigns import current_campaign
from handlers.formats import date_fr

from conftest import SAMPLES
from test_api_campaign import RENNES, documented

INSTANCE = "/api/v1/instances/{instance_id}"
FIRE = "/api/v1/instances/{instance_id}/timers/{timer_id}/fire"
RESCHEDULE = "/api/v1/instances/{instance_id}/timers/{timer_id}/reschedule"


def filled(task: dict, **values) -> dict:
    """The task's form filled as a client would: what the platform proposes, else an example answer, for each field
    of its schema; `values` last."""
    proposed, examples = task["data"], SAMPLES.get(task["name"], {})
    data = {name: proposed.get(name, examples.get(name)) for name in task["schema"]["properties"]}
    return {name: value for name, value in {**data, **values}.items() if value is not None}


def step(api, login: str, name: str, **values) -> dict:
    """As `login`, do the task `name` from the task list with its form filled; return the instance."""
    tasks = documented(api.get("/api/v1/tasks", login), "/api/v1/tasks").json["items"]
    found = [task for task in tasks if task["name"] == name]
    assert found, f"{login} ne voit pas « {name} » : {[task['name'] for task in tasks]}"
    task = documented(api.get(f"/api/v1/tasks/{found[0]['id']}", login), "/api/v1/tasks/{task_id}").json
    response = api.post(f"/api/v1/tasks/{task['id']}/complete", login, json=filled(task, **values))
    assert response.status_code == 200, response.json
    return documented(response, "/api/v1/tasks/{task_id}/complete", "post").json["instance"]


def mission_start(sessions) -> date:
    """A start in the window of the campaign in preparation, after today: any day of the year, the first monthly
    follow-up is still to come."""
    with sessions() as session:
        campaign = current_campaign(session)
        assert campaign is not None, "la démonstration ouvre une campagne"
        return min(max(campaign.earliest_start, date.today() + timedelta(days=1)), campaign.latest_start)


def waiting(api, login: str, instance_id: int) -> list[dict]:
    detail = documented(api.get(f"/api/v1/instances/{instance_id}", login), INSTANCE).json
    return detail["waiting"]


def test_a_new_project_reaches_its_first_monthly_follow_up_fired_by_the_process_owner(api, sessions):
    start = mission_start(sessions)
    started = api.post("/api/v1/instances", "referent.rennes", json={"process": "hosting_project",
                                                                       "establishment": RENNES})
    instance_id = documented(started, "/api/v1/instances", "post").json["instance"]["id"]
    assert started.json["instance"]["waiting"] == [], "the project waits for its référent, not for a date"

    step(api, "referent.rennes", "design_project", desired_start_date=start.isoformat(), places_requested=1)
    step(api, "gestionnaire.udogec35", "review_project", places_granted=1)
    step(api, "referent.rennes", "publish_offer")
    step(api, "referent.rennes", "select_volunteer")
    step(api, "tuteur.rennes", "confirm_selection")
    # Born 22 years before the mission starts: eligible whatever the year.
    step(api, "referent.rennes", "volunteer_file", birth_date=start.replace(year=start.year - 22).isoformat())
    step(api, "gestionnaire.udogec35", "draw_up_contract")
    step(api, "referent.rennes", "upload_signed_contract")
    followed = step(api, "gestionnaire.udogec35", "confirm_contract")
    assert followed["tasks"] == [] and followed["status"] == "running"

    events = waiting(api, "tuteur.rennes", instance_id)
    monthly = next(event for event in events if event["element"] == "monthly_follow_up")
    first = datetime.fromisoformat(monthly["due_at"])
    assert first.date() > date.today() and first.day == start.day
    assert (monthly["kind"], monthly["label"]) == ("cycle", "Prochain suivi mensuel")
    assert monthly["text"] == f"Prochain suivi mensuel : le {date_fr(first)}"
    assert "Point de mi-mission" in {event["label"] for event in events}

    refused = api.post(FIRE.format(instance_id=instance_id, timer_id=monthly["id"]), "tuteur.rennes",
                       json={"reason": "Je voudrais commencer"})
    assert documented(refused, FIRE, "post").status_code == 403
    fired = api.post(FIRE.format(instance_id=instance_id, timer_id=monthly["id"]), "pilote",
                     json={"reason": "Démonstration : premier suivi sans attendre"})
    assert fired.status_code == 200, fired.json
    state = documented(fired, FIRE, "post").json["instance"]
    assert [task["name"] for task in state["tasks"]] == ["record_follow_up"]
    after = {event["element"]: event for event in state["waiting"]}
    assert datetime.fromisoformat(after["monthly_follow_up"]["due_at"]).date().day == start.day
    assert after["monthly_follow_up"]["due_at"] > monthly["due_at"], "the next month's follow-up waits"
    assert "follow_up_overdue" in after, "the reminder if the follow-up is not recorded"

    done = step(api, "tuteur.rennes", "record_follow_up")
    assert done["status"] == "running" and done["tasks"] == []
    history = documented(api.get(f"/api/v1/instances/{instance_id}", "referent.rennes"), INSTANCE).json["history"]
    (entry,) = [entry for entry in history if entry["kind"] == "timer_fired"]
    assert entry["actor"] == "Bénédicte Laurent"
    assert "Démonstration : premier suivi sans attendre" in entry["summary"]
    assert entry["label"] == "Échéance déclenchée sans attendre"


def test_a_gestionnaire_moves_a_timer_and_the_api_says_why_it_refuses(api, sessions):
    start = mission_start(sessions)
    api.post("/api/v1/instances", "referent.rennes", json={"process": "hosting_project", "establishment": RENNES})
    step(api, "referent.rennes", "design_project", desired_start_date=start.isoformat(), places_requested=1)
    step(api, "gestionnaire.udogec35", "review_project", places_granted=1)
    for login, name in (("referent.rennes", "publish_offer"), ("referent.rennes", "select_volunteer"),
                        ("tuteur.rennes", "confirm_selection")):
        step(api, login, name)
    step(api, "referent.rennes", "volunteer_file", birth_date=start.replace(year=start.year - 22).isoformat())
    step(api, "gestionnaire.udogec35", "draw_up_contract")
    step(api, "referent.rennes", "upload_signed_contract")
    instance_id = step(api, "gestionnaire.udogec35", "confirm_contract")["id"]
    middle = next(e for e in waiting(api, "gestionnaire.udogec35", instance_id) if e["element"] == "mid_mission_reached")
    path = RESCHEDULE.format(instance_id=instance_id, timer_id=middle["id"])
    later = (datetime.fromisoformat(middle["due_at"]) + timedelta(days=3)).replace(hour=14, minute=0)

    for body, field in (({"due_at": later.isoformat()}, "reason"), ({"reason": "Vacances"}, "due_at"),
                        ({"due_at": "2000-01-01T09:00", "reason": "Vacances"}, "due_at"),
                        ({"due_at": later.isoformat(), "reason": "Vacances", "when": "now"}, None)):
        refused = documented(api.post(path, "gestionnaire.udogec35", json=body), RESCHEDULE, "post")
        assert refused.status_code == 422 and refused.json["errors"][0]["field"] == field, refused.json
    assert documented(api.post(path, "gestionnaire.udogec29", json={"due_at": later.isoformat(), "reason": "x"}),
                      RESCHEDULE, "post").status_code == 404, "another territory: as if it did not exist"

    moved = documented(api.post(path, "gestionnaire.udogec35", json={"due_at": later.isoformat(timespec="minutes"),
                                                                       "reason": "Vacances scolaires"}),
                       RESCHEDULE, "post")
    assert moved.status_code == 200, moved.json
    (now_middle,) = [e for e in moved.json["instance"]["waiting"] if e["element"] == "mid_mission_reached"]
    assert datetime.fromisoformat(now_middle["due_at"]) == later

    unknown = api.post(FIRE.format(instance_id=instance_id, timer_id="00000000-0000-4000-8000-000000000000"),
                       "pilote", json={"reason": "Essai"})
    assert documented(unknown, FIRE, "post").status_code == 409
    assert documented(api.post(FIRE.format(instance_id=instance_id, timer_id="pas-une-echeance"), "pilote",
                               json={"reason": "Essai"}), FIRE, "post").status_code == 404
    suspended = api.post(f"/api/v1/instances/{instance_id}/suspend", "pilote", json={"reason": "Pause"})
    assert suspended.status_code == 200 and suspended.json["instance"]["waiting"] == []
    refused = api.post(path, "pilote", json={"due_at": later.isoformat(), "reason": "Essai"})
    assert documented(refused, RESCHEDULE, "post").status_code == 409
    assert "suspendu" in refused.json["message"]
