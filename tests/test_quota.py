"""Volunteer quota: volunteer_quota.dmn decides from the pupil count (threshold 300); more places are refused."""
from __future__ import annotations

import copy
import html

import pytest
from sqlalchemy import select

from engine.models import Establishment, TaskRow
from engine.runtime.decisions import volunteer_quota
from engine.runtime.runtime import FormInvalid

from conftest import SAMPLES, principal_of

RENNES = "0350781J"


def sample(name: str, **changes) -> dict:
    """A valid submission of a form, with some fields changed."""
    return {**copy.deepcopy(SAMPLES[name]), **changes}


def rennes(session) -> Establishment:
    """The demo school of Rennes (240 pupils)."""
    return session.scalar(select(Establishment).where(Establishment.uai == RENNES))


def ready_task(session, instance_id: int, spec_id: str) -> TaskRow:
    """The ready task `spec_id` of an instance."""
    session.expire_all()
    return session.scalar(select(TaskRow).where(TaskRow.instance_id == instance_id, TaskRow.spec_id == spec_id,
                                                TaskRow.state == "ready"))


def project_with(runtime, session, pupils: int):
    """The Rennes project, its school counting `pupils` pupils this campaign."""
    school = rennes(session)
    school.pupil_count = pupils
    session.commit()
    return runtime.start("hosting_project", principal_of(session, "referent.rennes"), establishment=school,
                         campaign=school.pupil_count_year)


@pytest.mark.parametrize("pupils, quota", [(1, 1), (240, 1), (299, 1), (300, 2), (301, 2), (820, 2), (2400, 2)])
def test_the_deployed_table_gives_one_volunteer_below_300_pupils_and_two_from_300(session, pupils, quota):
    assert volunteer_quota(session, pupils) == quota


def test_without_a_pupil_count_there_is_no_quota(session):
    assert volunteer_quota(session, None) is None


@pytest.mark.parametrize("pupils, allowed", [(299, 1), (300, 2), (301, 2)])
def test_a_project_may_ask_for_up_to_its_quota(runtime, session, pupils, allowed):
    instance = project_with(runtime, session, pupils)
    task = ready_task(session, instance.id, "design_project")

    runtime.complete(task.id, principal_of(session, "referent.rennes"),
                     sample("design_project", places_requested=allowed))

    review = ready_task(session, instance.id, "review_project")
    workflow = runtime.load(review.instance).workflow
    (task,) = [t for t in workflow.get_tasks(manual=True) if str(t.id) == review.id]
    assert task.data["quota"] == allowed
    assert task.data["school_file"]["pupil_count"] == pupils


@pytest.mark.parametrize("pupils, quota, asked", [(299, 1, 2), (300, 2, 3), (301, 2, 3), (120, 1, 2)])
def test_asking_for_more_places_than_the_quota_is_refused_with_a_clear_message(runtime, session, pupils, quota,
                                                                               asked):
    instance = project_with(runtime, session, pupils)
    task = ready_task(session, instance.id, "design_project")

    with pytest.raises(FormInvalid) as refused:
        runtime.complete(task.id, principal_of(session, "referent.rennes"),
                         sample("design_project", places_requested=asked))

    volunteers = "volontaire" if quota == 1 else "volontaires"
    assert refused.value.errors["places_requested"] == [
        f"Avec {pupils} élèves, le quota de l'établissement est de {quota} {volunteers} : "
        f"vous ne pouvez pas demander {asked} places."]
    assert ready_task(session, instance.id, "design_project").id == task.id


@pytest.mark.parametrize("pupils, quota, granted", [(299, 1, 2), (300, 2, 3)])
def test_the_gestionnaire_cannot_grant_more_places_than_the_quota(runtime, session, pupils, quota, granted):
    instance = project_with(runtime, session, pupils)
    runtime.complete(ready_task(session, instance.id, "design_project").id, principal_of(session, "referent.rennes"),
                     sample("design_project", places_requested=1))
    review = ready_task(session, instance.id, "review_project")

    with pytest.raises(FormInvalid) as refused:
        runtime.complete(review.id, principal_of(session, "gestionnaire.udogec35"),
                         sample("review_project", places_granted=granted))

    volunteers = "volontaire" if quota == 1 else "volontaires"
    assert refused.value.errors["places_granted"] == [
        f"Le quota de cet établissement est de {quota} {volunteers} : vous ne pouvez pas accorder {granted} places."]


def test_the_home_page_shows_the_quota_and_the_refusal_keeps_what_was_typed(browser, session):
    school = rennes(session)
    browser.login("referent.rennes")
    home = html.unescape(browser.client.get("/").get_data(as_text=True))
    assert "240 élèves (année scolaire " in home and "quota : 1 volontaire" in home
    started = browser.post_form("/dossiers/demarrer/hosting_project", {"establishment_id": school.id}, page="/")
    task_path = started.headers["Location"]
    typed = {**{k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in SAMPLES["design_project"].items()},
             "places_requested": "2", "title": "Aide aux devoirs et jardin partagé"}

    response = browser.post_form(task_path, typed)

    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Avec 240 élèves, le quota de l'établissement est de 1 volontaire : vous ne pouvez pas demander 2 places." \
        in page
    assert 'value="Aide aux devoirs et jardin partagé"' in page
