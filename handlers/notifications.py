"""Messages the processes send to people."""
from __future__ import annotations

from handlers.context import HandlerContext


def notify_referents(context: HandlerContext, establishment_id: int, subject: str, message: str) -> dict:
    """Service task: send a message to the référents of an establishment."""
    recipients = [p["email"] for p in context.directory.people(establishment_id, ("referent",)) if p.get("email")]
    body = (
        "Bonjour,\n\n"
        f"{message}\n\n"
        "Vous pouvez consulter le dossier sur la plateforme Service Civique.\n\n"
        "L'équipe Service Civique de votre Ogec"
    )
    for recipient in recipients:
        context.mailer.send(recipient, subject, body)
    return {"sent_to": recipients, "sent_on": context.today.isoformat()}
