"""The process catalogue: which processes can be started, by whom, about what, and whether in a campaign.

Analysts declare it on each `bpmn:process` element of their BPMN files, never in code:

    <bpmn:extensionElements>
      <spiffworkflow:properties>
        <spiffworkflow:property name="startableBy" value="referent" />
        <spiffworkflow:property name="subject" value="establishment" />
        <spiffworkflow:property name="campaign" value="true" />
        <spiffworkflow:property name="startLabel" value="Démarrer un projet d'accueil" />
      </spiffworkflow:properties>
    </bpmn:extensionElements>

`startableBy` lists roles (comma-separated); without it the process is only started by another one (call
activity). `subject` says what an instance is about: an establishment, a structure, or nothing. `campaign`
true: the instance carries the open campaign's school year, one per subject and campaign. The catalogue is read
once per deployment, with its parsed specs (`ProcessBundle.catalogue`), never per request.

The *campaign process* (the dossier the home page, the school cards and the funnel follow: the hosting project)
is the startable campaign process about an establishment; when several match, the first by process id.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy.orm import Session

ROLES = ("referent", "tuteur", "cotuteur", "gestionnaire", "process_owner")
SUBJECTS = ("establishment", "structure", "none")
BOOLEANS = ("true", "false")
PROPERTIES = ("startableBy", "subject", "campaign", "startLabel")
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


@dataclass(frozen=True)
class ProcessEntry:
    """One process as the catalogue declares it."""

    process_id: str
    label: str
    startable_by: tuple[str, ...] = ()
    subject: str = "none"
    campaign: bool = False
    start_label: str | None = None

    @property
    def startable(self) -> bool:
        """Whether a person may start it (otherwise only another process does, by a call activity)."""
        return bool(self.startable_by)

    @property
    def button(self) -> str:
        """The text of the button that starts it."""
        return self.start_label or f"Démarrer : {self.label}"


@dataclass(frozen=True)
class Catalogue:
    """Every process of a deployment, by id, in process id order."""

    entries: dict[str, ProcessEntry] = field(default_factory=dict)

    def entry(self, process_id: str | None) -> ProcessEntry | None:
        """The entry of a process, or None when the deployment has no such process."""
        return self.entries.get(process_id or "")

    def startable(self) -> list[ProcessEntry]:
        """The processes a person may start."""
        return [entry for entry in self.entries.values() if entry.startable]

    def labels(self) -> dict[str, str]:
        """Each process's label by id."""
        return {entry.process_id: entry.label for entry in self.entries.values()}

    @property
    def campaign_process(self) -> ProcessEntry | None:
        """The campaign's dossier of each school: startable, in the campaign, about an establishment."""
        return next((entry for entry in self.entries.values()
                     if entry.startable and entry.campaign and entry.subject == "establishment"), None)

    @property
    def campaign_process_id(self) -> str | None:
        """The id of the campaign process, or None when the deployment has none."""
        entry = self.campaign_process
        return entry.process_id if entry is not None else None


def process_properties(process: etree._Element) -> dict[str, str]:
    """The `spiffworkflow:property` values declared on a `bpmn:process` element (its own, not its tasks')."""
    found: dict[str, str] = {}
    for prop in process.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
        if prop.get("name"):
            found[prop.get("name", "")] = (prop.get("value") or "").strip()
    return found


def role_list(value: str) -> list[str]:
    """The roles of a `startableBy` value, in order, without blanks."""
    return [role.strip() for role in value.split(",") if role.strip()]


def entry_of(process: etree._Element) -> ProcessEntry:
    """The catalogue entry of a `bpmn:process` element; unknown values fall back to the safe side (the
    validator refuses them before a deployment)."""
    props = process_properties(process)
    process_id = process.get("id", "")
    subject = props.get("subject", "none")
    return ProcessEntry(
        process_id=process_id,
        label=(process.get("name") or "").strip() or process_id,
        startable_by=tuple(role for role in role_list(props.get("startableBy", "")) if role in ROLES),
        subject=subject if subject in SUBJECTS else "none",
        campaign=props.get("campaign", "false") == "true",
        start_label=props.get("startLabel") or None,
    )


def bpmn_processes(files: dict[str, str]) -> Iterator[tuple[str, etree._Element]]:
    """Each `bpmn:process` element of a deployment's BPMN files, with its file's name (files that do not parse
    are left out: the validator reports them)."""
    for name, text in files.items():
        if not name.endswith(".bpmn"):
            continue
        try:
            root = etree.fromstring(text.encode("utf-8"), _PARSER)
        except etree.XMLSyntaxError:
            continue
        for process in root.iterfind("bpmn:process", NS):
            yield name, process


def read_catalogue(files: dict[str, str]) -> Catalogue:
    """The catalogue of a deployment's files (BPMN files only)."""
    entries = {process.get("id", ""): entry_of(process) for _, process in bpmn_processes(files)}
    return Catalogue({process_id: entries[process_id] for process_id in sorted(entries)})


def current_catalogue(session: Session) -> Catalogue:
    """The catalogue of the deployment new instances start on (empty when nothing is deployed)."""
    from engine.runtime.deployment import bundle_for, current_deployment

    deployment = current_deployment(session)
    return bundle_for(deployment).catalogue if deployment is not None else Catalogue()
