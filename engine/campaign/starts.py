"""Starting any process of the catalogue, and what a person may start.

The catalogue (`engine.runtime.catalogue`, declared in the BPMN files) says who starts a process and about what;
this module applies it: the role and scope check (`engine.access.can_start`), the campaign of the new instance
and, for a campaign process, the one-per-subject-and-campaign rule (`check_campaign_start`). A process outside
campaigns is labelled with the campaign in progress (or in preparation when none is in progress yet), which
decides when its personal data is anonymised, and may be started any number of times.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Principal, can_start
from engine.campaign.campaigns import campaign_in_progress, check_campaign_start, current_campaign
from engine.errors import Forbidden, StartRefused, rolls_back
from engine.models import Establishment, ProcessInstance, Structure
from engine.runtime.catalogue import Catalogue, ProcessEntry, current_catalogue

if TYPE_CHECKING:
    from engine.runtime.runtime import ProcessRuntime

ROLE_LABELS = {"referent": "référents", "tuteur": "tuteurs", "cotuteur": "cotuteurs",
               "gestionnaire": "gestionnaires", "process_owner": "responsables de processus"}
SUBJECT_LABELS = {"establishment": " de l'établissement", "structure": " de la structure", "none": ""}


def forbidden_message(entry: ProcessEntry) -> str:
    """Who may start a process, in French, for a person who may not."""
    roles = " ou ".join(ROLE_LABELS.get(role, role) for role in entry.startable_by)
    return f"Seuls les {roles}{SUBJECT_LABELS.get(entry.subject, '')} peuvent démarrer « {entry.label} »."


def startable_entry(catalogue: Catalogue, process_id: str) -> ProcessEntry:
    """The catalogue entry of a process a person may start; raise `StartRefused` otherwise."""
    entry = catalogue.entry(process_id)
    if entry is None:
        raise StartRefused(f"Le processus « {process_id[:100]} » n'existe pas dans la version déployée.")
    if not entry.startable:
        raise StartRefused(f"« {entry.label} » ne se démarre pas à la main : un autre processus le démarre.")
    return entry


@rolls_back
def start_process(runtime: ProcessRuntime, principal: Principal, process_id: str, *,
                  establishment: Establishment | None = None, structure: Structure | None = None,
                  today: date) -> ProcessInstance:
    """Start a process of the catalogue about an establishment, a structure or nothing, as `principal`."""
    session = runtime.session
    entry = startable_entry(current_catalogue(session), process_id)
    if not can_start(principal, entry, establishment, structure):
        raise Forbidden(forbidden_message(entry))
    if entry.campaign:
        year: str | None = check_campaign_start(session, entry, establishment, structure, today).school_year
    else:
        campaign = campaign_in_progress(session, today) or current_campaign(session)
        year = campaign.school_year if campaign is not None else None
    return runtime.start(process_id, principal, establishment=establishment, structure=structure, campaign=year)


@dataclass
class StartChoice:
    """A process a person may start, and the subjects they may start it about.

    `any_establishment`: the person reaches establishments by territory (gestionnaire) or everywhere (process
    owner), too many to list: they give the establishment's UAI.
    """

    entry: ProcessEntry
    establishments: list[Establishment] = field(default_factory=list)
    structures: list[Structure] = field(default_factory=list)
    any_establishment: bool = False


def start_choices(session: Session, principal: Principal, catalogue: Catalogue | None = None) -> list[StartChoice]:
    """Every process of the current deployment the person may start, with their subjects for each."""
    catalogue = catalogue if catalogue is not None else current_catalogue(session)
    choices: list[StartChoice] = []
    for entry in catalogue.startable():
        choice = StartChoice(entry)
        roles = set(entry.startable_by)
        if entry.subject == "establishment":
            ids = set().union(*(principal.establishments.get(role, set()) for role in roles))
            choice.any_establishment = (("gestionnaire" in roles and principal.is_gestionnaire)
                                        or ("process_owner" in roles and principal.process_owner))
            if ids:
                choice.establishments = list(session.scalars(
                    select(Establishment).where(Establishment.id.in_(ids)).order_by(Establishment.name)))
            if choice.establishments or choice.any_establishment:
                choices.append(choice)
        elif entry.subject == "structure":
            query = select(Structure).order_by(Structure.name)
            if not ("process_owner" in roles and principal.process_owner):
                codes = principal.structures if "gestionnaire" in roles else set()
                query = query.where(Structure.code.in_(codes))
            choice.structures = list(session.scalars(query))
            if choice.structures:
                choices.append(choice)
        elif can_start(principal, entry, None, None):
            choices.append(choice)
    return choices
