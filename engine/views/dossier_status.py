"""Where each dossier stands, in one French sentence: refused, sent back for changes, suspended, in incident,
waiting for whom and until when, or ended.

The home page, the dossier list and the dossier page show the same words. A whole list is read at once, in a fixed
number of statements whatever its length: the ready task rows (lane, structure, assignee, due date), the history
events that carry a decision or a reason (the review's decision and comment, a suspension, an interruption, an
incident), the last completion of each dossier, its waiting timers, its volunteer missions and the names of the
structures. No workflow is deserialised.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, lazyload

from engine.directory.lookups import structure_names
from engine.models import AuditEvent, Person, ProcessInstance, TaskRow, VolunteerMission
from engine.runtime.deployment import bundle_for
from engine.runtime.timers import label_of_element
from engine.views.next_steps import REVIEW_STEP
from engine.views.waiting import WaitingEvent, waiting_events_of
from handlers.formats import date_fr, plural

# Kinds of status, for styling; each has a short label for a tag.
KIND_LABELS = {
    "refused": "Refusé",
    "changes_requested": "Modifications demandées",
    "suspended": "Suspendu",
    "incident": "En incident",
    "waiting": "En cours",
    "completed": "Terminé",
    "terminated": "Interrompu",
}
# Who does the tasks of a lane, each with its article (a gestionnaire's task names its structure instead).
LANE_PEOPLE = {
    "referent": ("le référent",),
    "tuteur": ("le tuteur", "le cotuteur"),
    "accompagnant": ("le tuteur", "le cotuteur", "le référent"),
    "gestionnaire": ("le gestionnaire",),
}
# History events that explain a status: the review's decision, a suspension, an interruption, an incident.
REASON_EVENTS = ("suspended", "terminated", "incident")
VOWELS = tuple("AEIOUYÂÀÉÈÊËÎÏÔÛÙÜaeiouyâàéèêëîïôûùü")


def of(people: Sequence[str]) -> str:
    """« de » before noun phrases, contracted as French wants: « du tuteur ou du cotuteur », « de l'Udogec »,
    « d'Isabelle Fournier »."""
    def one(phrase: str) -> str:
        if phrase.startswith("le "):
            return "du " + phrase[3:]
        if phrase.startswith("les "):
            return "des " + phrase[4:]
        if phrase.startswith(("la ", "l'")):
            return "de " + phrase
        return ("d'" if phrase.startswith(VOWELS) else "de ") + phrase
    return alternatives([one(phrase) for phrase in people])


def alternatives(phrases: Sequence[str]) -> str:
    """« a », « a ou b », « a, b ou c »."""
    if len(phrases) < 2:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " ou " + phrases[-1]


def structure_phrase(name: str) -> str:
    """A structure's name with its article: « l'Udogec d'Ille-et-Vilaine », « la Fnogec »."""
    return ("l'" if name.startswith(VOWELS) else "la ") + name


def action(title: str) -> str:
    """A task's title inside a sentence: its first letter lowered unless the word is an acronym."""
    if len(title) > 1 and title[1].isupper():
        return title
    return title[:1].lower() + title[1:]


@dataclass(frozen=True)
class PendingTask:
    """A ready task as a status names it: the row, who must do it (noun phrases with their article), whether late."""

    row: TaskRow
    people: tuple[str, ...]
    overdue: bool

    @property
    def doers(self) -> str:
        """Who must do it: « le tuteur ou le cotuteur », « l'Udogec d'Ille-et-Vilaine », « Isabelle Fournier »."""
        return alternatives(self.people)

    def sentence(self, with_place: bool = True) -> str:
        """« En attente du référent pour publier l'offre (place 1), depuis le 17 novembre 2026 ; échéance le … »."""
        row = self.row
        place = f" (place {row.place})" if with_place and row.place else ""
        text = f"En attente {of(self.people)} pour {action(row.title)}{place}, depuis le {date_fr(row.created_at)}"
        if row.due_at is not None:
            text += (f" ; échéance dépassée depuis le {date_fr(row.due_at)}" if self.overdue
                     else f" ; échéance le {date_fr(row.due_at)}")
        return text + "."


@dataclass(frozen=True)
class DossierStatus:
    """Where a dossier stands: its kind (see KIND_LABELS), one sentence, a line per volunteer place, and what it
    waits for (ready tasks, the most urgent first; timers, the nearest first)."""

    kind: str
    sentence: str
    details: tuple[str, ...] = ()
    tasks: tuple[PendingTask, ...] = ()
    waiting: tuple[WaitingEvent, ...] = ()

    @property
    def label(self) -> str:
        """The kind in a word or two, for a tag."""
        return KIND_LABELS[self.kind]


@dataclass
class _Facts:
    """What the statements read about one dossier."""

    tasks: list[tuple[TaskRow, str | None]]
    events: list[tuple[AuditEvent, str | None, str | None]]
    last_completion: int | None
    timers: list[WaitingEvent]
    missions: list[VolunteerMission]


def dossier_statuses(session: Session, instances: Sequence[ProcessInstance],
                     now: datetime) -> dict[int, DossierStatus]:
    """The status of each instance, by id, in seven statements whatever the number of instances."""
    if not instances:
        return {}
    ids = [instance.id for instance in instances]
    # Names only: a person's entity would bring their roles along.
    name = (Person.first_name + " " + Person.last_name).label("name")
    facts = {instance_id: _Facts([], [], None, [], []) for instance_id in ids}
    # Each task's instance is in the caller's hands: joining it again for every row would be waste.
    for row, assignee in session.execute(
            select(TaskRow, name).outerjoin(Person, Person.id == TaskRow.assignee_id)
            .options(lazyload(TaskRow.instance))
            .where(TaskRow.instance_id.in_(ids), TaskRow.state == "ready").order_by(TaskRow.created_at, TaskRow.id)):
        facts[row.instance_id].tasks.append((row, assignee))
    # The review's task row says which structure decided.
    for event, actor, structure_code in session.execute(
            select(AuditEvent, name, TaskRow.structure_code)
            .outerjoin(Person, Person.id == AuditEvent.actor_id)
            .outerjoin(TaskRow, TaskRow.id == AuditEvent.task_id)
            .where(AuditEvent.instance_id.in_(ids),
                   or_(AuditEvent.kind.in_(REASON_EVENTS),
                       (AuditEvent.kind == "completed") & (AuditEvent.spec_id == REVIEW_STEP)))
            .order_by(AuditEvent.at, AuditEvent.id)):
        facts[event.instance_id].events.append((event, actor, structure_code))
    for instance_id, last in session.execute(
            select(AuditEvent.instance_id, func.max(AuditEvent.id))
            .where(AuditEvent.instance_id.in_(ids), AuditEvent.kind == "completed").group_by(AuditEvent.instance_id)):
        facts[instance_id].last_completion = last
    for instance_id, events in waiting_events_of(session, instances).items():
        facts[instance_id].timers = events
    for mission in session.scalars(select(VolunteerMission).where(VolunteerMission.instance_id.in_(ids))
                                   .order_by(VolunteerMission.place)):
        facts[mission.instance_id].missions.append(mission)
    names = structure_names(session)
    return {instance.id: _status(instance, facts[instance.id], names, now) for instance in instances}


def _people(row: TaskRow, assignee: str | None, names: dict[str, str]) -> tuple[str, ...]:
    if assignee is not None:
        return (assignee,)
    if row.lane == "gestionnaire" and row.structure_code:
        return (structure_phrase(names.get(row.structure_code, row.structure_code)),)
    return LANE_PEOPLE.get(row.lane or "", ("une personne habilitée",))


def _urgency(task: PendingTask, now: datetime) -> tuple:
    """Late tasks first, then the nearest due date, then the oldest."""
    row = task.row
    return (not task.overdue, row.due_at is None, row.due_at or now, row.created_at, row.place or 0)


def _reason(event: AuditEvent | None) -> str:
    reason = (event.data or {}).get("reason") if event is not None else None
    return f" : {reason.strip()}" if isinstance(reason, str) and reason.strip() else ""


def _quoted(comment: object) -> str:
    return f" : « {comment.strip()} »" if isinstance(comment, str) and comment.strip() else ""


def ended(text: str) -> str:
    """A sentence with its final stop, unless a quotation or its own punctuation already ends it."""
    return text if text.endswith((".", "!", "?", "»", "…")) else text + "."


def _status(instance: ProcessInstance, facts: _Facts, names: dict[str, str], now: datetime) -> DossierStatus:
    tasks = tuple(sorted((PendingTask(row, _people(row, assignee, names), row.due_at is not None and row.due_at < now)
                          for row, assignee in facts.tasks), key=lambda task: _urgency(task, now)))
    kind, sentence, told = _headline(instance, facts, tasks, names)
    # The task the sentence already tells of is not told again in its place's line.
    details = _place_lines([task for task in tasks if task is not told], facts.missions, now.date())
    return DossierStatus(kind, sentence, details, tasks, tuple(facts.timers))


def _headline(instance: ProcessInstance, facts: _Facts, tasks: tuple[PendingTask, ...],
              names: dict[str, str]) -> tuple[str, str, PendingTask | None]:
    """The kind and sentence of a status, and the ready task the sentence tells of, if any."""
    last: dict[str, tuple[AuditEvent, str | None, str | None]] = {}
    review: tuple[AuditEvent, str | None, str | None] | None = None
    for item in facts.events:
        last[item[0].kind] = item
        if item[0].kind == "completed":
            review = item
    decision = (review[0].data or {}) if review is not None else {}
    end_date = date_fr(instance.ended_at or instance.updated_at)
    if instance.status == "refused":
        if review is not None and decision.get("decision") == "refuse":
            return "refused", ended(f"Refusé par {_decider(review, names)} le {date_fr(review[0].at)}"
                                    f"{_quoted(decision.get('comment'))}"), None
        return "refused", f"Refusé le {end_date}.", None
    if instance.status == "terminated":
        event, actor, _code = last.get("terminated", (None, None, None))
        by = f" par {actor}" if actor is not None else ""
        return "terminated", ended(f"Interrompu le {date_fr(event.at) if event else end_date}{by}{_reason(event)}"), None
    if instance.status == "completed":
        outcome = (label_of_element(bundle_for(instance.deployment), instance.process_id, instance.outcome)
                   if instance.outcome else "")
        return "completed", f"Terminé le {end_date}" + (f" : {action(outcome)}." if outcome else "."), None
    if instance.status == "suspended":
        event, actor, _code = last.get("suspended", (None, None, None))
        since = date_fr(event.at if event else instance.updated_at)
        by = f" par {actor}" if actor is not None else ""
        return "suspended", (ended(f"Suspendu depuis le {since}{by}{_reason(event)}")
                             + " Ses tâches et ses échéances attendent sa reprise."), None
    if instance.status == "incident":
        event = last.get("incident", (None, None, None))[0]
        return "incident", (f"En incident depuis le {date_fr(event.at if event else instance.updated_at)} : un "
                            "traitement automatique a échoué ; les responsables de la plateforme relanceront le "
                            "dossier une fois la cause corrigée."), None
    first = tasks[0] if tasks else None
    # Sent back for changes until the next completion: then the school has submitted again.
    if review is not None and review[0].id == facts.last_completion and decision.get("decision") == "changes":
        sentence = ended(f"Modifications demandées par {_decider(review, names)} le {date_fr(review[0].at)}"
                         f"{_quoted(decision.get('comment'))}")
        return "changes_requested", sentence + (f" {first.sentence()}" if first else ""), first
    if first is not None:
        others = len(tasks) - 1
        more = f" Et {plural(others, 'autre tâche', 'autres tâches')} en cours." if others else ""
        return "waiting", first.sentence() + more, first
    if facts.timers:
        timer = facts.timers[0]
        return "waiting", f"En attente : {action(timer.label)}, le {date_fr(timer.due_at)}.", None
    return "waiting", "En cours : aucune tâche ni échéance n'attend pour l'instant.", None


def _decider(review: tuple[AuditEvent, str | None, str | None], names: dict[str, str]) -> str:
    """The structure that reviewed (« la Fnogec »), else the person."""
    _event, actor, code = review
    if code:
        return structure_phrase(names.get(code, code))
    return actor if actor is not None else "le gestionnaire"


def _mission_text(mission: VolunteerMission, today: date) -> str:
    name = mission.volunteer_name
    if mission.status == "terminated":
        reason = f" : {mission.termination_reason.strip().rstrip('.')}" if mission.termination_reason else ""
        return f"mission de {name} interrompue le {date_fr(mission.ended_on or mission.end_date)}{reason}"
    if mission.status == "completed":
        return f"mission de {name} terminée le {date_fr(mission.ended_on or mission.end_date)}"
    if mission.start_date > today:
        return f"{name}, mission du {date_fr(mission.start_date)} au {date_fr(mission.end_date)}"
    return f"{name}, en mission jusqu'au {date_fr(mission.end_date)}"


def _place_lines(tasks: list[PendingTask], missions: list[VolunteerMission], today: date) -> tuple[str, ...]:
    """One line per volunteer place: its volunteer's mission and what the place waits for."""
    by_place = {mission.place: mission for mission in missions}
    places = sorted({task.row.place for task in tasks if task.row.place} | set(by_place))
    lines = []
    for place in places:
        parts = []
        if place in by_place:
            parts.append(_mission_text(by_place[place], today))
        own = [task for task in tasks if task.row.place == place]
        if own:
            first = own[0].sentence(with_place=False).rstrip(".")
            more = f" (et {plural(len(own) - 1, 'autre tâche', 'autres tâches')})" if len(own) > 1 else ""
            parts.append(action(first) + more)
        if parts:
            lines.append(f"Place {place} : " + " ; ".join(parts) + ".")
    return tuple(lines)
