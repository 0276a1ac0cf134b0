"""Prepared writes: run on the session's cursor, they behave as the same statement through `Session.execute`."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, bindparam, event, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.models import AuditEvent, Notification, ProcessInstance
from engine.prepared import PreparedWrite

from test_processes import start_project

ADD_EVENT = PreparedWrite(insert(AuditEvent.__table__))
RENAME = PreparedWrite(update(ProcessInstance.__table__)
                       .where(ProcessInstance.__table__.c.id == bindparam("instance_id"))
                       .values(title=bindparam("new_title")))


def event_of(instance_id: int, summary: str, data: dict | None = None) -> dict:
    """The values of an audit event of an instance."""
    return {"instance_id": instance_id, "task_id": None, "spec_id": None, "kind": "event", "summary": summary,
            "actor_id": None, "data": data, "at": datetime(2027, 3, 15, 10, 30, 5, 120)}


@pytest.fixture
def instance(runtime, session):
    """A hosting project of the Rennes school."""
    return start_project(runtime, session)


def test_values_are_stored_as_through_the_orm_dates_and_json_included(session, instance):
    ADD_EVENT.execute(session, event_of(instance.id, "Écrit au curseur", {"champ": ["é", 1, None]}))
    session.commit()
    stored = session.scalars(select(AuditEvent).where(AuditEvent.summary == "Écrit au curseur")).one()
    assert stored.data == {"champ": ["é", 1, None]}
    assert stored.at == datetime(2027, 3, 15, 10, 30, 5, 120)


def test_a_list_of_values_writes_one_row_each_and_an_update_tells_the_rows_it_matched(session, instance):
    ADD_EVENT.execute(session, [event_of(instance.id, "premier"), event_of(instance.id, "second")])
    assert RENAME.execute(session, {"instance_id": instance.id, "new_title": "Renommé"}) == 1
    assert RENAME.execute(session, {"instance_id": -1, "new_title": "Personne"}) == 0
    session.commit()
    summaries = session.scalars(select(AuditEvent.summary).where(AuditEvent.instance_id == instance.id,
                                                                 AuditEvent.kind == "event")).all()
    assert sorted(summaries) == ["premier", "second"]
    session.expire_all()
    assert session.get(ProcessInstance, instance.id).title == "Renommé"


def test_the_write_belongs_to_the_sessions_transaction(session, instance):
    ADD_EVENT.execute(session, event_of(instance.id, "annulé"))
    session.rollback()
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.summary == "annulé")) is None


def test_the_engines_listeners_see_each_statement_with_its_parameters(session, instance):
    seen: list[tuple[str, str]] = []

    def before(_connection, _cursor, statement, parameters, _context, many):
        seen.append(("avant", statement.split()[0], many))

    def after(_connection, _cursor, statement, _parameters, _context, many):
        seen.append(("après", statement.split()[0], many))

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", before)
    event.listen(bind, "after_cursor_execute", after)
    try:
        ADD_EVENT.execute(session, event_of(instance.id, "compté"))
        ADD_EVENT.execute(session, [event_of(instance.id, "un"), event_of(instance.id, "deux")])
        ADD_EVENT.execute(session, [event_of(instance.id, "seul")])
    finally:
        event.remove(bind, "before_cursor_execute", before)
        event.remove(bind, "after_cursor_execute", after)
    assert seen == [("avant", "INSERT", False), ("après", "INSERT", False),
                    ("avant", "INSERT", True), ("après", "INSERT", True),
                    ("avant", "INSERT", False), ("après", "INSERT", False)]


def test_a_refused_write_raises_sqlalchemys_error_and_the_session_rolls_back_and_goes_on(session, instance):
    with pytest.raises(IntegrityError) as refused:
        ADD_EVENT.execute(session, {**event_of(instance.id, "sans type"), "kind": None})
    assert "audit_event" in str(refused.value)
    session.rollback()
    ADD_EVENT.execute(session, event_of(instance.id, "après le refus"))
    session.commit()
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.summary == "après le refus")) is not None


def test_a_columns_python_default_is_written_when_no_value_is_given(session, instance):
    add = PreparedWrite(insert(Notification.__table__))
    add.execute(session, {"instance_id": instance.id, "recipient": "a@example.org", "subject": "Objet",
                          "body": "Texte", "created_at": datetime(2027, 3, 15)})
    session.commit()
    assert session.scalar(select(Notification.attempts).where(Notification.subject == "Objet")) == 0


def test_a_default_computed_in_python_is_refused_rather_than_left_out(session):
    table = Table("computed_default", MetaData(), Column("id", Integer, primary_key=True),
                  Column("n", Integer, default=lambda: 7))
    with pytest.raises(NotImplementedError, match="calculée en Python"):
        PreparedWrite(insert(table)).execute(session, {"id": 1})
