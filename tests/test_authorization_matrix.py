"""Authorisation matrix: every role × every route × its own and another establishment or territory.

Each route is tried by every demo role (and anonymously) against a Rennes
(35) and a Brest (29) target. The expected audience of each target is
written here from the rules, independently of `engine.access`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import pytest
from sqlalchemy import select

from engine.directory.importing import record_file_error
from engine.directory.sign_on_discrepancies import Discrepancy, record_discrepancies
from engine.directory.tokens import issue_token
from engine.directory.web_sessions import open_web_session
from engine.documents import DocumentStore
from engine.models import Campaign, Establishment, LoginDiscrepancy, Person, Structure, TaskRow, Timer
from engine.runtime.runtime import ProcessRuntime, RuntimeSettings
from webapp.auth import SESSION_ID
from webapp.config import settings_of

from conftest import SAMPLES, prepare_database, principal_of

PLACES = {"rennes": {"uai": "0350781J", "department": "35"}, "brest": {"uai": "0291652N", "department": "29"}}
ACTORS = [None, "pilote", "gestionnaire.fnogec", "gestionnaire.urogec", "gestionnaire.udogec35", "gestionnaire.udogec29",
          *[f"{role}.{place}" for place in PLACES for role in ("referent", "tuteur", "cotuteur")]]
ALL_USERS = set(ACTORS) - {None}


def school(place: str) -> set[str]:
    """Référent, tuteur and cotuteur of a school."""
    return {f"referent.{place}", f"tuteur.{place}", f"cotuteur.{place}"}


def viewers(place: str) -> set[str]:
    """Who sees a school's instances and file: its staff, the gestionnaires covering it, process owners."""
    return school(place) | {f"gestionnaire.udogec{PLACES[place]['department']}", "gestionnaire.urogec",
                            "gestionnaire.fnogec", "pilote"}


def training_viewers(place: str) -> set[str]:
    """Who sees a training of a place's Udogec: its gestionnaires, national ones, process owners."""
    return {f"gestionnaire.udogec{PLACES[place]['department']}", "gestionnaire.fnogec", "pilote"}


def task_actors(place: str, lane: str) -> set[str]:
    """Who may complete a task of a lane in a school's project (reviews go to the Udogec)."""
    return {"referent": {f"referent.{place}"}, "tuteur": {f"tuteur.{place}", f"cotuteur.{place}"},
            "gestionnaire": {f"gestionnaire.udogec{PLACES[place]['department']}"}}[lane]


@dataclass
class Scenario:
    """Targets of one place: instances, tasks by lane, a document, the establishment, a training."""

    establishment_id: int
    uai: str
    structure: str
    project_id: int
    tasks: dict[str, str]
    document_id: int
    training_id: int
    training_task: str
    old_campaign_id: int = 0
    import_id: int = 0
    discrepancy_id: int = 0
    follow_up_id: int = 0
    training_session_id: int = 0
    tutor_session_id: int = 0
    registration: Callable[[], int] | None = None
    unregistered: Callable[[], int] | None = None
    staged_id: int = 0
    # A scenario run recorded on that upload (not played: its status answers « en cours »).
    run_id: int = 0
    timer_id: str = ""
    # An account for the administration's account pages: the place's tuteur.
    account_id: int = 0


def advance(runtime, session, instance, login: str, data: dict) -> None:
    row = session.scalar(select(TaskRow).where(TaskRow.instance_id == instance.id, TaskRow.state == "ready")
                         .order_by(TaskRow.created_at, TaskRow.id))
    runtime.complete(row.id, principal_of(session, login), data)


def build(runtime, session, tmp_path, place: str) -> Scenario:
    """Three projects of earlier campaigns waiting on each lane, a document, a training of the Udogec."""
    establishment = session.scalar(select(Establishment).where(Establishment.uai == PLACES[place]["uai"]))
    udogec = f"gestionnaire.udogec{PLACES[place]['department']}"
    structure = session.scalar(select(Structure).where(Structure.code == f"UDOGEC-{PLACES[place]['department']}"))
    referent = principal_of(session, f"referent.{place}")
    projects = [runtime.start("hosting_project", referent, establishment=establishment, campaign=campaign)
                for campaign in ("2024-2025", "2025-2026", "2026-2027")]
    advance(runtime, session, projects[1], f"referent.{place}", SAMPLES["design_project"])
    for login, sample in ((f"referent.{place}", "design_project"), (udogec, "review_project"),
                          (f"referent.{place}", "publish_offer"), (f"referent.{place}", "select_volunteer")):
        advance(runtime, session, projects[2], login, SAMPLES[sample])
    tasks = {}
    for project, lane in zip(projects, ("referent", "gestionnaire", "tuteur"), strict=True):
        tasks[lane] = session.scalar(select(TaskRow.id).where(TaskRow.instance_id == project.id,
                                                              TaskRow.state == "ready", TaskRow.lane == lane))
    document = DocumentStore(tmp_path / "documents").save(session, projects[2].id, None, "contract", "Contrat",
                                                          "contrat.pdf", "application/pdf", b"%PDF-1.4 test")
    session.commit()
    training = runtime.start("training", principal_of(session, udogec), structure=structure, campaign="2026-2027")
    training_task = session.scalar(select(TaskRow.id).where(TaskRow.instance_id == training.id))
    # A campaign of no project here, for process owners to close.
    old_campaign = session.scalar(select(Campaign).where(Campaign.school_year == "2020-2021"))
    if old_campaign is None:
        old_campaign = Campaign(school_year="2020-2021", pupil_count_year="2020-2021", opened_at=datetime.now(),
                                submission_deadline=date(2020, 5, 31), earliest_start=date(2020, 9, 1),
                                latest_start=date(2021, 1, 31))
        session.add(old_campaign)
        session.commit()
    directory_import = record_file_error(session, "annuaire.json", None, "Le fichier n'est pas un JSON valide.")
    # A login through Isidoor claiming a role the directory does not grant in this school.
    tuteur = session.scalar(select(Person).where(Person.login == f"tuteur.{place}"))
    record_discrepancies(session, tuteur, [Discrepancy(f"role:referent:{establishment.uai}:", "role_not_granted",
                                                       "Rôle non accordé.", {}, establishment.department)],
                         datetime.now())
    session.commit()
    discrepancy = session.scalar(select(LoginDiscrepancy).where(LoginDiscrepancy.person_id == tuteur.id))
    return Scenario(establishment.id, establishment.uai, structure.code, projects[2].id, tasks, document.id,
                    training.id, training_task, old_campaign.id, directory_import.id, discrepancy.id,
                    account_id=tuteur.id)


def add_staged_upload(session, scenario: Scenario) -> None:
    """Definition files uploaded by a process owner, identical to the deployed ones (deploying them changes nothing)."""
    from engine.runtime.deployment import current_deployment
    from engine.runtime.staging import stage_files

    text = current_deployment(session).files["processes/training.bpmn"]
    scenario.staged_id = stage_files(session, principal_of(session, "pilote"), [("training.bpmn", text.encode())],
                                     datetime.now()).id
    from engine.models import StagedDeployment
    from engine.scenarios.runs import start_run

    scenario.run_id = start_run(session, deployment=None, staged=session.get(StagedDeployment, scenario.staged_id),
                                scenario="", coverage=False, actor_id=None, now=datetime.now()).id


def add_follow_up_targets(runtime, session, place: str, scenario: Scenario) -> None:
    """A volunteer of the place under follow-up, and two sessions of its Udogec: for volunteers, for tuteurs."""
    from engine.campaign.trainings import register, unregister
    from engine.models import TrainingRegistration, TrainingSession, VolunteerMission

    from follow_up_support import to_follow_up

    scenario.follow_up_id = to_follow_up(runtime, session, place, first_name={"rennes": "Léa"}.get(place, "Yann")).id
    scenario.timer_id = session.scalar(select(Timer.task_id).where(Timer.instance_id == scenario.follow_up_id,
                                                                   Timer.spec_id == "monthly_follow_up"))
    udogec = f"gestionnaire.udogec{PLACES[place]['department']}"
    structure = session.scalar(select(Structure).where(Structure.code == scenario.structure))
    for field, changes in (("training_session_id", {}), ("tutor_session_id", {"kind": "tutor_training",
                                                                               "audience": "tutors"})):
        training = runtime.start("training", principal_of(session, udogec), structure=structure, campaign="2027-2028")
        advance(runtime, session, training, udogec, {**SAMPLES["plan_training"], **changes})
        setattr(scenario, field, session.scalar(select(TrainingSession.id)
                                                .where(TrainingSession.instance_id == training.id)))
    mission = session.scalar(select(VolunteerMission).where(VolunteerMission.instance_id == scenario.follow_up_id))

    def registration_of() -> int | None:
        session.rollback()
        return session.scalar(select(TrainingRegistration.id).where(
            TrainingRegistration.session_id == scenario.training_session_id, TrainingRegistration.mission_id == mission.id))

    def registration() -> int:
        """The volunteer's registration to the session, made again by the organiser when a check cancelled it."""
        found = registration_of()
        if found is not None:
            return found
        training = session.get(TrainingSession, scenario.training_session_id)
        return register(session, principal_of(session, udogec), training, datetime(2027, 3, 15), mission=mission).id

    def unregistered() -> int:
        """The volunteer's mission id, its registration to the session cancelled by the organiser if any."""
        found = registration_of()
        if found is not None:
            training = session.get(TrainingSession, scenario.training_session_id)
            unregister(session, principal_of(session, udogec), training, session.get(TrainingRegistration, found))
        return mission.id

    scenario.registration = registration
    scenario.unregistered = unregistered


@dataclass
class Check:
    """One route: how to call it on a place's targets, and who is allowed."""

    endpoint: str
    call: Callable
    allowed: Callable[[str], set[str]]


WEB_LOGIN = "/connexion"


def web_outcome(response) -> str:
    """What a page answer means: allowed, forbidden, or sent to log in."""
    if response.status_code == 302 and response.headers["Location"].startswith(WEB_LOGIN + "?next="):
        return "unauthenticated"
    # A dossier, document, school or session outside one's scope answers as a missing one (404): refused too.
    if response.status_code in (403, 404):
        return "forbidden"
    assert response.status_code in (200, 302, 422), (response.status_code, response.request.path)
    return "allowed"


def api_outcome(response) -> str:
    """What an API answer means."""
    if response.status_code == 401:
        return "unauthenticated"
    if response.status_code in (403, 404):
        return "forbidden"
    assert response.status_code in (200, 201, 204, 409, 422), (response.status_code, response.get_data(as_text=True))
    return "allowed"


def listed(ids_of: Callable, target: Callable) -> Callable:
    """A list call judged by its content: allowed when the place's target is listed, forbidden when not."""
    def call(agent, s: Scenario):
        response = ids_of(agent)
        if response in ("unauthenticated",):
            return response
        return "allowed" if target(s) in response else "forbidden"
    return call


def web(method: str, path: Callable[[Scenario], str], data: Callable[[Scenario], dict] | None = None) -> Callable:
    def call(agent, s: Scenario):
        response = agent.web.open(path(s), method=method, data=data(s) if data else None)
        response.close()
        return web_outcome(response)
    return call


def web_hidden(method: str, path: Callable[[Scenario], str]) -> Callable:
    """A page that does not exist for those outside its scope: 404 means forbidden."""
    def call(agent, s: Scenario):
        response = agent.web.open(path(s), method=method)
        response.close()
        return "forbidden" if response.status_code == 404 else web_outcome(response)
    return call


def api(method: str, path: Callable[[Scenario], str], body: Callable[[Scenario], dict] | None = None) -> Callable:
    def call(agent, s: Scenario):
        response = agent.api.open(path(s), method=method, headers=agent.headers, json=body(s) if body else None)
        response.close()
        return api_outcome(response)
    return call


def web_listing(agent) -> set | str:
    response = agent.web.get("/dossiers/?page=1")
    if web_outcome(response) != "allowed":
        return web_outcome(response)
    return response.get_data(as_text=True)


def discrepancy_listing(agent) -> set | str:
    response = agent.web.get("/ecarts-isidoor")
    if web_outcome(response) != "allowed":
        return web_outcome(response)
    return response.get_data(as_text=True)


def api_ids(path: str, key: str) -> Callable:
    def fetch(agent):
        response = agent.api.get(path, headers=agent.headers)
        if api_outcome(response) != "allowed":
            return api_outcome(response)
        return {item[key] for item in response.json["items"]}
    return fetch


def start_subjects(agent) -> set | str:
    """The establishments (UAI) and structures (code) the agent may start a process about."""
    response = agent.api.get("/api/v1/processes", headers=agent.headers)
    if api_outcome(response) != "allowed":
        return api_outcome(response)
    return ({school["uai"] for item in response.json["items"] for school in item["establishments"]}
            | {structure["code"] for item in response.json["items"] for structure in item["structures"]})


def monitors(_place: str) -> set[str]:
    """Who follows the dashboard: every gestionnaire (their territory's figures) and process owners."""
    return {actor for actor in ALL_USERS if actor.startswith("gestionnaire.")} | {"pilote"}


def steerers(place: str) -> set[str]:
    """Who sees a school's instances on the dashboard and steers them: gestionnaires covering it, owners."""
    return viewers(place) - school(place)


def web_page(path: str) -> Callable:
    def fetch(agent):
        response = agent.web.get(path)
        if web_outcome(response) != "allowed":
            return web_outcome(response)
        return response.get_data(as_text=True)
    return fetch


def everyone(_place: str) -> set[str]:
    return set(ACTORS)


def users(_place: str) -> set[str]:
    return set(ALL_USERS)


CHECKS = [
    Check("static", web("GET", lambda s: "/static/style.css"), everyone),
    Check("auth.login", web("GET", lambda s: "/connexion"), everyone),
    Check("health.show", web("GET", lambda s: "/health"), everyone),
    Check("favicon", web("GET", lambda s: "/favicon.ico"), everyone),
    Check("auth.logout", web("POST", lambda s: "/deconnexion"), users),
    # Without Isidoor configured (as here), both send back to the login page; with it, tests/test_oidc.py.
    Check("sign_on.start", web("GET", lambda s: "/auth/oidc/connexion"), everyone),
    Check("sign_on.callback", web("GET", lambda s: "/auth/oidc/callback?state=x&code=y"), everyone),
    Check("discrepancies.index", listed(discrepancy_listing, lambda s: f'id="ecart-{s.discrepancy_id}"'),
          lambda place: {f"gestionnaire.udogec{PLACES[place]['department']}", "gestionnaire.urogec",
                         "gestionnaire.fnogec", "pilote"}),
    Check("inbox.home", web("GET", lambda s: "/"), users),
    Check("instances.index", listed(web_listing, lambda s: f'href="/dossiers/{s.project_id}"'), viewers),
    Check("instances.show", web("GET", lambda s: f"/dossiers/{s.project_id}"), viewers),
    Check("instances.show", web("GET", lambda s: f"/dossiers/{s.training_id}"), training_viewers),
    *[Check("tasks.task", web(method, lambda s, lane=lane: f"/taches/{s.tasks[lane]}", lambda s: {}),
            lambda place, lane=lane: task_actors(place, lane))
      for lane in ("referent", "gestionnaire", "tuteur") for method in ("GET", "POST")],
    Check("tasks.task", web("GET", lambda s: f"/taches/{s.training_task}"),
          lambda place: {f"gestionnaire.udogec{PLACES[place]['department']}"}),
    Check("instances.start",
          web("POST", lambda s: "/dossiers/demarrer/hosting_project", lambda s: {"establishment_id": s.establishment_id}),
          lambda place: {f"referent.{place}"}),
    Check("instances.start",
          web("POST", lambda s: "/dossiers/demarrer/training", lambda s: {"structure": s.structure}),
          lambda place: {f"gestionnaire.udogec{PLACES[place]['department']}"}),
    Check("instances.retry", web("POST", lambda s: f"/dossiers/{s.project_id}/relance"), lambda place: {"pilote"}),
    Check("operations.rejoin", web("POST", lambda s: f"/dossiers/{s.project_id}/parcours-termines"),
          lambda place: {"pilote"}),
    Check("documents.download", web_hidden("GET", lambda s: f"/documents/{s.document_id}"), viewers),
    Check("establishments.show", web("GET", lambda s: f"/etablissements/{s.establishment_id}"), viewers),
    Check("establishments.add_referent",
          web("POST", lambda s: f"/etablissements/{s.establishment_id}/referents", lambda s: {"person_id": "0"}),
          lambda place: {f"referent.{place}"}),
    Check("establishments.reopen",
          web("POST", lambda s: f"/etablissements/{s.establishment_id}/reouverture", lambda s: {"until": "bientôt"}),
          lambda place: {f"gestionnaire.udogec{PLACES[place]['department']}", "gestionnaire.urogec",
                         "gestionnaire.fnogec"}),
    Check("help.show", web("GET", lambda s: "/aide/"), users),
    # Guides and their screenshots are the same for everyone logged in.
    Check("help.guide", web("GET", lambda s: "/aide/guides/referent"), users),
    Check("help.screenshot", web("GET", lambda s: "/aide/captures/aide-1280.png"), users),
    Check("admin.campaigns", web("GET", lambda s: "/administration/campagnes"), lambda place: {"pilote"}),
    Check("admin.campaigns", web("POST", lambda s: "/administration/campagnes", lambda s: {"school_year": "x"}),
          lambda place: {"pilote"}),
    Check("admin.close", web("POST", lambda s: f"/administration/campagnes/{s.old_campaign_id}/fermeture"),
          lambda place: {"pilote"}),
    Check("admin.agreement_number", web("POST", lambda s: f"/administration/campagnes/{s.old_campaign_id}/agrement",
                                        lambda s: {"agreement_number": "NA-000-19-00107-00"}), lambda place: {"pilote"}),
    Check("admin.directory", web("GET", lambda s: "/administration/annuaire"), lambda place: {"pilote"}),
    Check("admin.directory", web("POST", lambda s: "/administration/annuaire", lambda s: {}), lambda place: {"pilote"}),
    Check("admin.directory_import", web("GET", lambda s: f"/administration/annuaire/{s.import_id}"),
          lambda place: {"pilote"}),
    Check("admin.accounts", web("GET", lambda s: "/administration/comptes?q=tuteur"), lambda place: {"pilote"}),
    Check("admin.account", web("GET", lambda s: f"/administration/comptes/{s.account_id}"), lambda place: {"pilote"}),
    Check("admin.end_sessions", web("POST", lambda s: f"/administration/comptes/{s.account_id}/fin-des-sessions"),
          lambda place: {"pilote"}),
    Check("process_admin.index", web("GET", lambda s: "/administration/processus/"), lambda place: {"pilote"}),
    Check("process_admin.index", web("POST", lambda s: "/administration/processus/", lambda s: {}),
          lambda place: {"pilote"}),
    Check("process_admin.review", web("GET", lambda s: f"/administration/processus/envois/{s.staged_id}"),
          lambda place: {"pilote"}),
    Check("process_admin.deploy",
          web("POST", lambda s: f"/administration/processus/envois/{s.staged_id}/deploiement"), lambda place: {"pilote"}),
    Check("process_admin.discard",
          web("POST", lambda s: f"/administration/processus/envois/{s.staged_id}/abandon"), lambda place: {"pilote"}),
    # Scenario coverage: an unknown scenario answers 422 to process owners without playing anything.
    Check("process_admin.coverage", web("GET", lambda s: "/administration/processus/couverture"),
          lambda place: {"pilote"}),
    Check("process_admin.coverage", web("POST", lambda s: "/administration/processus/couverture",
                                        lambda s: {"scenario": "inconnu.yaml"}), lambda place: {"pilote"}),
    Check("process_admin.run_status", web("GET", lambda s: f"/administration/processus/executions/{s.run_id}"),
          lambda place: {"pilote"}),
    # The editor in the browser: after the discard above, the scenarios of the staged upload are refused at once.
    Check("process_editor.edit", web("GET", lambda s: "/administration/processus/editeur/processes/training.bpmn"),
          lambda place: {"pilote"}),
    Check("process_editor.handlers", web("GET", lambda s: "/administration/processus/editeur/gestionnaires.json"),
          lambda place: {"pilote"}),
    Check("process_editor.save", web("POST", lambda s: "/administration/processus/editeur/enregistrement"),
          lambda place: {"pilote"}),
    Check("process_editor.preview", web("POST", lambda s: "/administration/processus/editeur/apercu"),
          lambda place: {"pilote"}),
    Check("process_editor.scenarios",
          web("POST", lambda s: f"/administration/processus/editeur/envois/{s.staged_id}/scenarios"),
          lambda place: {"pilote"}),
    Check("api_public.openapi_document", api("GET", lambda s: "/api/v1/openapi.json"), everyone),
    Check("api_public.create_token", lambda agent, s: agent.login_outcome(), users),
    Check("api_public.delete_token", api("DELETE", lambda s: "/api/v1/auth/token"), users),
    *[Check("api.list_tasks", listed(api_ids("/api/v1/tasks", "id"), lambda s, lane=lane: s.tasks[lane]),
            lambda place, lane=lane: task_actors(place, lane)) for lane in ("referent", "gestionnaire", "tuteur")],
    *[Check("api.show_task", api("GET", lambda s, lane=lane: f"/api/v1/tasks/{s.tasks[lane]}"),
            lambda place, lane=lane: task_actors(place, lane)) for lane in ("referent", "gestionnaire", "tuteur")],
    # A draft is saved before it is read back: reading one never saved answers 404 even to its task's actors.
    *[Check("api.save_draft", api("PUT", lambda s, lane=lane: f"/api/v1/tasks/{s.tasks[lane]}/draft", lambda s: {}),
            lambda place, lane=lane: task_actors(place, lane)) for lane in ("referent", "gestionnaire", "tuteur")],
    *[Check("api.show_draft", api("GET", lambda s, lane=lane: f"/api/v1/tasks/{s.tasks[lane]}/draft"),
            lambda place, lane=lane: task_actors(place, lane)) for lane in ("referent", "gestionnaire", "tuteur")],
    *[Check("api.complete_task", api("POST", lambda s, lane=lane: f"/api/v1/tasks/{s.tasks[lane]}/complete",
                                     lambda s: {}),
            lambda place, lane=lane: task_actors(place, lane)) for lane in ("referent", "gestionnaire", "tuteur")],
    Check("api.list_instances", listed(api_ids("/api/v1/instances?per_page=100", "id"), lambda s: s.project_id),
          viewers),
    Check("api.list_instances", listed(api_ids("/api/v1/instances?per_page=100", "id"), lambda s: s.training_id),
          training_viewers),
    Check("api.show_instance", api("GET", lambda s: f"/api/v1/instances/{s.project_id}"), viewers),
    Check("api.show_instance", api("GET", lambda s: f"/api/v1/instances/{s.training_id}"), training_viewers),
    Check("api.start_instance",
          api("POST", lambda s: "/api/v1/instances", lambda s: {"process": "hosting_project", "establishment": s.uai}),
          lambda place: {f"referent.{place}"}),
    Check("api.start_instance",
          api("POST", lambda s: "/api/v1/instances", lambda s: {"process": "training", "structure": s.structure}),
          lambda place: {f"gestionnaire.udogec{PLACES[place]['department']}"}),
    Check("api.list_processes", listed(start_subjects, lambda s: s.uai), lambda place: {f"referent.{place}"}),
    Check("api.list_processes", listed(start_subjects, lambda s: s.structure),
          lambda place: {f"gestionnaire.udogec{PLACES[place]['department']}"}),
    Check("api.list_documents", api("GET", lambda s: f"/api/v1/instances/{s.project_id}/documents"), viewers),
    Check("api.download_document",
          api("GET", lambda s: f"/api/v1/instances/{s.project_id}/documents/{s.document_id}"), viewers),
    Check("api.show_establishment", api("GET", lambda s: f"/api/v1/establishments/{s.uai}"), viewers),
    Check("api.list_establishments", listed(api_ids("/api/v1/establishments?per_page=100", "uai"), lambda s: s.uai),
          viewers),
    # Monitoring and steering (issue 7): the dashboard for gestionnaires (their territory) and process owners;
    # operations with an input refused or a state that does not allow them, so that targets stay as they were.
    Check("monitoring.dashboard", listed(web_page("/suivi/?processus=hosting_project"),
                                         lambda s: f'href="/dossiers/{s.project_id}"'), steerers),
    Check("monitoring.export_csv", listed(web_page("/suivi/export.csv?processus=hosting_project"),
                                          lambda s: f"\r\n{s.project_id};"), steerers),
    Check("monitoring.export_xlsx", web("GET", lambda s: "/suivi/export.xlsx"), monitors),
    # The campaigns' funnels: each gestionnaire's territory counted, the place's department among them or not.
    Check("monitoring.export_funnels_csv",
          listed(web_page("/suivi/campagnes.csv"), lambda s: f";Territoire;Département {s.structure[-2:]};"), steerers),
    Check("monitoring.export_funnels_xlsx", web("GET", lambda s: "/suivi/campagnes.xlsx"), monitors),
    Check("monitoring.heat_map", web("GET", lambda s: "/suivi/carte?processus=hosting_project"), monitors),
    Check("monitoring.migrate",
          web("POST", lambda s: "/suivi/migration", lambda s: {"dossier": str(s.project_id), "version": "0"}),
          lambda place: {"pilote"}),
    Check("operations.suspend", web("POST", lambda s: f"/dossiers/{s.project_id}/suspension", lambda s: {}),
          steerers),
    Check("operations.resume", web("POST", lambda s: f"/dossiers/{s.project_id}/reprise", lambda s: {}), steerers),
    Check("operations.terminate", web("POST", lambda s: f"/dossiers/{s.project_id}/interruption", lambda s: {}),
          steerers),
    Check("operations.reassign", web("POST", lambda s: f"/taches/{s.tasks['referent']}/reaffectation",
                                     lambda s: {"person_id": "0"}), steerers),
    Check("vendor.bpmn_js", web("GET", lambda s: "/static/vendor/bpmn-js/assets/bpmn-js.css"), everyone),
    Check("vendor.dmn_js", web("GET", lambda s: "/static/vendor/dmn-js/assets/dmn-js-shared.css"), everyone),
    Check("api.retry_instance", api("POST", lambda s: f"/api/v1/instances/{s.project_id}/retry"),
          lambda place: {"pilote"}),
    Check("api.rejoin_instance", api("POST", lambda s: f"/api/v1/instances/{s.project_id}/rejoin"),
          lambda place: {"pilote"}),
    Check("api.suspend_instance", api("POST", lambda s: f"/api/v1/instances/{s.project_id}/suspend",
                                      lambda s: {"reason": ""}), steerers),
    Check("api.resume_instance", api("POST", lambda s: f"/api/v1/instances/{s.project_id}/resume"), steerers),
    Check("api.terminate_instance", api("POST", lambda s: f"/api/v1/instances/{s.project_id}/terminate",
                                        lambda s: {"reason": ""}), steerers),
    Check("api.migrate_instance", api("POST", lambda s: f"/api/v1/instances/{s.project_id}/migrate",
                                      lambda s: {"version": 0}), lambda place: {"pilote"}),
    Check("api.task_candidates", api("GET", lambda s: f"/api/v1/tasks/{s.tasks['referent']}/candidates"),
          steerers),
    # A dossier's timers, fired now or moved (issue 18): without a reason, so that the follow-up waits as it was.
    Check("instances.fire_timer", web("POST", lambda s: f"/dossiers/{s.follow_up_id}/echeances/{s.timer_id}"
                                      "/declenchement", lambda s: {"reason": ""}), steerers),
    Check("instances.reschedule_timer", web("POST", lambda s: f"/dossiers/{s.follow_up_id}/echeances/{s.timer_id}"
                                            "/deplacement", lambda s: {"due_at": "2027-11-03T09:00"}), steerers),
    Check("api.fire_timer", api("POST", lambda s: f"/api/v1/instances/{s.follow_up_id}/timers/{s.timer_id}/fire",
                                lambda s: {"reason": ""}), steerers),
    Check("api.reschedule_timer",
          api("POST", lambda s: f"/api/v1/instances/{s.follow_up_id}/timers/{s.timer_id}/reschedule",
              lambda s: {"due_at": "2027-11-03T09:00"}), steerers),
    Check("api.reassign_task", api("POST", lambda s: f"/api/v1/tasks/{s.tasks['referent']}/reassign",
                                   lambda s: {"person_id": 0}), steerers),
    Check("notifications.index", web("GET", lambda s: "/notifications/"), users),
    Check("notifications.mark_read", web("POST", lambda s: "/notifications/lues"), users),
    Check("notifications.outbox", web("GET", lambda s: "/notifications/courriels"), lambda place: {"pilote"}),
    Check("trainings.index", web("GET", lambda s: "/formations/"), users),
    Check("trainings.show", web("GET", lambda s: f"/formations/{s.training_session_id}"), viewers),
    # Registering oneself: tuteurs and cotuteurs of the territory, to a session for tuteurs.
    Check("trainings.register_someone", web("POST", lambda s: f"/formations/{s.tutor_session_id}/inscriptions"),
          lambda place: {f"tuteur.{place}", f"cotuteur.{place}"}),
    # Registering the place's volunteer: its school's staff and the organiser.
    Check("trainings.register_someone", web("POST", lambda s: f"/formations/{s.training_session_id}/inscriptions",
                                            lambda s: {"mission_id": s.unregistered()}),
          lambda place: school(place) | {f"gestionnaire.udogec{PLACES[place]['department']}"}),
    Check("trainings.cancel_registration",
          web("POST", lambda s: f"/formations/{s.training_session_id}/inscriptions/{s.registration()}/annulation"),
          lambda place: school(place) | {f"gestionnaire.udogec{PLACES[place]['department']}"}),
    Check("trainings.attendance", web("POST", lambda s: f"/formations/{s.training_session_id}/presences"),
          lambda place: {f"gestionnaire.udogec{PLACES[place]['department']}"}),
    Check("trainings.tracking", web("GET", lambda s: "/formations/suivi"), monitors),
    *[Check("missions.end", web(method, lambda s: f"/dossiers/{s.follow_up_id}/places/1/fin", lambda s: {}),
            lambda place: {f"referent.{place}", f"gestionnaire.udogec{PLACES[place]['department']}"})
      for method in ("GET", "POST")],
]


class Agent:
    """One actor: a logged-in browser session and an API token (none when anonymous)."""

    def __init__(self, app, session, login: str | None):
        self.login = login
        self.web = app.test_client()
        self.api = app.test_client()
        self.headers = {}
        if login is not None:
            person = session.scalar(select(Person).where(Person.login == login))
            session_id, _record = open_web_session(session, person, datetime.now(), settings_of(app).session_limits(),
                                                   via="password")
            with self.web.session_transaction() as cookie:
                cookie["_user_id"] = str(person.id)
                cookie["_fresh"] = True
                cookie[SESSION_ID] = session_id
            self.headers = {"Authorization": f"Bearer {issue_token(session, person, datetime.now())[0]}"}

    def login_outcome(self) -> str:
        """Ask a token with this actor's password (a wrong one when anonymous)."""
        from engine.demo.directory import DEMO_PASSWORD

        body = {"login": self.login or "referent.rennes", "password": DEMO_PASSWORD if self.login else "faux"}
        return api_outcome(self.api.post("/api/v1/auth/token", json=body))


@pytest.fixture(scope="module")
def world(database_url, db_engine, tmp_path_factory):
    """Targets of both places, and a way to get fresh agents (logging out or revoking ends one).

    Built once for the module: what the checks change (a new project, a relaunch) leaves every target as it
    was. CSRF is tested elsewhere.
    """
    from webapp import create_app

    tmp_path = tmp_path_factory.mktemp("matrix")
    factory = prepare_database(db_engine)
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "STORAGE_DIR": tmp_path / "documents",
                      "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False})
    with factory() as session:
        runtime = ProcessRuntime(session, RuntimeSettings(tmp_path / "documents"), clock=lambda: datetime(2027, 3, 15, 10, 0))
        scenarios = {place: build(runtime, session, tmp_path, place) for place in PLACES}
        for place, scenario in scenarios.items():
            add_follow_up_targets(runtime, session, place, scenario)
            add_staged_upload(session, scenario)
        yield app, scenarios, lambda: [Agent(app, session, login) for login in ACTORS]
    app.extensions["db_engine"].dispose()


def test_every_route_of_the_app_is_in_the_matrix(world):
    endpoints = {rule.endpoint for rule in world[0].url_map.iter_rules()}
    assert endpoints == {check.endpoint for check in CHECKS}


@pytest.mark.parametrize("check", CHECKS, ids=[f"{i:02d}-{c.endpoint}" for i, c in enumerate(CHECKS)])
def test_route_allows_exactly_its_audience(world, check):
    _app, scenarios, new_agents = world
    # Actors allowed last: a start or a relaunch changes what the next allowed actor would see.
    for place, scenario in scenarios.items():
        allowed = check.allowed(place)
        for agent in sorted(new_agents(), key=lambda a: a.login in allowed):
            outcome = check.call(agent, scenario)
            if agent.login in allowed:
                expected = "allowed"
            else:
                expected = "unauthenticated" if agent.login is None else "forbidden"
            assert outcome == expected, f"{agent.login or 'anonyme'} sur {check.endpoint} ({place})"
