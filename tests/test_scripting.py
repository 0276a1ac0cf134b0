"""BPMN scripts and expressions run restricted: no OS, no dunder escapes."""
from __future__ import annotations

import pytest

from engine.runtime.scripting import RestrictedEnvironment, ScriptRefused


@pytest.fixture
def env():
    return RestrictedEnvironment()


def test_ordinary_expressions_and_scripts_work(env):
    data = {"review": {"decision": "accept", "places_granted": 2}, "quota": 1, "territory": {"udogec": "U35"}}
    assert env.evaluate('review["decision"] == "accept"', data) is True
    assert env.evaluate('min(quota, review["places_granted"])', data) == 1
    env.execute('places = [{"number": n + 1} for n in range(quota)]\nreviewer = territory.get("udogec")', data)
    assert data["places"] == [{"number": 1}] and data["reviewer"] == "U35"


@pytest.mark.parametrize("expression", [
    "__import__('os').system('true')",
    "().__class__.__base__.__subclasses__()",
    "open('/etc/passwd').read()",
    "eval('1')",
    "getattr(quota, '__class__')",
])
def test_escapes_are_refused(env, expression):
    with pytest.raises((ScriptRefused, NameError, AttributeError, TypeError)):
        env.evaluate(expression, {"quota": 1})


def test_import_statement_is_refused(env):
    with pytest.raises((ScriptRefused, ImportError)):
        env.execute("import os\nos.system('true')", {})


def test_runtime_keeps_the_restricted_engine_after_loading(runtime, session):
    from sqlalchemy import select

    from engine.models import Establishment

    from conftest import principal_of

    rennes = session.scalar(select(Establishment).where(Establishment.uai == "0350781J"))
    instance = runtime.start("hosting_project", principal_of(session, "referent.rennes"), establishment=rennes)
    workflow = runtime.load(instance).workflow
    assert isinstance(workflow.script_engine.environment, RestrictedEnvironment)
