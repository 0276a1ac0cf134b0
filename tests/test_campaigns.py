"""Campaigns: opened and closed by a process owner, a submission deadline, reopening for one school, one project."""
from __future__ import annotations

import copy
import html
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.access import Forbidden
from engine.campaign.campaigns import (
    CampaignInvalid,
    CampaignRefused,
    ProjectExists,
    check_project_start,
    current_campaign,
    open_campaign,
    reopen_submission,
)
from engine.forms import FORM_LEVEL
from engine.models import Campaign, Establishment, ProcessInstance, PupilCount, TaskRow
from engine.runtime.runtime import FormInvalid, ProcessRuntime, RuntimeSettings

from conftest import SAMPLES, as_form, principal_of

RENNES, BREST = "0350781J", "0291652N"
TODAY = date.today()


def text(response) -> str:
    """A page's text as a reader sees it."""
    return html.unescape(response.get_data(as_text=True))


def school(session, uai: str) -> Establishment:
    """A demo establishment."""
    return session.scalar(select(Establishment).where(Establishment.uai == uai))


def deadline_passed(session) -> Campaign:
    """The demo campaign, its deadline moved to yesterday."""
    campaign = current_campaign(session)
    campaign.submission_deadline = TODAY - timedelta(days=1)
    session.commit()
    return campaign


def ready_task(session, instance_id: int, spec_id: str) -> TaskRow | None:
    """The ready task `spec_id` of an instance."""
    session.expire_all()
    return session.scalar(select(TaskRow).where(TaskRow.instance_id == instance_id, TaskRow.spec_id == spec_id,
                                                TaskRow.state == "ready"))


def new_campaign_form(**changes) -> dict:
    """The process owner's form for the 2028-2029 campaign."""
    return {"school_year": "2028-2029", "submission_deadline": (TODAY + timedelta(days=60)).isoformat(),
            "earliest_start": "2028-09-01", "latest_start": "2029-01-31", "pupil_count_year": "", **changes}


def test_a_process_owner_closes_the_campaign_then_opens_the_next(browser, session):
    browser.login("pilote")
    listing = text(browser.client.get("/administration/campagnes"))
    assert "2027-2028" in listing and "Ouverte" in listing

    refused = browser.post_form("/administration/campagnes", new_campaign_form())
    assert refused.status_code == 422
    assert "La campagne 2027-2028 est encore ouverte : fermez-la d'abord." in text(refused)

    campaign = current_campaign(session)
    closed = browser.post_form(f"/administration/campagnes/{campaign.id}/fermeture", {},
                               page="/administration/campagnes")
    assert closed.status_code == 302
    page = text(browser.client.get("/administration/campagnes"))
    assert "La campagne 2027-2028 est fermée : aucun nouveau projet ne peut y être déposé." in page
    assert "Fermée le" in page
    again = browser.post_form(f"/administration/campagnes/{campaign.id}/fermeture", {},
                              page="/administration/campagnes")
    assert "La campagne 2027-2028 est déjà fermée." in text(browser.client.get(again.headers["Location"]))

    opened = browser.post_form("/administration/campagnes", new_campaign_form())
    assert opened.status_code == 302
    assert "La campagne 2028-2029 est ouverte." in text(browser.client.get("/administration/campagnes"))
    session.expire_all()
    new = current_campaign(session)
    # No year named: each school's latest known count will be used.
    assert (new.school_year, new.pupil_count_year, new.earliest_start) == ("2028-2029", None, date(2028, 9, 1))
    assert new.opened_by_id is not None


def test_no_project_starts_while_no_campaign_is_open(browser, session):
    campaign = current_campaign(session)
    campaign.closed_at = datetime.now()
    session.commit()
    browser.login("referent.rennes")

    home = text(browser.client.get("/"))
    assert "Aucune campagne n'est ouverte pour l'instant" in home
    assert "Concevoir le projet d'accueil" not in home
    response = browser.post_form("/dossiers/demarrer/hosting_project", {"establishment_id": school(session, RENNES).id},
                                 page="/")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert ("Aucune campagne n'est ouverte : les projets d'accueil ne peuvent pas être déposés pour l'instant."
            in text(browser.client.get("/")))
    assert session.scalar(select(ProcessInstance.id)) is None


@pytest.mark.parametrize("changes, field, message", [
    ({"school_year": "2028"}, "school_year", "Année scolaire attendue sous la forme 2027-2028."),
    ({"school_year": "2028-2030"}, "school_year", "Année scolaire attendue sous la forme 2027-2028."),
    ({"submission_deadline": ""}, "submission_deadline", "Ce champ est obligatoire."),
    ({"earliest_start": "1er septembre"}, "earliest_start", "Date invalide : attendue sous la forme AAAA-MM-JJ."),
    ({"submission_deadline": "2028-09-15"}, "submission_deadline",
     "La date limite de dépôt doit précéder le début des missions."),
    ({"latest_start": "2028-08-01"}, "latest_start", "La date de début au plus tard doit suivre la date au plus tôt."),
    ({"submission_deadline": (TODAY - timedelta(days=1)).isoformat()}, "submission_deadline",
     "La date limite de dépôt est déjà passée."),
    ({"pupil_count_year": "2028"}, "pupil_count_year", "Année scolaire attendue sous la forme 2027-2028."),
    ({"school_year": "2027-2028"}, "school_year", "La campagne 2027-2028 existe déjà."),
])
def test_a_campaign_form_with_errors_opens_nothing(session, changes, field, message):
    current_campaign(session).closed_at = datetime.now()
    session.commit()
    with pytest.raises(CampaignInvalid) as invalid:
        open_campaign(session, principal_of(session, "pilote"), new_campaign_form(**changes), datetime.now())
    assert invalid.value.errors[field] == message
    assert session.scalar(select(Campaign).where(Campaign.school_year == "2028-2029")) is None


def test_only_a_process_owner_opens_a_campaign(session):
    with pytest.raises(Forbidden):
        open_campaign(session, principal_of(session, "gestionnaire.fnogec"), new_campaign_form(), datetime.now())


def test_after_the_deadline_a_school_cannot_start_its_project(browser, session):
    campaign = deadline_passed(session)
    browser.login("referent.rennes")

    home = text(browser.client.get("/"))
    assert "la date limite de dépôt des projets était le" in home
    assert "Seul votre gestionnaire peut rouvrir le dépôt pour votre établissement (voir la page Aide)." in home
    assert "Concevoir le projet d'accueil" not in home
    with pytest.raises(CampaignRefused) as refused:
        check_project_start(session, school(session, RENNES), TODAY)
    assert str(refused.value).startswith(f"La date limite de dépôt des projets de la campagne {campaign.school_year}")


def test_a_project_started_in_time_cannot_be_submitted_after_the_deadline(session, tmp_path):
    clock = datetime(2027, 3, 15, 10, 0)
    runtime = ProcessRuntime(session, RuntimeSettings(tmp_path / "documents"), clock=lambda: clock)
    campaign = current_campaign(session)
    instance = runtime.start("hosting_project", principal_of(session, "referent.rennes"),
                             establishment=school(session, RENNES), campaign=campaign.school_year)
    campaign.submission_deadline = date(2027, 3, 14)
    session.commit()
    task = ready_task(session, instance.id, "design_project")

    late = ProcessRuntime(session, RuntimeSettings(tmp_path / "documents"), clock=lambda: clock)
    with pytest.raises(FormInvalid) as refused:
        late.complete(task.id, principal_of(session, "referent.rennes"), copy.deepcopy(SAMPLES["design_project"]))

    (message,) = refused.value.errors[FORM_LEVEL]
    assert message.startswith("La date limite de dépôt des projets de la campagne 2027-2028 était le 14 mars 2027")
    assert message.endswith("sauf si votre gestionnaire le rouvre pour votre établissement. "
                            "Votre saisie est conservée.")
    assert refused.value.data["title"] == SAMPLES["design_project"]["title"]
    assert ready_task(session, instance.id, "design_project").id == task.id


def test_a_gestionnaire_reopens_submission_for_one_school_only(browser, session):
    deadline_passed(session)
    rennes, brest = school(session, RENNES), school(session, BREST)
    until = TODAY + timedelta(days=7)
    browser.login("gestionnaire.udogec35")
    page = text(browser.client.get(f"/etablissements/{rennes.id}"))
    assert "Rouvrir le dépôt du projet d'accueil" in page

    response = browser.post_form(f"/etablissements/{rennes.id}/reouverture",
                                 {"until": until.isoformat(), "reason": "Direction absente en mai"},
                                 page=f"/etablissements/{rennes.id}")
    assert response.status_code == 302
    page = text(browser.client.get(f"/etablissements/{rennes.id}"))
    assert "Le dépôt du projet d'accueil est rouvert pour Collège Saint-Joseph jusqu'au" in page
    browser.logout()

    browser.login("referent.rennes")
    home = text(browser.client.get("/"))
    assert "Dépôt rouvert par votre gestionnaire jusqu'au" in home
    started = browser.post_form("/dossiers/demarrer/hosting_project", {"establishment_id": rennes.id}, page="/")
    assert "/taches/" in started.headers["Location"]
    submitted = browser.post_form(started.headers["Location"], as_form(SAMPLES["design_project"]))
    assert submitted.status_code == 302
    browser.logout()

    with pytest.raises(CampaignRefused):
        check_project_start(session, brest, TODAY)


def test_a_gestionnaire_of_another_territory_cannot_reopen(session):
    campaign = deadline_passed(session)
    with pytest.raises(Forbidden):
        reopen_submission(session, principal_of(session, "gestionnaire.udogec29"), campaign, school(session, RENNES),
                          (TODAY + timedelta(days=7)).isoformat(), "", datetime.now())
    with pytest.raises(Forbidden):
        reopen_submission(session, principal_of(session, "referent.rennes"), campaign, school(session, RENNES),
                          (TODAY + timedelta(days=7)).isoformat(), "", datetime.now())


@pytest.mark.parametrize("until, message", [
    ("demain", "Date de fin de réouverture invalide : attendue sous la forme AAAA-MM-JJ."),
    ((TODAY - timedelta(days=2)).isoformat(), "La date de fin de réouverture est déjà passée."),
    ("2028-02-01", "La réouverture doit finir avant le 31 janvier 2028, dernière date de début des missions."),
])
def test_a_reopening_needs_a_sensible_end(session, until, message):
    campaign = deadline_passed(session)
    with pytest.raises(CampaignRefused) as refused:
        reopen_submission(session, principal_of(session, "gestionnaire.udogec35"), campaign, school(session, RENNES),
                          until, "", datetime.now())
    assert str(refused.value) == message


def test_a_school_has_one_project_per_campaign(browser, session):
    rennes = school(session, RENNES)
    browser.login("referent.rennes")
    first = browser.post_form("/dossiers/demarrer/hosting_project", {"establishment_id": rennes.id}, page="/")
    assert "/taches/" in first.headers["Location"]

    second = browser.post_form("/dossiers/demarrer/hosting_project", {"establishment_id": rennes.id}, page="/")

    (instance,) = session.scalars(select(ProcessInstance).where(ProcessInstance.establishment_id == rennes.id))
    assert second.headers["Location"] == f"/dossiers/{instance.id}"
    existing = text(browser.client.get(second.headers["Location"]))
    assert "Un projet d'accueil existe déjà pour cette campagne." in existing
    home = text(browser.client.get("/"))
    assert "Concevoir le projet d'accueil" not in home


def test_a_refused_project_still_counts_but_a_terminated_one_does_not(session, runtime):
    rennes = school(session, RENNES)
    campaign = current_campaign(session)
    instance = runtime.start("hosting_project", principal_of(session, "referent.rennes"), establishment=rennes,
                             campaign=campaign.school_year)
    runtime.complete(ready_task(session, instance.id, "design_project").id, principal_of(session, "referent.rennes"),
                     copy.deepcopy(SAMPLES["design_project"]))
    runtime.complete(ready_task(session, instance.id, "review_project").id,
                     principal_of(session, "gestionnaire.udogec35"),
                     {"decision": "refuse", "comment": "Mission trop proche d'un emploi de surveillant."})
    session.refresh(instance)
    assert instance.status == "refused"
    with pytest.raises(ProjectExists):
        check_project_start(session, rennes, date(2027, 3, 15))

    instance.status = "terminated"
    session.commit()
    assert check_project_start(session, rennes, date(2027, 3, 15)).school_year == campaign.school_year


def test_a_campaign_requiring_a_year_reads_the_pupil_count_of_that_year(session, runtime, browser):
    rennes = school(session, RENNES)
    campaign = current_campaign(session)
    campaign.pupil_count_year = campaign.school_year
    # The directory moved on to the next year with a larger count; the campaign's year had 240 pupils.
    session.add(PupilCount(establishment_id=rennes.id, school_year=campaign.pupil_count_year, pupil_count=240))
    rennes.pupil_count, rennes.pupil_count_year = 610, "2028-2029"
    session.commit()
    browser.login("referent.rennes")
    home = text(browser.client.get("/"))
    assert "240 élèves (année scolaire 2027-2028) — quota : 1 volontaire" in home
    assert "Dossier de l'établissement complet." in home

    instance = runtime.start("hosting_project", principal_of(session, "referent.rennes"), establishment=rennes,
                             campaign=campaign.school_year)
    with pytest.raises(FormInvalid) as refused:
        runtime.complete(ready_task(session, instance.id, "design_project").id,
                         principal_of(session, "referent.rennes"),
                         {**copy.deepcopy(SAMPLES["design_project"]), "places_requested": 2})
    assert refused.value.errors["places_requested"] == [
        "Avec 240 élèves, le quota de l'établissement est de 1 volontaire : vous ne pouvez pas demander 2 places."]


def test_a_count_of_another_year_than_the_one_required_must_be_updated_before_submitting(session, browser):
    rennes = school(session, RENNES)
    rennes.pupil_count_year = "2026-2027"
    current_campaign(session).pupil_count_year = "2027-2028"
    session.commit()
    browser.login("referent.rennes")

    home = text(browser.client.get("/"))

    assert ("Effectif d'élèves à la rentrée : à mettre à jour (effectif de l'année 2026-2027, la campagne retient "
            "l'année 2027-2028)") in home
    assert "240 élèves (année scolaire 2026-2027)" in home
    assert "quota :" not in home
    page = text(browser.client.get(f"/etablissements/{rennes.id}"))
    assert "240 élèves (rentrée 2026)" in page


def test_by_default_the_latest_known_count_is_used_with_its_year(session, browser):
    rennes = school(session, RENNES)
    rennes.pupil_count, rennes.pupil_count_year = 240, "2026-2027"
    assert current_campaign(session).pupil_count_year is None
    session.commit()
    browser.login("referent.rennes")
    home = text(browser.client.get("/"))
    assert "à mettre à jour" not in home
    assert "240 élèves (année scolaire 2026-2027) — quota : 1 volontaire" in home
    assert "Dossier de l'établissement complet." in home
