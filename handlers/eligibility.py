"""Eligibility of the selected volunteer and of the mission terms."""
from __future__ import annotations

from datetime import date

from handlers.context import HandlerContext
from handlers.rules import ELIGIBILITY


def age_on(birth: date, day: date) -> int:
    """Age in whole years on a given day."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def months_between(start: date, end: date) -> float:
    """Length of a mission in months, counting a partial month by its days."""
    return (end.year - start.year) * 12 + (end.month - start.month) + (end.day - start.day + 1) / 30.0


def eligibility_problems(volunteer: dict, contracts=None) -> list[tuple[str, str]]:
    """(field, French message) for each rule the volunteer file breaks."""
    rules = ELIGIBILITY
    problems: list[tuple[str, str]] = []
    try:
        birth = date.fromisoformat(volunteer["birth_date"])
        start = date.fromisoformat(volunteer["start_date"])
        end = date.fromisoformat(volunteer["end_date"])
    except (KeyError, ValueError):
        return [("birth_date", "Dates de naissance, de début et de fin de mission nécessaires.")]
    age = age_on(birth, start)
    max_age = rules["max_age_with_disability"] if volunteer.get("disability") else rules["max_age"]
    if age < rules["min_age"]:
        problems.append(("birth_date", f"Le volontaire aura {age} ans au début de la mission : "
                                       f"il faut avoir au moins {rules['min_age']} ans."))
    elif age > max_age:
        problems.append(("birth_date", f"Le volontaire aura {age} ans au début de la mission : "
                                       f"l'âge maximal est de {max_age} ans"
                                       + ("." if volunteer.get("disability") else
                                          f" ({rules['max_age_with_disability']} ans avec une reconnaissance de handicap).")))
    if end <= start:
        problems.append(("end_date", "La fin de mission doit être postérieure à son début."))
    else:
        months = months_between(start, end)
        if months < rules["min_duration_months"] - 0.01:
            problems.append(("end_date", f"La mission doit durer au moins {rules['min_duration_months']} mois."))
        elif months > rules["max_duration_months"] + 0.01:
            problems.append(("end_date", f"La mission ne peut pas dépasser {rules['max_duration_months']} mois."))
    hours = volunteer.get("weekly_hours")
    if isinstance(hours, int):
        high = rules["max_weekly_hours_minor"] if age < 18 else rules["max_weekly_hours"]
        if not rules["min_weekly_hours"] <= hours <= high:
            problems.append(("weekly_hours", f"La durée hebdomadaire doit être comprise entre "
                                             f"{rules['min_weekly_hours']} et {high} heures"
                                             + (" pour un volontaire mineur." if age < 18 else ".")))
    if contracts is not None:
        others = contracts.active_for(volunteer.get("first_name", ""), volunteer.get("last_name", ""),
                                      volunteer["birth_date"])
        if others:
            problems.append(("last_name", "Ce volontaire a déjà un contrat de Service Civique en cours : "
                                          "on ne peut accomplir qu'un seul Service Civique."))
    return problems


def check_eligibility(context: HandlerContext, volunteer: dict) -> dict:
    """Service task: whether the volunteer and mission terms meet the Service Civique rules."""
    problems = eligibility_problems(volunteer, context.contracts)
    return {"eligible": not problems, "problems": [{"field": f, "message": m} for f, m in problems]}


def volunteer_file_rules(context: HandlerContext, form_data: dict, task_data: dict) -> list[tuple]:
    """Rule of the volunteer file form: refuse an ineligible file before it is submitted."""
    return eligibility_problems(form_data, context.contracts)
