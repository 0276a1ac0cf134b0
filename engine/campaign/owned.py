"""What a dossier owns outside the engine, closed with it when it is interrupted for good.

A training dossier owns its session (registrations stop, the people registered are told); any dossier owns the
messages it queued and that are not sent yet (invitations, reminders); a hosting project owns the missions of its
volunteers. All of it changes in the transaction that interrupts the dossier.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.mail import Mailer
from engine.models import Notification, ProcessInstance, TrainingSession, VolunteerMission
from handlers.formats import date_fr

# Why a queued message was not sent: the worker skips messages with no next attempt.
WITHDRAWN = "Message retiré : le dossier a été interrompu avant son envoi."


def close_owned(session: Session, instance: ProcessInstance, reason: str, now: datetime) -> None:
    """Close what `instance` owns: its training session, its unsent messages, its volunteers' missions."""
    session.execute(update(Notification).where(
        Notification.instance_id == instance.id, Notification.sent_at.is_(None),
        Notification.next_attempt_at.is_not(None)).values(next_attempt_at=None, error=WITHDRAWN)
        .execution_options(synchronize_session=False))
    training = session.scalar(select(TrainingSession).where(TrainingSession.instance_id == instance.id))
    if training is not None and training.status == "open":
        training.status = "cancelled"
        mailer = Mailer(session, instance.id, lambda: now)
        for registration in training.registrations:
            if registration.email:
                mailer.send(registration.email, f"Session annulée : {training.title} le {date_fr(training.session_date)}",
                            f"Bonjour,\n\nLa session « {training.title} » du {date_fr(training.session_date)} "
                            f"({training.place}) est annulée : {reason}\n\nL'inscription de {registration.name} "
                            "n'a plus d'objet.\n")
    for mission in session.scalars(select(VolunteerMission).where(VolunteerMission.instance_id == instance.id,
                                                                  VolunteerMission.status == "in_progress")):
        mission.status = "terminated"
        mission.ended_on = mission.ended_on or now.date()
        mission.termination_reason = mission.termination_reason or f"Dossier interrompu : {reason}"
