"""SQL statements per page and per completion do not grow with the data (no N+1), and stay few."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import event, select

from bench.workload import add_schools, campaign_samples, step_data
from engine.access import Principal
from engine.campaign.campaigns import current_campaign
from engine.directory.tokens import issue_token
from engine.models import Establishment, Person, TaskRow

REVIEWER = "gestionnaire.udogec35"


class Statements:
    """Records the statements an engine executes, from its creation until it is closed (or its `with` block ends)."""

    def __init__(self, engine):
        self.sql: list[str] = []
        self.engine = engine
        event.listen(self.engine, "before_cursor_execute", self._seen)

    @classmethod
    def of_app(cls, app) -> Statements:
        """The statements of the web app's database engine."""
        return cls(app.extensions["db_engine"])

    def _seen(self, _connection, _cursor, statement, *_rest):
        self.sql.append(statement)

    @property
    def count(self) -> int:
        """Statements executed so far."""
        return len(self.sql)

    def of(self, call) -> int:
        """Statements executed by `call()`."""
        before = self.count
        call()
        return self.count - before

    def close(self):
        """Stop recording."""
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def __enter__(self) -> Statements:
        return self

    def __exit__(self, *_exc):
        self.close()


@pytest.fixture
def statements(app):
    """Statement counter of the web app."""
    counter = Statements.of_app(app)
    yield counter
    counter.close()


def projects_in_review(session, runtime, count: int, first_number: int) -> list[int]:
    """Start `count` hosting projects in new schools of Ille-et-Vilaine and submit them for review."""
    campaign = current_campaign(session)
    ids = []
    for n, school in enumerate(add_schools(session, count, first_number)):
        referent = Principal.of(session.get(Person, school.referent_id))
        instance = runtime.start("hosting_project", referent, campaign=campaign.school_year,
                                 establishment=session.get(Establishment, school.establishment_id))
        row = ready_row(session, instance.id)
        runtime.complete(row.id, referent, step_data(campaign_samples(campaign, first_number + n), "design_project"))
        ids.append(instance.id)
    return ids


def ready_row(session, instance_id: int) -> TaskRow:
    """The ready task of an instance."""
    session.expire_all()
    return session.scalar(select(TaskRow).where(TaskRow.instance_id == instance_id, TaskRow.state == "ready"))


def ok(response):
    """Fail on anything but 200."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response


def test_inbox_statements_do_not_grow_with_the_tasks_listed(session, runtime, api, browser, statements):
    projects_in_review(session, runtime, 5, 1000)
    ok(api.get("/api/v1/tasks", REVIEWER))
    browser.login(REVIEWER)
    ok(browser.client.get("/"))
    api_few = statements.of(lambda: ok(api.get("/api/v1/tasks", REVIEWER)))
    page_few = statements.of(lambda: ok(browser.client.get("/")))
    assert len(api.get("/api/v1/tasks", REVIEWER).json["items"]) == 5

    projects_in_review(session, runtime, 45, 1100)
    api_many = statements.of(lambda: ok(api.get("/api/v1/tasks", REVIEWER)))
    page_many = statements.of(lambda: ok(browser.client.get("/")))
    assert len(api.get("/api/v1/tasks", REVIEWER).json["items"]) == 50
    assert (api_many, page_many) == (api_few, page_few)


def test_instance_page_statements_do_not_grow_with_instances_or_history(session, runtime, api, browser,
                                                                         statements):
    (instance_id, *_others) = projects_in_review(session, runtime, 5, 2000)
    path = f"/api/v1/instances/{instance_id}"
    browser.login(REVIEWER)
    ok(api.get(path, REVIEWER))
    ok(browser.client.get(f"/dossiers/{instance_id}"))
    api_few = statements.of(lambda: ok(api.get(path, REVIEWER)))
    page_few = statements.of(lambda: ok(browser.client.get(f"/dossiers/{instance_id}")))

    projects_in_review(session, runtime, 45, 2100)
    reviewer = Principal.of(session.scalar(select(Person).where(Person.login == REVIEWER)))
    campaign = current_campaign(session)
    runtime.complete(ready_row(session, instance_id).id, reviewer,
                     step_data(campaign_samples(campaign, 2000), "review_project"))
    history = len(ok(api.get(path, REVIEWER)).json["history"])
    api_many = statements.of(lambda: ok(api.get(path, REVIEWER)))
    page_many = statements.of(lambda: ok(browser.client.get(f"/dossiers/{instance_id}")))
    assert history >= 3
    assert (api_many, page_many) == (api_few, page_few)


def test_a_completion_issues_few_statements_whatever_the_data(session, runtime, client, statements):
    reviewer = Principal.of(session.scalar(select(Person).where(Person.login == REVIEWER)))
    campaign = current_campaign(session)

    def publish(instance_id: int, number: int) -> int:
        runtime.complete(ready_row(session, instance_id).id, reviewer,
                         step_data(campaign_samples(campaign, number), "review_project"))
        row = ready_row(session, instance_id)
        assert row.spec_id == "publish_offer"
        referent = session.get(Person, session.scalar(
            select(Person.id).where(Person.login == f"bench.referent.{number}")))
        token, _record = issue_token(session, referent, datetime.now())
        data = step_data(campaign_samples(campaign, number), "publish_offer")
        return statements.of(lambda: ok(client.post(f"/api/v1/tasks/{row.id}/complete", json=data,
                                                    headers={"Authorization": f"Bearer {token}"})))

    first, second, *_ = projects_in_review(session, runtime, 5, 3000)
    publish(first, 3000)
    few = publish(second, 3001)
    (later, *_) = projects_in_review(session, runtime, 45, 3100)
    many = publish(later, 3100)
    assert many == few
    assert few <= 10


def test_the_rows_a_completion_adds_are_in_the_session_as_read(session, runtime):
    reviewer = Principal.of(session.scalar(select(Person).where(Person.login == REVIEWER)))
    (instance_id,) = projects_in_review(session, runtime, 1, 3500)
    row = ready_row(session, instance_id)
    ready = runtime.ready_task(row.id, reviewer)
    instance = runtime.complete(row.id, reviewer, step_data(campaign_samples(current_campaign(session), 3500),
                                                            "review_project"), ready)
    (opened,) = runtime.open_state(instance).tasks
    assert opened.spec_id == "publish_offer"
    # Written by one INSERT, not by the unit of work: nothing is left for it to flush.
    assert not (session.new or session.dirty or session.deleted)
    stored = session.execute(select(TaskRow.__table__).where(TaskRow.id == opened.id)).one()._asdict()
    assert {key: getattr(opened, key) for key in stored} == stored
    with Statements(session.get_bind()) as statements:
        assert opened.instance is instance and opened in session
    assert statements.count == 0


def test_a_completion_sets_only_the_instance_columns_that_change(session, runtime):
    # SQLite rewrites the entries of every index on a column an UPDATE sets: the status, in two of them, is
    # set only when it changes.
    reviewer = Principal.of(session.scalar(select(Person).where(Person.login == REVIEWER)))
    (instance_id,) = projects_in_review(session, runtime, 1, 3600)
    row_id = ready_row(session, instance_id).id
    with Statements(session.get_bind()) as statements:
        instance = runtime.complete(row_id, reviewer,
                                    step_data(campaign_samples(current_campaign(session), 3600), "review_project"))
    assert instance.status == "running" and instance.current_step.startswith("Publier l'offre")
    (sql,) = [sql for sql in statements.sql if sql.startswith("UPDATE process_instance")]
    assert "current_step" in sql and "version" in sql and "status" not in sql
