"""Eligibility of the selected volunteer and of the mission terms (step 5).

Every rule gives a French message on the field to correct. The numbers come
from `handlers.rules.ELIGIBILITY` and the campaign's mission start window from
the instance's campaign; none is written here.
"""
from __future__ import annotations

import calendar
from datetime import date, timedelta

from handlers.context import HandlerContext
from handlers.formats import date_fr
from handlers.rules import ELIGIBILITY

Problem = tuple[str, str]
# What the contract states of a minor's legal representative (field, what to ask for): identity, address, contact.
GUARDIAN_FIELDS = (("guardian_name", "le nom"), ("guardian_address", "l'adresse"),
                   ("guardian_postal_code", "le code postal"), ("guardian_city", "la commune"),
                   ("guardian_phone", "le téléphone"))


def age_on(birth: date, day: date) -> int:
    """Age in whole years on a given day."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def birthday(birth: date, years: int) -> date:
    """The day someone turns `years` (a 29 February birthday falls on 1 March in other years)."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return date(birth.year + years, 3, 1)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the last day of that month when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def mission_end_bounds(start: date) -> tuple[date, date]:
    """Earliest and latest last day of a mission starting on `start` (6 to 12 months by default)."""
    one_day = timedelta(days=1)
    return (add_months(start, ELIGIBILITY["min_duration_months"]) - one_day,
            add_months(start, ELIGIBILITY["max_duration_months"]) - one_day)


def _dates(volunteer: dict) -> tuple[date, date, date] | list[Problem]:
    problems, parsed = [], {}
    for name, label in (("birth_date", "la date de naissance"), ("start_date", "le début de mission"),
                        ("end_date", "la fin de mission")):
        try:
            parsed[name] = date.fromisoformat(volunteer[name])
        except (KeyError, TypeError, ValueError):
            problems.append((name, f"Indiquez {label}."))
    return problems or (parsed["birth_date"], parsed["start_date"], parsed["end_date"])


def age_problems(volunteer: dict, birth: date, start: date) -> list[Problem]:
    """The age rule on the first day of the mission (16 to 25, 30 with a recognised disability)."""
    age = age_on(birth, start)
    minimum = ELIGIBILITY["min_age"]
    if age < minimum:
        return [("birth_date", f"Le volontaire aura {age} ans le {date_fr(start)}, premier jour de la mission : "
                               f"il faut avoir au moins {minimum} ans. La mission peut commencer au plus tôt le "
                               f"{date_fr(birthday(birth, minimum))}.")]
    disability = bool(volunteer.get("disability"))
    maximum = ELIGIBILITY["max_age_with_disability" if disability else "max_age"]
    if age > maximum:
        limit = birthday(birth, maximum + 1) - timedelta(days=1)
        other = ("" if disability else f" ; jusqu'à la veille de ses {ELIGIBILITY['max_age_with_disability'] + 1} ans "
                                       "avec une reconnaissance de handicap")
        return [("birth_date", f"Le volontaire aura {age} ans le {date_fr(start)}, premier jour de la mission : "
                               f"l'engagement doit commencer au plus tard la veille de ses {maximum + 1} ans, le "
                               f"{date_fr(limit)}{other}.")]
    return []


def duration_problems(start: date, end: date) -> list[Problem]:
    """The length rule of a mission (6 to 12 months, continuous)."""
    if end <= start:
        return [("end_date", "La fin de mission doit être postérieure à son début.")]
    earliest, latest = mission_end_bounds(start)
    if end < earliest:
        return [("end_date", f"La mission dure au moins {ELIGIBILITY['min_duration_months']} mois : commencée le "
                             f"{date_fr(start)}, elle finit au plus tôt le {date_fr(earliest)}.")]
    if end > latest:
        return [("end_date", f"La mission dure au plus {ELIGIBILITY['max_duration_months']} mois, sans "
                             f"interruption : commencée le {date_fr(start)}, elle finit au plus tard le "
                             f"{date_fr(latest)}.")]
    return []


def hours_problems(volunteer: dict, age: int) -> list[Problem]:
    """The weekly hours rule at a given age on the first day (24 to 48, at most 35 for a minor)."""
    hours = volunteer.get("weekly_hours")
    if not isinstance(hours, int) or isinstance(hours, bool):
        return [("weekly_hours", "Indiquez la durée hebdomadaire de la mission, en heures.")]
    low = ELIGIBILITY["min_weekly_hours"]
    minor = age < ELIGIBILITY["adult_age"]
    high = ELIGIBILITY["max_weekly_hours_minor" if minor else "max_weekly_hours"]
    if low <= hours <= high:
        return []
    who = f"Pour un volontaire mineur ({age} ans au début de la mission), la" if minor else "La"
    return [("weekly_hours", f"{who} durée hebdomadaire est comprise entre {low} et {high} heures "
                             f"({hours} heures indiquées).")]


def campaign_problems(campaign: dict | None, start: date) -> list[Problem]:
    """The start date within the campaign's window (no rule when the campaign is unknown)."""
    if not campaign:
        return []
    earliest, latest = date.fromisoformat(campaign["earliest_start"]), date.fromisoformat(campaign["latest_start"])
    if earliest <= start <= latest:
        return []
    return [("start_date", f"Dans la campagne {campaign['school_year']}, les missions commencent entre le "
                           f"{date_fr(earliest)} et le {date_fr(latest)}.")]


def _situation(volunteer: dict, age: int) -> list[Problem]:
    problems = []
    status = volunteer.get("nationality_status")
    if status is not None and status not in ELIGIBILITY["eligible_nationality_statuses"]:
        problems.append(("nationality_status", "Le Service Civique est ouvert aux ressortissants français, de "
                         "l'Union européenne ou de l'Espace économique européen, et aux étrangers titulaires d'un "
                         "titre de séjour depuis plus d'un an, d'un titre étudiant, réfugié ou de protection "
                         "subsidiaire, ou d'une carte de résident pluriannuelle : dans une autre situation, le "
                         "volontaire ne peut pas être engagé."))
    if age < ELIGIBILITY["adult_age"]:
        for name, what in GUARDIAN_FIELDS:
            if not volunteer.get(name):
                problems.append((name, f"Le volontaire sera mineur au début de la mission : indiquez {what} de son "
                                       "représentant légal, qui signe aussi le contrat."))
    if volunteer.get("never_served") is not True:
        problems.append(("never_served", "Le volontaire doit déclarer n'avoir jamais effectué de Service Civique : "
                                         "un engagement de Service Civique ne peut être accompli qu'une fois, même "
                                         "interrompu avant son terme."))
    if volunteer.get("social_criteria") not in (None, "none", False) and not volunteer.get("social_criteria_proof"):
        problems.append(("social_criteria_proof", "Joignez le justificatif des critères sociaux : attestation de "
                         "bourse de l'année (échelon 5 ou plus) ou attestation RSA de moins de 3 mois."))
    return problems


def _tutors(volunteer: dict, tutors: list[dict]) -> list[Problem]:
    by_login = {tutor["login"]: tutor for tutor in tutors}
    problems = []
    for name, label in (("tutor", "tuteur"), ("cotutor", "cotuteur")):
        login = volunteer.get(name)
        if not login:
            if name == "tutor":
                problems.append((name, "Choisissez le tuteur du volontaire parmi les tuteurs et cotuteurs de "
                                       "l'établissement."))
            continue
        person = by_login.get(login)
        if person is None:
            problems.append((name, f"Cette personne n'est pas {label} de l'établissement dans l'annuaire."))
        elif not person.get("email") or not person.get("phone") or not person.get("eligible", True):
            reason = person.get("reason") or "adresse électronique ou téléphone manquant dans Isidoor"
            problems.append((name, f"{person['name']} ne peut pas encore être {label} : {reason}."))
    if volunteer.get("cotutor") and volunteer.get("cotutor") == volunteer.get("tutor"):
        problems.append(("cotutor", "Le cotuteur doit être une autre personne que le tuteur."))
    return problems


def _other_contracts(volunteer: dict, contracts, place: int | None) -> list[Problem]:
    if contracts is None:
        return []
    others = contracts.engagements_for(volunteer.get("first_name", ""), volunteer.get("last_name", ""),
                                       volunteer["birth_date"], place)
    if not others:
        return []
    other = others[0]
    where = f"{other['school']}, " if other.get("school") else ""
    when = "terminé" if other.get("ended") else "en cours"
    return [("last_name", f"{volunteer.get('first_name', '')} {volunteer.get('last_name', '')} a déjà signé un "
                          f"engagement de Service Civique ({where}du {date_fr(other['start_date'])} au "
                          f"{date_fr(other['end_date'])}, {when}) : on ne peut accomplir qu'un seul Service Civique "
                          "dans sa vie, même interrompu.")]


def eligibility_problems(volunteer: dict, context: HandlerContext, establishment_id: int | None,
                         place: int | None = None) -> list[Problem]:
    """(field, French message) for each rule the volunteer file breaks, in the order of the form."""
    parsed = _dates(volunteer)
    if isinstance(parsed, list):
        return parsed
    birth, start, end = parsed
    age = age_on(birth, start)
    problems = [*age_problems(volunteer, birth, start), *_situation(volunteer, age), *campaign_problems(context.campaign, start),
                *duration_problems(start, end), *hours_problems(volunteer, age)]
    if establishment_id is not None:
        problems += _tutors(volunteer, context.directory.tutors(establishment_id))
    return problems + _other_contracts(volunteer, context.contracts, place)


def check_eligibility(context: HandlerContext, volunteer: dict, establishment_id: int | None = None) -> dict:
    """Service task: whether the volunteer and mission terms meet the Service Civique rules."""
    problems = eligibility_problems(volunteer, context, establishment_id)
    return {"eligible": not problems, "problems": [{"field": f, "message": m} for f, m in problems]}


def volunteer_file_rules(context: HandlerContext, form_data: dict, task_data: dict) -> list[Problem]:
    """Rules of the volunteer file form: refuse an ineligible file before it is submitted, saying why."""
    place = task_data.get("place")
    return eligibility_problems(form_data, context, task_data.get("establishment_id"),
                                place.get("number") if isinstance(place, dict) else None)
