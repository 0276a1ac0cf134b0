"""Figure 4: the inbox, an instance page and the monitoring counts with national-scale data.

After the bulk seeding (bench/seed.py), each view is timed on the server side,
in process: the engine's query alone, then the whole request through the
Flask app (authentication, queries, rendering) without the network. The
gestionnaire of a large territory (an Urogec of twelve departments) reads the
inbox, its first page and a following one (keyset pages, engine/views/inbox.py), and
the dossier list, its first page and one past a thousand dossiers (engine.views.queries.instance_page);
the instance page is one of their instances; the counts are those of
the monitoring dashboard when `engine.views.monitoring` exists, else those of the
instance list, for the national gestionnaire (every instance). The task page (form,
context sections, draft) and the saving of a draft are those of the hosting project the
engine ran to its contract, whose state every seeded instance carries, for its Udogec's
gestionnaire: its task row is the one that matches a real ready task of the engine.

The garbage collector is timed too (`gc.callbacks`): a full collection walks
every object the process tracks, a few hundred thousand once the app is loaded,
which took 300 to 600 ms and fell inside one call in a dozen. As gunicorn.conf.py
does in each worker, the measured process freezes what exists after start-up
(`gc.freeze`), and the report says what a full collection costs before and after.
"""
from __future__ import annotations

import gc
import importlib.util
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, update

from bench.engine_cost import Driver, campaign_run
from bench.measure import Figure, Latencies, StatementCounter, check
from bench.seed import seed
from bench.workload import CONTRACT_TASK, SAMPLES, prepare, reviewer_id
from engine.access import Principal
from engine.directory.accounts import hash_password
from engine.directory.tokens import token_digest
from engine.models import ApiToken, Person, ProcessInstance, TaskRow
from engine.views.inbox import DEFAULT_LIMIT, inbox_page
from engine.views.queries import InstanceSearch, actionable_tasks, instance_page

PASSWORD = "banc-d-essai-mesure"


@dataclass(frozen=True)
class RealDossier:
    """A hosting project the engine ran up to its contract: its stored state, which every seeded row carries, its
    ready contract task and the gestionnaire who draws the contract up."""

    state: str
    task_id: str
    gestionnaire_id: int


def real_dossier(sessions, storage_dir: Path) -> RealDossier:
    """Run a hosting project up to its contract, through the engine, and say what the seeding and the task page
    need of it."""
    driver = Driver(sessions, storage_dir)
    with sessions() as session:
        reviewer = reviewer_id(session)
    result = campaign_run(driver, sessions, 1, 1999, reviewer, until=CONTRACT_TASK)
    driver.counter.close()
    instance_id = result.instance_ids[0]
    with sessions() as session:
        task_id = session.scalar(select(TaskRow.id).where(TaskRow.instance_id == instance_id,
                                                          TaskRow.spec_id == CONTRACT_TASK, TaskRow.state == "ready"))
        # The whole state, its delta log folded in: each seeded row holds it with an empty log.
        return RealDossier(session.get(ProcessInstance, instance_id).state, task_id, reviewer)


def dashboard_counts():
    """The dashboard's count function, `engine.views.monitoring.status_counts`, when that module exists."""
    if importlib.util.find_spec("engine.views.monitoring") is None:
        return None
    from engine.views import monitoring

    return lambda session, principal: monitoring.status_counts(session, principal,
                                                               monitoring.Filters(process_id="hosting_project"))


class Views:
    """The requests of figure 4, each a callable giving one measurement."""

    def __init__(self, url: str, sessions, storage_dir: Path, seeded, dossier: RealDossier):
        from webapp import create_app

        self.sessions = sessions
        self.seeded = seeded
        self.dossier = dossier
        self.app = create_app({"DATABASE_URL": url, "STORAGE_DIR": storage_dir, "SECRET_KEY": secrets.token_hex(8),
                               "WTF_CSRF_ENABLED": False, "SESSION_COOKIE_SECURE": False})
        self.tokens = {}
        with sessions() as session:
            for person_id in (seeded.big_gestionnaire_id, seeded.national_gestionnaire_id, dossier.gestionnaire_id):
                token = secrets.token_urlsafe(24)
                session.execute(insert(ApiToken).values(person_id=person_id, token_hash=token_digest(token),
                                                        created_at=datetime.now(),
                                                        expires_at=datetime.now() + timedelta(days=1)))
                session.execute(update(Person).where(Person.id == person_id)
                                .values(password_hash=hash_password(PASSWORD)))
                self.tokens[person_id] = token
            session.commit()
            self.logins = {pid: session.get(Person, pid).login for pid in self.tokens}
        self.browsers = {}
        for person_id, login in self.logins.items():
            client = self.app.test_client()
            response = client.post("/connexion", data={"login": login, "password": PASSWORD})
            if response.status_code != 302:
                raise RuntimeError(f"connexion de {login} refusée ({response.status_code})")
            self.browsers[person_id] = client
        self.counter = StatementCounter(self.app.extensions["db_engine"])
        self.instance_id = seeded.sample_instance_ids[0]
        # Sessions the engine's calls query through, each measurement after measurement: closed by `close`.
        self._sessions: list = []

    def _session(self):
        """A session kept open for the calls of one measurement (a closed one would take a connection again at
        each call and never give it back)."""
        session = self.sessions()
        self._sessions.append(session)
        return session

    def close(self) -> None:
        """Give back the connections of the engine's calls and of the application."""
        for session in self._sessions:
            session.close()
        self.counter.close()
        self.app.extensions["db_engine"].dispose()

    def principal(self, person_id: int) -> Principal:
        """Scopes of a seeded gestionnaire."""
        with self.sessions() as session:
            return Principal.of(session.get(Person, person_id))

    def engine_inbox(self, cursor: str | None = None):
        """The inbox query alone, one page (after `cursor`), for the big territory's gestionnaire."""
        principal = self.principal(self.seeded.big_gestionnaire_id)
        session = self._session()
        return lambda: len(inbox_page(session, principal, DEFAULT_LIMIT, cursor).rows)

    def inbox_cursor(self) -> str | None:
        """A cursor into the big territory's inbox, past its first hundred tasks (or past half of a smaller one)."""
        principal = self.principal(self.seeded.big_gestionnaire_id)
        with self.sessions() as session:
            size = len(actionable_tasks(session, principal))
            return inbox_page(session, principal, max(1, min(100, size // 2))).next_cursor

    def engine_counts(self):
        """The dashboard counts (or, without a dashboard, the instance list's) for the national gestionnaire."""
        principal = self.principal(self.seeded.national_gestionnaire_id)
        counts = dashboard_counts()
        session = self._session()
        if counts is not None:
            return lambda: counts(session, principal)
        return lambda: instance_page(session, principal, InstanceSearch(), 20).total

    def engine_list(self, cursor: str | None = None):
        """The dossier list's query alone (rows and counts by status), one page (after `cursor`), for the big
        territory's gestionnaire."""
        principal = self.principal(self.seeded.big_gestionnaire_id)
        session = self._session()
        return lambda: len(instance_page(session, principal, InstanceSearch(), 50, cursor).items)

    def list_cursor(self) -> str | None:
        """A cursor into the big territory's dossier list, past its first thousand dossiers."""
        principal = self.principal(self.seeded.big_gestionnaire_id)
        with self.sessions() as session:
            return _cursor_after(session, principal, 1000)

    def keep_draft(self):
        """Saving the contract task's draft through the API (what « Enregistrer le brouillon » sends), as its
        gestionnaire; the first call leaves the draft that the task page then shows."""
        client, dossier = self.app.test_client(), self.dossier
        headers = {"Authorization": f"Bearer {self.tokens[dossier.gestionnaire_id]}"}
        path, draft = f"/api/v1/tasks/{dossier.task_id}/draft", dict(SAMPLES[CONTRACT_TASK])

        def call():
            response = client.put(path, json=draft, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{path} : HTTP {response.status_code} {response.get_data(as_text=True)[:200]}")
            return len(response.data)
        call()
        return call

    def get(self, path: str, person_id: int, api: bool):
        """A GET request through the app, by API token or logged-in browser; fail on a non-200 answer."""
        client = self.browsers[person_id] if api is False else self.app.test_client()
        headers = {"Authorization": f"Bearer {self.tokens[person_id]}"} if api else {}

        def call():
            response = client.get(path, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{path} : HTTP {response.status_code}")
            return len(response.data)
        return call


class Collections:
    """The garbage collector's collections while installed in `gc.callbacks`: the duration of each, by generation."""

    def __init__(self):
        self.durations: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.durations[info["generation"]].append(time.perf_counter() - self._started)

    def __enter__(self) -> Collections:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *_exc) -> None:
        gc.callbacks.remove(self)

    @property
    def longest_full_ms(self) -> float:
        """The longest full (generation 2) collection, in milliseconds; 0 without one."""
        return max(self.durations[2], default=0.0) * 1000


def _cursor_after(session, principal: Principal, rows: int) -> str | None:
    """The cursor of the dossier list past its first `rows` dossiers (or the last full page of a shorter list)."""
    cursor = None
    for _ in range(rows // 100):
        following = instance_page(session, principal, InstanceSearch(), 100, cursor).next_cursor
        if following is None:
            break
        cursor = following
    return cursor


def full_collection() -> dict:
    """How many objects the collector tracks, and what one full collection of them costs (ms)."""
    tracked = len(gc.get_objects())
    started = time.perf_counter()
    gc.collect()
    return {"tracked": tracked, "ms": (time.perf_counter() - started) * 1000}


def collector_evidence(calls: list, per_round: int) -> dict:
    """The pauses, before and after `gc.freeze()`: one round of each call with the collector as the process left
    it (no collection forced first: the next full one would wait for a quarter more objects), what a full
    collection costs then, and after freezing what exists (as gunicorn.conf.py does in each worker)."""
    slow, pauses = 0, Collections()
    with pauses:
        for call in calls:
            latencies = time_calls(call, per_round, warm_ups=0)
            slow += sum(1 for value in latencies.values if value > 0.1)
    before = full_collection()
    gc.freeze()
    after = full_collection()
    return {"tracked": before["tracked"], "full_ms": before["ms"], "frozen": gc.get_freeze_count(),
            "full_after_ms": after["ms"], "unfrozen_longest_ms": pauses.longest_full_ms,
            "unfrozen_full": len(pauses.durations[2]), "unfrozen_slow": slow, "unfrozen_calls": per_round * len(calls)}


def time_calls(call, count: int, warm_ups: int = 2) -> Latencies:
    """Time `count` calls after some warm-up calls."""
    for _ in range(warm_ups):
        call()
    latencies = Latencies()
    for _ in range(count):
        started = time.perf_counter()
        call()
        latencies.add(time.perf_counter() - started)
    return latencies


def measure_scale(url: str, storage_dir: Path, instances: int, completed: int, rounds: int, per_round: int) -> dict:
    """Seed, then time each view in `rounds` rounds of `per_round` calls; p95 target 50 ms.

    The collector's pauses are measured first with the collector as it starts, then the process freezes what it
    holds (`collector_evidence`) and every figure is measured so, as in a gunicorn worker of the platform.
    """
    sessions = prepare(url)
    dossier = real_dossier(sessions, storage_dir)
    state = dossier.state
    started = time.perf_counter()
    with sessions() as session:
        seeded = seed(session, instances, completed, state)
    seeding = time.perf_counter() - started
    views = Views(url, sessions, storage_dir, seeded, dossier)
    big, national, contract = seeded.big_gestionnaire_id, seeded.national_gestionnaire_id, dossier.gestionnaire_id
    draft = views.keep_draft()
    cursor = views.inbox_cursor()
    list_cursor = views.list_cursor()
    counts_label = "engine.views.monitoring.status_counts" if dashboard_counts() else "comptes de la liste des dossiers"
    cases = [
        ("Boîte de réception — requête du moteur (inbox_page, première page)", views.engine_inbox(), True),
        ("Boîte de réception — GET /api/v1/tasks, première page", views.get("/api/v1/tasks", big, True), True),
        ("Boîte de réception — GET /api/v1/tasks, page suivante (cursor)",
         views.get(f"/api/v1/tasks?cursor={cursor}", big, True), True),
        ("Boîte de réception — page d'accueil HTML, première page", views.get("/", big, False), True),
        ("Boîte de réception — page d'accueil HTML, page suivante (« Tâches suivantes »)",
         views.get(f"/?apres={cursor}", big, False), True),
        ("Page d'un dossier — GET /api/v1/instances/<id>",
         views.get(f"/api/v1/instances/{views.instance_id}", big, True), True),
        ("Page d'un dossier — HTML /dossiers/<id>", views.get(f"/dossiers/{views.instance_id}", big, False), True),
        ("Page d'une tâche (formulaire, contexte, brouillon) — GET /api/v1/tasks/<id>",
         views.get(f"/api/v1/tasks/{dossier.task_id}", contract, True), False),
        ("Page d'une tâche (formulaire, contexte, brouillon) — HTML /taches/<id>",
         views.get(f"/taches/{dossier.task_id}", contract, False), False),
        ("Brouillon d'une tâche — PUT /api/v1/tasks/<id>/draft", draft, False),
        ("Liste des dossiers — requête du moteur (instance_page et comptes par statut, première page)",
         views.engine_list(), True),
        ("Liste des dossiers — requête du moteur, page suivante (après 1 000 dossiers)",
         views.engine_list(list_cursor), True),
        ("Liste des dossiers — GET /api/v1/instances, première page", views.get("/api/v1/instances", big, True),
         True),
        ("Liste des dossiers — GET /api/v1/instances, page suivante (cursor, après 1 000 dossiers)",
         views.get(f"/api/v1/instances?cursor={list_cursor}", big, True), True),
        ("Liste des dossiers — HTML /dossiers/, première page", views.get("/dossiers/", big, False), True),
        ("Liste des dossiers — HTML /dossiers/, page suivante (« Page suivante », après 1 000 dossiers)",
         views.get(f"/dossiers/?apres={list_cursor}", big, False), True),
        (f"Comptes du tableau de bord — {counts_label}, national", views.engine_counts(), False),
        ("Liste des dossiers avec total — GET /api/v1/instances, national",
         views.get("/api/v1/instances", national, True), False),
    ]
    if cursor is None:
        cases = [case for case in cases if not ("page suivante" in case[0] and "Boîte" in case[0])]
    if list_cursor is None:
        cases = [case for case in cases if not ("page suivante" in case[0] and "dossiers" in case[0])]
    if dashboard_counts() is not None:
        cases.append(("Tableau de bord entier — HTML /suivi/, national", views.get("/suivi/", national, False),
                      False))
    figures, statements = [], {}
    for label, call, _targeted in cases:
        before = views.counter.count
        call()
        statements[label] = views.counter.count - before
    collector = collector_evidence([call for label, call, _targeted in cases if "Boîte de réception" in label],
                                   per_round)
    pauses = Collections()
    with pauses:
        for label, call, targeted in cases:
            median, p95 = Figure(f"{label} : médiane", "ms"), Figure(f"{label} : p95", "ms")
            for _ in range(rounds):
                latencies = time_calls(call, per_round)
                median.runs.append(latencies.median_ms)
                p95.runs.append(latencies.p95_ms)
            p95.note = f"{statements[label]} requêtes SQL par appel" \
                if any(kind in label for kind in (" — HTML", " — GET", " — PUT")) else ""
            figures += [median, check(p95, at_most=50) if targeted else p95]
    collector["frozen_longest_ms"] = pauses.longest_full_ms
    collector["frozen_full"] = len(pauses.durations[2])
    gc.unfreeze()
    with sessions() as session:
        inbox_size = len(actionable_tasks(session, Principal.of(session.get(Person, big))))
    views.close()
    sessions.kw["bind"].dispose()
    return {"figures": figures, "seeding_s": seeding, "inbox_size": inbox_size, "seeded": seeded,
            "state_bytes": len(state), "statements": statements, "collector": collector,
            "paths": {"inbox": "/api/v1/tasks", "instance": f"/api/v1/instances/{views.instance_id}",
                      "list": "/dossiers/", "home": "/"},
            "tokens": {"big": views.tokens[big], "national": views.tokens[national]}}

