"""Logs that operations can follow: one line per event, JSON or text, with the request's context.

Every request gets an id: the `X-Request-ID` header of the proxy in front when
it sends a sensible one, otherwise a new one. The id is returned in the same
response header, attached to every log line written while the request runs
(with the person's id and the instance concerned) and left in the WSGI
environment, where gunicorn's access log reads it (see gunicorn.conf.py).

LOG_FORMAT=json writes one JSON object per line, for a log collector;
LOG_FORMAT=text (the default) writes readable lines.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request
from gunicorn import glogging

from webapp.config import settings_of

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy may hand us: a bounded, log-safe token (no spaces, quotes or line breaks).
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@+=-]{1,128}$")
# Keys of the WSGI environment the access log reads, after the app has answered.
ENVIRON_REQUEST_ID = "campagne.request_id"
ENVIRON_USER = "campagne.user"
ENVIRON_INSTANCE = "campagne.instance_id"
CONTEXT_FIELDS = ("request_id", "user", "instance_id")
# Attributes every LogRecord has; anything else was passed with `extra=` and belongs in the JSON line.
_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
TEXT_FORMAT = ("%(asctime)s %(levelname)s %(name)s [req=%(request_id)s user=%(user)s instance=%(instance_id)s] "
               "%(message)s")


def init_app(app: Flask) -> None:
    """Configure the process's logging from LOG_FORMAT and LOG_LEVEL, and give every request an id."""
    configure_logging(settings_of(app).log_format, settings_of(app).log_level)
    app.before_request(_assign_request_id)
    app.after_request(_expose_request_context)


def configure_logging(log_format: str = "text", level: str = "INFO") -> logging.Handler:
    """Send every logger's records to stderr in `log_format`; calling it again replaces the handler."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "campagne", False)]:
        root.removeHandler(handler)
    handler = make_handler(log_format)
    root.addHandler(handler)
    root.setLevel(logging.getLevelNamesMapping().get(level.upper(), logging.INFO))
    # Alembic lists its plugins the first time a process reads the migrations (the health check does), and
    # SpiffWorkflow logs every change of every task's state: both only when debugging.
    quiet = logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING
    logging.getLogger("alembic.runtime.plugins").setLevel(quiet)
    logging.getLogger("spiff").setLevel(quiet)
    return handler


class _CampaignHandler(logging.StreamHandler):
    """A handler of this module: `configure_logging` replaces it when called again."""

    campagne = True


class _StderrHandler(_CampaignHandler):
    """A handler on the current sys.stderr, even after it was replaced (test capture, daemons)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def make_handler(log_format: str = "text", stream=None) -> logging.Handler:
    """A handler writing lines in `log_format` (json or text) with the request's context, to `stream` or stderr."""
    handler = _CampaignHandler(stream) if stream is not None else _StderrHandler()
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


class RequestContextFilter(logging.Filter):
    """Add the request id, the person's id and the instance id to every record (None outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = request_context() if has_request_context() else {}
        for name in CONTEXT_FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, context.get(name))
        instance_id = getattr(record, "instance_id", None)
        if has_request_context() and instance_id is not None:
            # An instance named by the engine's log lines also goes to the request's access line.
            g.log_instance_id = instance_id
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context and the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRIBUTES and not name.startswith("_") and value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def request_context() -> dict:
    """Request id, person id and instance id of the current request, as far as known."""
    return {"request_id": g.get("request_id"), "user": _person_id(), "instance_id": _instance_id()}


def _person_id() -> int | None:
    # Only a person already loaded by this request: logging must never query the database.
    api_principal = g.get("api_principal")
    if api_principal is not None:
        return api_principal.person_id
    user = g.get("_login_user")
    principal = getattr(user, "principal", None)
    return principal.person_id if principal is not None else None


def _instance_id() -> int | None:
    noted = g.get("log_instance_id")
    if noted is not None:
        return noted
    return (request.view_args or {}).get("instance_id")


def _assign_request_id() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
    request.environ[ENVIRON_REQUEST_ID] = g.request_id


def _expose_request_context(response):
    if "request_id" not in g:
        _assign_request_id()
    response.headers[REQUEST_ID_HEADER] = g.request_id
    context = request_context()
    request.environ[ENVIRON_USER] = "-" if context["user"] is None else str(context["user"])
    request.environ[ENVIRON_INSTANCE] = "-" if context["instance_id"] is None else str(context["instance_id"])
    return response


class GunicornLogger(glogging.Logger):
    """Gunicorn's logger with our formats: JSON access lines carrying the request's context when LOG_FORMAT=json."""

    log_format = "text"

    def setup(self, cfg) -> None:
        """Set gunicorn's handlers up, then give them our formatter."""
        super().setup(cfg)
        self.log_format = "json" if os.environ.get("LOG_FORMAT", "").lower() == "json" else "text"
        if self.log_format == "json":
            for logger in (self.error_log, self.access_log):
                for handler in logger.handlers:
                    handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time) -> None:
        """Write the access line of a request: gunicorn's format in text, an object in JSON."""
        if self.log_format != "json":
            super().access(resp, req, environ, request_time)
            return
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.logconfig_dict):
            return
        status = str(resp.status).split(None, 1)[0]
        milliseconds = request_time.seconds * 1000 + request_time.microseconds // 1000
        fields = {
            "remote": environ.get("REMOTE_ADDR"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": int(status) if status.isdigit() else status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": milliseconds,
            "request_id": environ.get(ENVIRON_REQUEST_ID),
            "user": _dash_to_none(environ.get(ENVIRON_USER)),
            "instance_id": _dash_to_none(environ.get(ENVIRON_INSTANCE)),
        }
        self.access_log.info("%s %s %s", fields["method"], fields["path"], status, extra=fields)


def _dash_to_none(value: str | None) -> str | None:
    return None if value in (None, "-") else value
