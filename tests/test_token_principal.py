"""The principal an API token gives is the one its person's ORM objects give, without loading them."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from engine.access import Principal
from engine.directory.tokens import issue_token, principal_for_token
from engine.models import Person, RoleAssignment

NOW = datetime(2027, 3, 15, 10, 0)


def test_every_demo_person_gets_the_same_scopes_through_a_token(session):
    people = session.scalars(select(Person).order_by(Person.id)).all()
    kinds = {assignment.role for person in people for assignment in person.roles}
    assert {"referent", "tuteur", "gestionnaire", "process_owner"} <= kinds
    for person in people:
        token, _record = issue_token(session, person, NOW)
        assert principal_for_token(session, token, NOW) == Principal.of(person), person.login


def test_a_person_without_any_role_has_an_empty_principal(session):
    person = session.scalars(select(Person).where(Person.roles.any(RoleAssignment.role == "tuteur"))).first()
    for assignment in list(person.roles):
        person.roles.remove(assignment)
    session.commit()
    token, _record = issue_token(session, person, NOW)
    assert principal_for_token(session, token, NOW) == Principal(person_id=person.id, name=person.full_name)


def test_unknown_expired_revoked_and_deactivated_give_none(session):
    person = session.scalars(select(Person).order_by(Person.id)).first()
    assert principal_for_token(session, "inconnu", NOW) is None
    expired, _record = issue_token(session, person, NOW - timedelta(hours=9))
    assert principal_for_token(session, expired, NOW) is None
    revoked, record = issue_token(session, person, NOW)
    record.revoked_at = NOW
    session.commit()
    assert principal_for_token(session, revoked, NOW) is None
    valid, _record = issue_token(session, person, NOW)
    person.active = False
    session.commit()
    assert principal_for_token(session, valid, NOW) is None
