"""Deploying `processes/` and `forms/` as versioned definitions, and the cache of parsed specs.

A deployment is the set of BPMN, DMN and form files at one moment, identified
by the hash of their content: deploying unchanged files changes nothing, and
every instance stays on the deployment it started with.
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Generic, TypeVar

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Deployment
from engine.runtime import spiff_internals
from engine.runtime.catalogue import Catalogue, read_catalogue
from engine.runtime.serialization import StateSerializer

T = TypeVar("T")


class DeploymentError(Exception):
    """The files cannot be deployed; the message says which file and why, in French.

    Not a `Refusal`: a defect of definition files, which the command line reports and staging turns into a
    `StagingRefused`; met at run time (a stored version that no longer parses), it is a fault.
    """


@dataclass
class ProcessBundle:
    """The parsed content of one deployment, shared by every instance started on it."""

    deployment_id: int
    files: dict[str, str]
    specs: dict = field(default_factory=dict)
    subprocess_specs: dict = field(default_factory=dict)
    serializers: dict[str, StateSerializer] = field(default_factory=dict)
    lanes: dict[str, dict[str, str]] = field(default_factory=dict)
    # Who starts which process, about what (engine.runtime.catalogue): read with the specs, once per deployment.
    catalogue: Catalogue = field(default_factory=Catalogue)

    def lane_of(self, process_id: str, node_id: str) -> str | None:
        """Id of the lane holding a flow node of a process (the role that does it)."""
        return self.lanes.get(process_id, {}).get(node_id)

    def form(self, filename: str) -> dict | None:
        """Return a form file of this deployment as a dict, or None when absent."""
        text = self.files.get(f"forms/{filename}")
        return json.loads(text) if text is not None else None

    def process_name(self, process_id: str) -> str:
        """The label an analyst gave the process (its pool or process name)."""
        spec = self.specs.get(process_id)
        return (spec.description if spec is not None and spec.description else process_id)


def read_definition_files(processes_dir: Path, forms_dir: Path) -> dict[str, str]:
    """Read every BPMN, DMN and form file, keyed by a path relative to the project."""
    files: dict[str, str] = {}
    for path in sorted(processes_dir.glob("*.bpmn")) + sorted(processes_dir.glob("*.dmn")):
        files[f"processes/{path.name}"] = path.read_text(encoding="utf-8")
    for path in sorted(forms_dir.glob("*.json")):
        files[f"forms/{path.name}"] = path.read_text(encoding="utf-8")
    return files


def content_hash(files: dict[str, str]) -> str:
    """Hash of the names and contents of a set of files."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(files[name].encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def parse_bundle(files: dict[str, str], deployment_id: int = 0) -> ProcessBundle:
    """Parse and validate a set of files; raise `DeploymentError` with a French message."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    for name, text in files.items():
        if not name.endswith((".bpmn", ".dmn")):
            continue
        try:
            if name.endswith(".bpmn"):
                parser.add_bpmn_str(text.encode("utf-8"), filename=name)
            else:
                parser.add_dmn_str(text.encode("utf-8"), filename=name)
        except etree.XMLSyntaxError as error:
            raise DeploymentError(f"{name} : XML illisible (ligne {error.lineno}) : {error.msg}") from error
        except ValidationException as error:
            raise DeploymentError(f"{name} : {error}") from error
    for name, text in files.items():
        if name.startswith("forms/"):
            try:
                json.loads(text)
            except json.JSONDecodeError as error:
                raise DeploymentError(f"{name} : JSON illisible (ligne {error.lineno}) : {error.msg}") from error
    bundle = ProcessBundle(deployment_id=deployment_id, files=files, catalogue=read_catalogue(files))
    for name, text in files.items():
        if name.endswith(".bpmn"):
            bundle.lanes.update(lanes_by_process(text))
    try:
        for process_id in parser.get_process_ids():
            bundle.specs[process_id] = parser.get_spec(process_id)
            bundle.subprocess_specs[process_id] = parser.get_subprocess_specs(process_id)
    except ValidationException as error:
        raise DeploymentError(str(error)) from error
    for process_id, spec in bundle.specs.items():
        for parsed in (spec, *bundle.subprocess_specs[process_id].values()):
            spiff_internals.link_loop_children(parsed)
        bundle.serializers[process_id] = StateSerializer(spec, bundle.subprocess_specs[process_id])
    return bundle


BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}


def lanes_by_process(text: str) -> dict[str, dict[str, str]]:
    """For each process of a BPMN file, the lane id of each flow node.

    SpiffWorkflow keeps only the lane's label on a task; the platform routes
    by the lane's id, which is stable when analysts rename labels.
    """
    root = etree.fromstring(text.encode("utf-8"))
    found: dict[str, dict[str, str]] = {}
    for process in root.iterfind("bpmn:process", BPMN_NS):
        nodes = found.setdefault(process.get("id"), {})
        for lane in process.iterfind(".//bpmn:lane", BPMN_NS):
            for ref in lane.iterfind("bpmn:flowNodeRef", BPMN_NS):
                if ref.text:
                    nodes[ref.text.strip()] = lane.get("id")
        # SpiffWorkflow runs an embedded subprocess as a process of its own, named by its id: its nodes lie in
        # the lane that lists them, or else in the lane of the subprocess that holds them.
        for subprocess in process.iterfind(".//bpmn:subProcess", BPMN_NS):
            inner = found.setdefault(subprocess.get("id"), {})
            for element in subprocess.iterfind("*[@id]"):
                if element.tag == f"{{{BPMN_NS['bpmn']}}}sequenceFlow":
                    continue
                lane = nodes.get(element.get("id")) or _enclosing_lane(element, nodes)
                if lane is not None:
                    inner[element.get("id")] = lane
    return found


def _enclosing_lane(element, nodes: dict[str, str]) -> str | None:
    """Lane of the nearest enclosing subprocess listed in a lane."""
    parent = element.getparent()
    while parent is not None and parent.tag == f"{{{BPMN_NS['bpmn']}}}subProcess":
        if parent.get("id") in nodes:
            return nodes[parent.get("id")]
        parent = parent.getparent()
    return None


def deploy(session: Session, files: dict[str, str], actor: str | None = None, now: datetime | None = None) -> Deployment:
    """Store `files` as a new deployment unless the same content is already deployed."""
    digest = content_hash(files)
    existing = session.scalar(select(Deployment).where(Deployment.content_hash == digest))
    if existing is not None:
        return existing
    bundle = parse_bundle(files)
    deployment = Deployment(
        content_hash=digest,
        files=files,
        process_ids=sorted(bundle.specs),
        deployed_at=now or datetime.now(),
        deployed_by=actor,
    )
    session.add(deployment)
    session.flush()
    bundle.deployment_id = deployment.id
    _BUNDLES.keep(deployment, bundle)
    return deployment


def current_deployment(session: Session) -> Deployment | None:
    """The most recent deployment, on which new instances start."""
    return session.scalar(select(Deployment).order_by(Deployment.id.desc()).limit(1))


class PerVersion(Generic[T]):
    """What is read from a deployed version, read once per process and kept (deployments never change).

    Keyed by id and hash: a test database recreated from scratch reuses ids for other content."""

    def __init__(self, read: Callable[[Deployment], T]) -> None:
        self._read = read
        self._kept: dict[tuple[int, str], T] = {}
        self._lock = threading.Lock()

    def of(self, deployment: Deployment) -> T:
        """What `read` gives for this version, read at the first call only (even with concurrent threads)."""
        key = (deployment.id, deployment.content_hash)
        if key not in self._kept:
            with self._lock:
                if key not in self._kept:
                    self._kept[key] = self._read(deployment)
        return self._kept[key]

    def keep(self, deployment: Deployment, value: T) -> None:
        """Keep what was already read for a version (by the deployment that just parsed it)."""
        self._kept[(deployment.id, deployment.content_hash)] = value


_BUNDLES = PerVersion(lambda deployment: parse_bundle(deployment.files, deployment.id))


def bundle_for(deployment: Deployment) -> ProcessBundle:
    """Parsed specs of a deployment, parsed once per process and kept."""
    return _BUNDLES.of(deployment)
