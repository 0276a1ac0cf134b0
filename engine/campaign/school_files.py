"""What a school's people see of its file: completeness for the campaign, quota, project, who fixes what."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Forbidden, Principal, can_name_referent, can_reopen_submission, can_start
from engine.campaign.campaigns import deadline_message, reopening_of, submission_open
from engine.directory.contacts import school_file_helpers
from engine.directory.lookups import profile_problems, school_file, tutor_statuses
from engine.errors import Refusal, rolls_back
from engine.models import Campaign, Establishment, Person, RoleAssignment
from engine.runtime.catalogue import Catalogue, current_catalogue
from engine.runtime.decisions import volunteer_quota
from engine.views.queries import live_projects
from handlers.school_file import pupil_count_for, school_file_problems


class NamingRefused(Refusal):
    """A référent cannot be named; the message says why, in French."""

    status = 422


def file_status(session: Session, establishment: Establishment, campaign: Campaign | None) -> dict:
    """Problems of a school file for a campaign, the pupil count it reads, its volunteer quota, who helps fix it."""
    year = campaign.pupil_count_year if campaign is not None else None
    file = school_file(session, establishment)
    problems = school_file_problems(file, year)
    pupils, pupils_year = pupil_count_for(file, year)
    return {
        "problems": problems,
        "complete": not problems,
        "pupil_count": pupils,
        "pupil_count_year": pupils_year,
        # A count of another year than the one a campaign requires gives no quota: it must be updated first.
        "quota": volunteer_quota(session, pupils) if year is None or pupils_year == year else None,
        "helpers": school_file_helpers(session, establishment.department),
    }


def school_cards(session: Session, principal: Principal, campaign: Campaign | None, today: date,
                 catalogue: Catalogue | None = None) -> list[dict]:
    """The schools where a person holds a role, with their file, their project and whether one can start.

    Who may start the project is the catalogue's word (`startableBy` of the campaign process), never a role
    written here: `may_start` and `blocked` only concern those the catalogue lets start it about the school."""
    cards = []
    entry = (catalogue if catalogue is not None else current_catalogue(session)).campaign_process
    referent_of = principal.establishments.get("referent", set())
    projects = (live_projects(session, principal.all_establishments, [campaign.school_year])
                if campaign is not None else {})
    for establishment in session.scalars(select(Establishment).where(Establishment.id.in_(principal.all_establishments))
                                         .order_by(Establishment.name)):
        project = projects.get((establishment.id, campaign.school_year)) if campaign is not None else None
        blocked = None
        if campaign is None:
            blocked = "Aucune campagne n'est ouverte : le projet d'accueil ne peut pas être démarré pour l'instant."
        elif project is None and not submission_open(session, campaign, establishment.id, today):
            blocked = deadline_message(campaign)
        reopening = reopening_of(session, campaign, establishment.id) if campaign is not None else None
        starter = can_start(principal, entry, establishment, None)
        cards.append({
            "establishment": establishment,
            **file_status(session, establishment, campaign),
            "project": project,
            "is_referent": establishment.id in referent_of,
            "may_start": starter and project is None and blocked is None,
            "blocked": blocked if starter and project is None else None,
            "reopened_until": reopening.until if reopening is not None and reopening.until >= today else None,
        })
    return cards


def establishment_page(session: Session, principal: Principal, establishment: Establishment,
                       campaign: Campaign | None, today: date) -> dict:
    """Everything the school file page shows: file, the other schools of its OGEC, people and their status, and
    what the viewer may do."""
    people = session.execute(
        select(Person, RoleAssignment).join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(RoleAssignment.establishment_id == establishment.id, Person.active.is_(True))
        .order_by(Person.last_name, Person.first_name, RoleAssignment.role)
    ).all()
    referents = {person.id for person, assignment in people if assignment.role == "referent"}
    reopening = reopening_of(session, campaign, establishment.id) if campaign is not None else None
    sister_schools = (list(session.scalars(select(Establishment).where(
        Establishment.ogec_id == establishment.ogec_id, Establishment.id != establishment.id)
        .order_by(Establishment.name))) if establishment.ogec_id is not None else [])
    return {
        **file_status(session, establishment, campaign),
        "sister_schools": sister_schools,
        "people": [{"person": person, "assignment": assignment, "problems": profile_problems(person)}
                   for person, assignment in people],
        "tutors": tutor_statuses(session, establishment.id),
        "may_name_referent": can_name_referent(principal, establishment),
        "referent_candidates": sorted({person for person, _ in people if person.id not in referents},
                                      key=lambda p: (p.last_name, p.first_name)),
        "may_reopen": (campaign is not None and campaign.is_open and can_reopen_submission(principal, establishment)
                       and today > campaign.submission_deadline),
        "reopening": reopening,
    }


@rolls_back
def name_referent(session: Session, principal: Principal, establishment: Establishment, person_id: int,
                  now: datetime) -> Person:
    """A référent names another person of the school référent; the directory import never withdraws it. Commit."""
    if not can_name_referent(principal, establishment):
        raise Forbidden("Seuls les référents de l'établissement peuvent nommer un autre référent.")
    person = session.get(Person, person_id)
    roles = [a for a in (person.roles if person is not None else []) if a.establishment_id == establishment.id]
    if person is None or not person.active or not roles:
        raise NamingRefused("Cette personne n'appartient pas à l'établissement dans l'annuaire.")
    if any(a.role == "referent" for a in roles):
        raise NamingRefused(f"{person.full_name} a déjà le rôle de référent de l'établissement.")
    session.add(RoleAssignment(person_id=person.id, role="referent", establishment_id=establishment.id,
                               source="platform", synced_at=now))
    session.commit()
    return person
