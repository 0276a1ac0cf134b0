"""Follow-up of a volunteer's mission (step 7): its calendar, monthly reminders, early termination."""
from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta

from handlers.context import HandlerContext, HandlerError
from handlers.formats import date_fr
from handlers.rules import FOLLOW_UP

TERMINATION_LABELS = {
    "volunteer": "à l'initiative du volontaire",
    "school": "à l'initiative de l'établissement",
    "mutual": "d'un commun accord",
}
SIGNATURE = "L'équipe Service Civique de votre Ogec"


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def follow_up_calendar(start: date, end: date, rules: dict = FOLLOW_UP) -> dict:
    """Dates of a mission's follow-up, as the timer expressions of `follow_up.bpmn` read them.

    A monthly follow-up starts one month after the start and recurs while the
    contract runs (`cycle`, an ISO 8601 repeating interval); the mid-mission
    review comes halfway; the end-of-mission report some days before the end.
    """
    if end <= start:
        raise HandlerError("La fin du contrat précède son début : le suivi ne peut pas être planifié.")
    at = f"T{rules['hour_of_day']:02d}:00:00"
    first = add_months(start, 1)
    meetings = 0
    while add_months(start, meetings + 1) < end:
        meetings += 1
    middle = start + (end - start) / 2
    report = max(end - timedelta(days=rules["report_days_before_end"]), middle + timedelta(days=1))
    return {
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "meetings": max(meetings, 1),
        "first_meeting": first.isoformat(),
        "cycle": f"R{max(meetings, 1)}/{first.isoformat()}{at}/P1M",
        "mid_mission_at": middle.isoformat() + at,
        "report_at": report.isoformat() + at,
        "reminder_after": rules["reminder_after"],
    }


def plan_follow_up(context: HandlerContext, volunteer: dict, contract_terms: dict, place: dict,
                   review_structure: str | None = None) -> dict:
    """Service task: record the mission as under follow-up and plan its calendar."""
    start = date.fromisoformat(contract_terms["contract_start_date"])
    end = date.fromisoformat(contract_terms["contract_end_date"])
    calendar = follow_up_calendar(start, end)
    context.require_missions().open(place["number"], volunteer, calendar["start_date"], calendar["end_date"],
                                    review_structure)
    return calendar


def prepare_follow_up(context: HandlerContext, place: dict) -> dict:
    """Service task: what a monthly follow-up shows besides its form: the month, mandatory trainings done or not."""
    trainings = context.require_missions().mandatory_trainings(place["number"])
    return {
        "opened_on": context.today.isoformat(),
        "trainings": trainings,
        "missing": [t["label"] for t in trainings if not t["done"]],
    }


def remind_overdue_follow_up(context: HandlerContext, establishment_id: int, volunteer: dict,
                             follow_up_month: dict) -> dict:
    """Service task: one reminder to the tuteurs, cotuteurs and référents that a monthly follow-up is overdue."""
    people = context.directory.people(establishment_id, ("tuteur", "cotuteur", "referent"))
    name = f"{volunteer['first_name']} {volunteer['last_name']}"
    subject = f"Suivi mensuel en retard : {name}"
    body = (
        "Bonjour,\n\n"
        f"Le suivi mensuel de {name}, ouvert le {date_fr(follow_up_month['opened_on'])}, "
        "n'est pas encore consigné.\n"
        "Merci de le renseigner dès que possible sur la plateforme (date de l'entretien, activités, "
        "difficultés, formations suivies, avancement du projet d'avenir).\n\n"
        f"{SIGNATURE}"
    )
    recipients = [person["email"] for person in people if person.get("email")]
    for recipient in recipients:
        context.mailer.send(recipient, subject, body)
    return {"sent_to": recipients, "sent_on": context.today.isoformat()}


def end_mission_early(context: HandlerContext, termination: dict, volunteer: dict, place: dict,
                      establishment_id: int, review_structure: str | None = None) -> dict:
    """Service task: record an early termination and tell the gestionnaires who manage the contract."""
    context.require_missions().close(place["number"], "terminated", termination["end_date"], termination)
    establishment = context.directory.establishment(establishment_id) or {"name": "?"}
    name = f"{volunteer['first_name']} {volunteer['last_name']}"
    how = TERMINATION_LABELS.get(termination["initiator"], termination["initiator"])
    subject = f"Fin anticipée de mission : {name}"
    body = (
        "Bonjour,\n\n"
        f"La mission de Service Civique de {name} ({establishment['name']}) prend fin de manière anticipée, "
        f"{how}, le {date_fr(termination['end_date'])}.\n\n"
        f"Motif : {termination['reason']}\n\n"
        "Les suivis en attente sont annulés. Pensez à déclarer la fin du contrat dans ELISA.\n\n"
        f"{SIGNATURE}"
    )
    people = context.directory.gestionnaires(review_structure) if review_structure else []
    recipients = [person["email"] for person in people if person.get("email")]
    for recipient in recipients:
        context.mailer.send(recipient, subject, body)
    return {"notified": recipients, "ended_on": termination["end_date"], "initiator": termination["initiator"]}
