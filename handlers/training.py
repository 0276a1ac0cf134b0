"""Training sessions: who is invited."""
from __future__ import annotations

from handlers.context import HandlerContext


def invite_participants(context: HandlerContext, structure_code: str, session: dict) -> dict:
    """Service task: invite the volunteers (or the tuteurs) of the organising structure's territory."""
    if session.get("audience") == "tutors":
        people = context.directory.people_in_territory(structure_code, ("tuteur", "cotuteur"))
    else:
        people = context.contracts.volunteers_in_territory(structure_code)
    invited = []
    subject = f"Invitation : {session['title']} le {session['session_date']}"
    body = (
        f"Bonjour,\n\nVous êtes invité(e) à la session « {session['title']} » "
        f"le {session['session_date']} ({session['place']}).\n\n"
        "Merci de confirmer votre présence auprès de votre gestionnaire Service Civique."
    )
    for person in people:
        if person.get("email"):
            context.mailer.send(person["email"], subject, body)
        invited.append({"name": person["name"], "email": person.get("email")})
    return {"invited": invited, "count": len(invited), "capacity": session.get("capacity")}
