"""Training sessions (step 8): opening a session with its invitations, attendance, closing."""
from __future__ import annotations

from datetime import date

from handlers.context import HandlerContext
from handlers.eligibility import add_months
from handlers.formats import date_fr, plural
from handlers.rules import CIVIC_TRAINING, TRAININGS


def invite_participants(context: HandlerContext, structure_code: str, session: dict) -> dict:
    """Service task: open the session for registrations and invite the volunteers (or tuteurs) of its territory."""
    trainings = context.require_trainings()
    session_id = trainings.open_session(structure_code, session)
    people = trainings.invitees(session_id)
    subject = f"Invitation : {session['title']} le {date_fr(session['session_date'])}"
    body = (
        f"Bonjour,\n\nNous vous invitons à la session « {session['title']} » "
        f"({TRAININGS[session['kind']]['label'] if session['kind'] in TRAININGS else session['kind']}) "
        f"le {date_fr(session['session_date'])} ({days_fr(session.get('duration_days') or 1)}), {session['place']}.\n\n"
        f"La session compte {plural(session['capacity'], 'place')}. "
        + ("Inscrivez-vous sur la plateforme Service Civique, page « Formations »."
           if session.get("audience") == "tutors" else
           "Votre tuteur ou le référent de votre établissement vous y inscrit sur la plateforme Service Civique.")
        + "\n\nL'équipe Service Civique de votre Ogec"
    )
    invited = []
    for person in people:
        if person.get("email"):
            context.mailer.send(person["email"], subject, body)
        invited.append({"name": person["name"], "email": person.get("email")})
    return {"session_id": session_id, "invited": invited, "count": len(invited), "capacity": session.get("capacity")}


def close_training_session(context: HandlerContext, invitations: dict) -> dict:
    """Service task: close the session; its registrations and attendance stay for the follow-up."""
    return context.require_trainings().close_session(invitations["session_id"])


def days_fr(days: float) -> str:
    """A length in days as French writes it: « 1 jour », « 0,5 jour », « 2,5 jours »."""
    return f"{days:g} jour{'s' if days >= 2 else ''}".replace(".", ",")


def civic_training_problems(start: date, attended: list[tuple[date, float]], today: date) -> list[str]:
    """What a volunteer's civic training (FCC) lacks: its length in all, its part in the first months.

    `attended` gives the date and length in days of each FCC session the volunteer attended. The part due in the
    first months is only owed once they are over.
    """
    minimum, months = CIVIC_TRAINING["min_days"], CIVIC_TRAINING["early_months"]
    deadline = add_months(start, months)
    total = sum(days for _, days in attended)
    early = sum(days for day, days in attended if day < deadline)
    problems = []
    if 0 < total < minimum:
        problems.append(f"Trop courte : {days_fr(total)} suivi{'s' if total >= 2 else ''} sur {days_fr(minimum)} "
                        "au moins.")
    if today >= deadline and early < minimum / 2:
        problems.append(f"Tardive : {days_fr(early)} suivi{'s' if early >= 2 else ''} avant le {date_fr(deadline)}, "
                        f"au lieu d'au moins {days_fr(minimum / 2)} dans les {months} premiers mois de la mission.")
    return problems


def plan_training_rules(context: HandlerContext, form_data: dict, task_data: dict) -> list[tuple]:
    """Rules of a planned session: a date ahead, a length in half days, a kind fit for its audience, a department
    of the territory."""
    problems = []
    days = form_data.get("duration_days")
    if isinstance(days, (int, float)) and (days * 2) != int(days * 2):
        problems.append(("duration_days", "La durée se compte en demi-journées : 0,5 ; 1 ; 1,5 ; 2…"))
    try:
        if date.fromisoformat(form_data["session_date"]) < context.today:
            problems.append(("session_date", "La date de la session est déjà passée."))
    except (KeyError, ValueError):
        pass
    rule = TRAININGS.get(form_data.get("kind", ""))
    expected = rule["audience"] if rule else None
    if expected and form_data.get("audience") and expected != form_data["audience"]:
        audience = "aux tuteurs" if expected == "tutors" else "aux volontaires"
        problems.append(("audience", f"Cette formation s'adresse {audience}."))
    department = form_data.get("department")
    if department and not context.require_trainings().covers(task_data.get("structure_code", ""), department):
        problems.append(("department", f"Le département {department} n'appartient pas au territoire de "
                                       "votre structure."))
    return problems


def attendance_rules(context: HandlerContext, form_data: dict, task_data: dict) -> list[tuple]:
    """Rule of closing a session: the attendance of every registered person is recorded first."""
    names = context.require_trainings().unrecorded(task_data["invitations"]["session_id"])
    if not names:
        return []
    return [(None, "Indiquez d'abord la présence ou l'absence de chaque inscrit sur la page de la session "
                   f"(menu « Formations ») : {', '.join(names)}.")]
