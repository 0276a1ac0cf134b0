"""A deployed BPMN whose script or gateway condition tries to reach the OS ends in an incident, harmlessly."""
from __future__ import annotations

from xml.sax.saxutils import escape

import pytest

from engine.runtime.deployment import deploy, read_definition_files
from engine.runtime.runtime import ProcessRuntime, RuntimeSettings

from conftest import ROOT

SCRIPT_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="definitions_probe"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="sandbox_probe" name="Sonde" isExecutable="true">
    <bpmn:startEvent id="probe_start"><bpmn:outgoing>to_script</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_script" sourceRef="probe_start" targetRef="probe_script" />
    <bpmn:scriptTask id="probe_script" name="Script hostile">
      <bpmn:incoming>to_script</bpmn:incoming><bpmn:outgoing>to_end</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_end" sourceRef="probe_script" targetRef="probe_end" />
    <bpmn:endEvent id="probe_end"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

GATEWAY_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="definitions_probe"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="sandbox_probe" name="Sonde" isExecutable="true">
    <bpmn:startEvent id="probe_start"><bpmn:outgoing>to_gateway</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_gateway" sourceRef="probe_start" targetRef="probe_gateway" />
    <bpmn:exclusiveGateway id="probe_gateway" default="to_end">
      <bpmn:incoming>to_gateway</bpmn:incoming><bpmn:outgoing>to_other</bpmn:outgoing><bpmn:outgoing>to_end</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="to_other" sourceRef="probe_gateway" targetRef="probe_other">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_end" sourceRef="probe_gateway" targetRef="probe_end" />
    <bpmn:endEvent id="probe_other"><bpmn:incoming>to_other</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="probe_end"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def run_probe(session, tmp_path, bpmn: str):
    """Deploy the campaign with the probe process added, start the probe and return its instance."""
    files = read_definition_files(ROOT / "processes", ROOT / "forms")
    files["processes/sandbox_probe.bpmn"] = bpmn
    deploy(session, files, actor="tests")
    session.commit()
    return ProcessRuntime(session, RuntimeSettings(tmp_path / "documents")).start("sandbox_probe", None)


# Each script would create the marker file, or read a system file, if it could reach the OS.
HOSTILE_SCRIPTS = {
    "import": "import os\nos.system('touch {marker}')",
    "open": "open('{marker}', 'w').write('compromis')",
    "builtins": "__builtins__['open']('{marker}', 'w').write('compromis')",
    "getattr_builtins": "getattr(__builtins__, 'open')('{marker}', 'w')",
    "__import__": "__import__('os').system('touch {marker}')",
    "subclasses": "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen'][0]"
                  "(['touch', '{marker}'])",
    "read_passwd": "secret = open('/etc/passwd').read()",
}


@pytest.mark.parametrize("attempt", HOSTILE_SCRIPTS)
def test_hostile_script_ends_in_incident_and_leaves_the_os_untouched(session, tmp_path, attempt):
    marker = tmp_path / "compromis.txt"
    script = HOSTILE_SCRIPTS[attempt].format(marker=marker)
    instance = run_probe(session, tmp_path, SCRIPT_PROCESS.format(script=escape(script)))
    assert instance.status == "incident"
    assert "Script hostile" in instance.incident
    assert not marker.exists()
    workflow = ProcessRuntime(session, RuntimeSettings(tmp_path)).load(instance).workflow
    assert all("secret" not in task.data for task in workflow.get_tasks())


@pytest.mark.parametrize("condition", [
    "open('/etc/passwd').read() != ''",
    "__import__('os').getcwd() != ''",
    "().__class__.__mro__[1].__subclasses__() != []",
])
def test_hostile_gateway_condition_ends_in_incident(session, tmp_path, condition):
    instance = run_probe(session, tmp_path, GATEWAY_PROCESS.format(condition=escape(condition)))
    assert instance.status == "incident"
    assert instance.incident


def test_an_honest_probe_runs_to_its_end(session, tmp_path):
    instance = run_probe(session, tmp_path, SCRIPT_PROCESS.format(script="total = sum([1, 2, 3])"))
    assert instance.status == "completed" and instance.incident is None
