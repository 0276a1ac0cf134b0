"""Several gunicorn workers share everything a person relies on: sessions, CSRF tokens, login limits.

Two sync workers serve the app. One is kept busy by a request whose headers
never end (`PinnedWorker`), so the next request goes to the other: each test
makes two steps of one person land on two different processes.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest

from engine.demo.directory import DEMO_PASSWORD

from conftest import CSRF, principal_of
from live_server import Gunicorn, PinnedWorker, Redis, http

pytestmark = pytest.mark.slow


@pytest.fixture
def redis(tmp_path):
    """A redis-server of this test only."""
    server = Redis(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def two_workers(sessions, database_url, redis, tmp_path):
    """gunicorn with two workers on the prepared database, counting login failures in Redis."""
    server = Gunicorn(tmp_path / "gunicorn.log", {
        "DATABASE_URL": database_url, "STORAGE_DIR": str(tmp_path / "documents"), "SECRET_KEY": "workers-test",
        "SESSION_COOKIE_SECURE": "0", "RATELIMIT_STORAGE_URI": redis.url,
        "LOGIN_RATE_LIMIT": "3 per minute", "LOGIN_RATE_LIMIT_PER_ADDRESS": "100 per minute",
    }, workers=2)
    server.start()
    yield server
    server.stop()


def failed_login(url: str) -> int:
    return http("POST", f"{url}/api/v1/auth/token", {"login": "referent.rennes", "password": "faux"})[0]


def test_login_failures_are_counted_across_workers(two_workers):
    first = PinnedWorker(two_workers.url)
    on_second = [failed_login(two_workers.url) for _ in range(3)]
    second = PinnedWorker(two_workers.url)
    assert b"200 OK" in first.release()
    on_first = failed_login(two_workers.url)
    second.release()
    assert on_second == [401, 401, 401]
    assert on_first == 429, "the other worker knows of the three failures"


class Person:
    """A browser: cookies kept between requests, each request on a new connection."""

    def __init__(self, url: str):
        self.url = url
        self.request_id = ""
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()),
                                                  _NoRedirect())

    def open(self, path: str, form: dict | None = None) -> tuple[int, str, str]:
        """Status, body and Location of a page (a POST when `form` is given); keeps the request id."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.url + path, data=data, timeout=30) as response:
                status, body, headers = response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            status, body, headers = error.code, error.read().decode(), error.headers
        self.request_id = headers["X-Request-ID"]
        return status, body, headers.get("Location", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_session_and_csrf_token_from_one_worker_are_honoured_by_the_other(two_workers, session):
    person = Person(two_workers.url)
    first = PinnedWorker(two_workers.url)
    status, page, _ = person.open("/connexion")
    token = CSRF.search(page).group(1)
    second = PinnedWorker(two_workers.url)
    first.release()
    status, _page, location = person.open("/connexion", {"login": "referent.rennes", "password": DEMO_PASSWORD,
                                                         "csrf_token": token})
    assert status == 302 and location == "/"
    third = PinnedWorker(two_workers.url)
    second.release()
    status, inbox, _ = person.open("/")
    third.release()
    assert status == 200 and "Collège Saint-Joseph" in inbox
    lines = [json.loads(line) for line in two_workers.log().splitlines() if line.startswith("{")]
    access = [line for line in lines
              if line["logger"] == "gunicorn.access" and line.get("request_id") == person.request_id]
    assert len(access) == 1 and access[0]["path"] == "/" and access[0]["status"] == 200
    assert access[0]["user"] == str(principal_of(session, "referent.rennes").person_id)
