"""Campaigns: opened and closed by process owners, one hosting project per school, a submission deadline.

A campaign is the school year of the missions (2027-2028: missions from
1 September 2027 to 31 August 2028). One campaign is open at a time; référents
start their school's hosting project in it until the submission deadline, after
which only a reopening granted by a gestionnaire of the school's territory lets
them submit. Rules live here so that the web pages and the API say the same thing.

Two campaigns live at once: the one *in progress*, whose school year contains
today (its volunteers are in mission), and the one *in preparation*, open for a
later school year (its hosting projects are designed and reviewed). Closing a
campaign only stops new projects; its instances go on.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Forbidden, Principal, can_reopen_submission, require_process_owner
from engine.errors import FieldError, Refusal, StartRefused, rolls_back
from engine.models import Campaign, CampaignReopening, Establishment, ProcessInstance, Structure
from engine.runtime.catalogue import ProcessEntry, current_catalogue
from engine.views.queries import live_instance
from handlers.formats import date_fr
from handlers.identifiers import school_year_problem


class CampaignRefused(Refusal):
    """An action on a campaign is not possible now; the message says why, in French."""

    status = 409


class ProjectExists(CampaignRefused):
    """The subject already has an instance of this campaign process in this campaign (a school's hosting project,
    when `label` is None)."""

    def __init__(self, instance: ProcessInstance, label: str | None = None):
        super().__init__("Un projet d'accueil existe déjà pour cette campagne." if label is None
                         else f"« {label} » : un dossier existe déjà pour cette campagne.")
        self.instance = instance


class CampaignInvalid(Refusal):
    """The campaign form has errors: one French message by field."""

    status = 422
    default_message = "Le formulaire contient des erreurs."

    def __init__(self, errors: dict[str, str]):
        super().__init__()
        self.errors = errors

    def details(self) -> list[FieldError]:
        """One entry per field in error."""
        return [{"field": name, "message": message} for name, message in self.errors.items()]


def current_campaign(session: Session) -> Campaign | None:
    """The open campaign, in which new hosting projects start."""
    return session.scalar(select(Campaign).where(Campaign.closed_at.is_(None))
                          .order_by(Campaign.school_year.desc()).limit(1))


def campaign_of_year(session: Session, school_year: str | None) -> Campaign | None:
    """The campaign of a school year, open or closed."""
    if not school_year:
        return None
    return session.scalar(select(Campaign).where(Campaign.school_year == school_year))


def all_campaigns(session: Session) -> list[Campaign]:
    """Every campaign, the most recent first."""
    return list(session.scalars(select(Campaign).order_by(Campaign.school_year.desc())))


def school_year_of(day: date) -> str:
    """The school year a day belongs to: from 1 September 2026 to 31 August 2027, "2026-2027"."""
    first = day.year if day.month >= 9 else day.year - 1
    return f"{first}-{first + 1}"


def school_year_bounds(school_year: str) -> tuple[date, date]:
    """First and last day of a school year's missions: 1 September and 31 August."""
    first = int(school_year[:4])
    return date(first, 9, 1), date(first + 1, 8, 31)


def previous_school_year(school_year: str) -> str:
    """The school year before: "2026-2027" for "2027-2028"."""
    first = int(school_year[:4]) - 1
    return f"{first}-{first + 1}"


def campaign_in_progress(session: Session, today: date) -> Campaign | None:
    """The campaign whose school year contains today, open or closed: its volunteers are in mission."""
    return campaign_of_year(session, school_year_of(today))


def campaign_in_preparation(session: Session, today: date | None = None) -> Campaign | None:
    """The open campaign of a school year after today's, in which new hosting projects start; None when the open
    campaign (if any) is the one in progress. `today` defaults to the real date."""
    later = school_year_of(today or date.today())
    return session.scalar(select(Campaign).where(Campaign.closed_at.is_(None), Campaign.school_year > later)
                          .order_by(Campaign.school_year.desc()).limit(1))


PHASES = {"in_progress": "en cours", "in_preparation": "en préparation"}


@dataclass(frozen=True)
class CampaignInView:
    """A campaign as the pages name it today: in progress or in preparation, with its key dates."""

    campaign: Campaign
    phase: str

    @property
    def school_year(self) -> str:
        """The campaign's school year, "2026-2027"."""
        return self.campaign.school_year

    @property
    def phase_label(self) -> str:
        """« en cours » or « en préparation »."""
        return PHASES[self.phase]

    @property
    def label(self) -> str:
        """« Campagne 2026-2027 (en cours) »."""
        return f"Campagne {self.school_year} ({self.phase_label})"

    @property
    def missions_from(self) -> date:
        """First day of the school year of the missions."""
        return school_year_bounds(self.school_year)[0]

    @property
    def missions_to(self) -> date:
        """Last day of the school year of the missions."""
        return school_year_bounds(self.school_year)[1]


def in_view(campaigns: Iterable[Campaign], today: date) -> list[CampaignInView]:
    """Among campaigns, the one in progress then the one in preparation (each when there is one)."""
    campaigns, current = list(campaigns), school_year_of(today)
    found = [CampaignInView(c, "in_progress") for c in campaigns if c.school_year == current][:1]
    later = sorted((c for c in campaigns if c.closed_at is None and c.school_year > current),
                   key=lambda c: c.school_year)
    if later:
        found.append(CampaignInView(later[-1], "in_preparation"))
    return found


def campaigns_in_view(session: Session, today: date) -> list[CampaignInView]:
    """The campaign in progress then the campaign in preparation, those that exist, in one statement."""
    return in_view(session.scalars(select(Campaign).where(Campaign.school_year >= school_year_of(today))), today)


def phase_labels(campaigns: Iterable[Campaign], today: date) -> dict[str, str]:
    """School year → « en cours » or « en préparation », for the campaigns in view among these."""
    return {view.school_year: view.phase_label for view in in_view(campaigns, today)}


# Service Civique agrément numbers read like « NA-000-19-00123-00 » (national) or « IF-075-21-00012-00 »: letters,
# digits and hyphens. The shape is only checked loosely, since the Agence has changed it over the years.
AGREEMENT_NUMBER = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)+")
AGREEMENT_PLACE = "Administration › Campagnes, « Numéro d'agrément »"


def normalized_agreement_number(text: str | None) -> str:
    """An agrément number as printed on contracts: upper case, no spaces around."""
    return (text or "").strip().upper()


def agreement_number_problem(number: str) -> str | None:
    """Why an agrément number (normalized) cannot be printed on contracts, in French, or None."""
    if not AGREEMENT_NUMBER.fullmatch(number) or not 8 <= len(number) <= 40:
        return ("Numéro d'agrément invalide : lettres, chiffres et tirets, tel qu'il figure sur la décision "
                "d'agrément (par exemple NA-000-19-00123-00).")
    return None


def _parse_date(form: dict, name: str, errors: dict) -> date | None:
    text = (form.get(name) or "").strip()
    if not text:
        errors[name] = "Ce champ est obligatoire."
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = "Date invalide : attendue sous la forme AAAA-MM-JJ."
        return None


@rolls_back
def open_campaign(session: Session, principal: Principal, form: dict, now: datetime) -> Campaign:
    """Open a campaign from the process owner's form (strings); commit; raise `CampaignInvalid` on errors."""
    require_process_owner(principal)
    errors: dict[str, str] = {}
    school_year = (form.get("school_year") or "").strip()
    if (problem := school_year_problem(school_year)) is not None:
        errors["school_year"] = problem[:1].upper() + problem[1:] + "."
    # Left empty, each school's latest known count is used: the mission year's does not exist yet in the spring.
    pupil_count_year = (form.get("pupil_count_year") or "").strip() or None
    if pupil_count_year is not None and (problem := school_year_problem(pupil_count_year)) is not None:
        errors["pupil_count_year"] = problem[:1].upper() + problem[1:] + "."
    deadline = _parse_date(form, "submission_deadline", errors)
    earliest = _parse_date(form, "earliest_start", errors)
    latest = _parse_date(form, "latest_start", errors)
    if deadline and earliest and deadline >= earliest:
        errors["submission_deadline"] = "La date limite de dépôt doit précéder le début des missions."
    if earliest and latest and earliest > latest:
        errors["latest_start"] = "La date de début au plus tard doit suivre la date au plus tôt."
    if deadline and deadline < now.date():
        errors["submission_deadline"] = "La date limite de dépôt est déjà passée."
    if not errors and campaign_of_year(session, school_year) is not None:
        errors["school_year"] = f"La campagne {school_year} existe déjà."
    current = current_campaign(session)
    if not errors and current is not None:
        errors["school_year"] = f"La campagne {current.school_year} est encore ouverte : fermez-la d'abord."
    # Optional when opening: contracts come months later, and none is generated until it is set.
    agreement_number = normalized_agreement_number(form.get("agreement_number"))
    if agreement_number and (problem := agreement_number_problem(agreement_number)) is not None:
        errors["agreement_number"] = problem
    if errors:
        raise CampaignInvalid(errors)
    campaign = Campaign(school_year=school_year, pupil_count_year=pupil_count_year, submission_deadline=deadline,
                        earliest_start=earliest, latest_start=latest, opened_at=now, opened_by_id=principal.person_id,
                        agreement_number=agreement_number or None)
    session.add(campaign)
    session.commit()
    return campaign


@rolls_back
def close_campaign(session: Session, principal: Principal, campaign: Campaign, now: datetime) -> None:
    """Close a campaign: no new project starts in it; projects under way go on. Commit."""
    require_process_owner(principal)
    if campaign.closed_at is not None:
        raise CampaignRefused(f"La campagne {campaign.school_year} est déjà fermée.")
    campaign.closed_at = now
    campaign.closed_by_id = principal.person_id
    session.commit()


@rolls_back
def set_agreement_number(session: Session, principal: Principal, campaign: Campaign, text: str) -> None:
    """Set the agrément number printed on the campaign's contracts (process owners); commit.

    Raise `CampaignInvalid` when it is missing or malformed. Contracts already generated keep the number they
    were printed with; the next version of each prints the new one.
    """
    require_process_owner(principal)
    number = normalized_agreement_number(text)
    problem = "Indiquez le numéro d'agrément." if not number else agreement_number_problem(number)
    if problem is not None:
        raise CampaignInvalid({"agreement_number": problem})
    campaign.agreement_number = number
    session.commit()


def reopening_of(session: Session, campaign: Campaign, establishment_id: int) -> CampaignReopening | None:
    """The late-submission reopening granted to a school in a campaign, if any."""
    return session.scalar(select(CampaignReopening).where(CampaignReopening.campaign_id == campaign.id,
                                                          CampaignReopening.establishment_id == establishment_id))


def submission_open(session: Session, campaign: Campaign, establishment_id: int | None, today: date) -> bool:
    """Whether a school may still submit a project in a campaign: before the deadline or while reopened."""
    if campaign.closed_at is not None:
        return False
    if today <= campaign.submission_deadline:
        return True
    reopening = reopening_of(session, campaign, establishment_id) if establishment_id else None
    return reopening is not None and today <= reopening.until


def deadline_message(campaign: Campaign) -> str:
    """Why a school cannot submit after the deadline, and who can help."""
    return (f"La date limite de dépôt des projets de la campagne {campaign.school_year} était le "
            f"{date_fr(campaign.submission_deadline)}. Seul votre gestionnaire peut rouvrir le dépôt pour votre "
            "établissement (voir la page Aide).")


@rolls_back
def reopen_submission(session: Session, principal: Principal, campaign: Campaign, establishment: Establishment,
                      until_text: str, reason: str, now: datetime) -> CampaignReopening:
    """Let one school submit after the deadline, until a date (gestionnaires of its territory); commit."""
    if not can_reopen_submission(principal, establishment):
        raise Forbidden("Seuls les gestionnaires du territoire de l'établissement peuvent rouvrir le dépôt.")
    if campaign.closed_at is not None:
        raise CampaignRefused(f"La campagne {campaign.school_year} est fermée : le dépôt ne peut plus être rouvert.")
    try:
        until = date.fromisoformat((until_text or "").strip())
    except ValueError:
        raise CampaignRefused("Date de fin de réouverture invalide : attendue sous la forme AAAA-MM-JJ.") from None
    if until < now.date():
        raise CampaignRefused("La date de fin de réouverture est déjà passée.")
    if until >= campaign.latest_start:
        raise CampaignRefused(f"La réouverture doit finir avant le {date_fr(campaign.latest_start)}, "
                              "dernière date de début des missions.")
    reopening = reopening_of(session, campaign, establishment.id)
    if reopening is None:
        reopening = CampaignReopening(campaign_id=campaign.id, establishment_id=establishment.id)
        session.add(reopening)
    reopening.until = until
    reopening.reason = (reason or "").strip()[:300] or None
    reopening.granted_by_id = principal.person_id
    reopening.granted_at = now
    session.commit()
    return reopening


def campaign_context(session: Session, school_year: str | None, establishment_id: int | None,
                     today: date) -> dict | None:
    """What handlers know of an instance's campaign, or None when the platform has no record of it."""
    return campaign_context_of(session, campaign_of_year(session, school_year), establishment_id, today)


def campaign_context_of(session: Session, campaign: Campaign | None, establishment_id: int | None,
                        today: date) -> dict | None:
    """What handlers know of a campaign already read (None: the platform has no record of it)."""
    if campaign is None:
        return None
    return {
        "school_year": campaign.school_year,
        "pupil_count_year": campaign.pupil_count_year,
        "submission_deadline": campaign.submission_deadline.isoformat(),
        "earliest_start": campaign.earliest_start.isoformat(),
        "latest_start": campaign.latest_start.isoformat(),
        "agreement_number": campaign.agreement_number,
        "submission_open": submission_open(session, campaign, establishment_id, today),
    }


def check_campaign_start(session: Session, entry: ProcessEntry, establishment: Establishment | None,
                         structure: Structure | None, today: date) -> Campaign:
    """The campaign a new instance of a campaign process starts in; raise `CampaignRefused` when it cannot start.

    One instance per subject and campaign; the campaign process (the hosting project) also waits for the
    school's submission to be open (deadline or reopening).
    """
    main = entry.process_id == current_catalogue(session).campaign_process_id
    campaign = current_campaign(session)
    if campaign is None:
        raise CampaignRefused("Aucune campagne n'est ouverte : les projets d'accueil ne peuvent pas être "
                              "déposés pour l'instant." if main else
                              f"Aucune campagne n'est ouverte : « {entry.label} » ne peut pas être démarré.")
    # Two people starting one subject's instance at once: the row lock makes the second wait and see the first.
    if establishment is not None:
        session.scalar(select(Establishment.id).where(Establishment.id == establishment.id).with_for_update())
    elif structure is not None:
        session.scalar(select(Structure.id).where(Structure.id == structure.id).with_for_update())
    existing = live_instance(session, entry.process_id, campaign.school_year,
                             establishment.id if establishment is not None else None,
                             structure.code if structure is not None else None)
    if existing is not None:
        raise ProjectExists(existing, None if main else entry.label)
    if main and establishment is not None and not submission_open(session, campaign, establishment.id, today):
        raise CampaignRefused(deadline_message(campaign))
    return campaign


def check_project_start(session: Session, establishment: Establishment, today: date) -> Campaign:
    """The campaign a school's new hosting project (the catalogue's campaign process) starts in; raise
    `CampaignRefused` when it cannot start."""
    entry = current_catalogue(session).campaign_process
    if entry is None:
        raise StartRefused("Aucun processus de campagne par établissement n'est déployé.")
    return check_campaign_start(session, entry, establishment, None, today)
