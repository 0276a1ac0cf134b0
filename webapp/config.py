"""Settings read from the environment, with defaults that make the demo run as is.

They are read once, when the app is created, into one frozen `Settings` kept in `app.extensions` (`settings_of`).
Flask and its extensions find their own keys in `app.config`, fed from it (`Settings.flask_config`); the parts
of the engine that take settings get what they need derived from it (`runtime_settings`, `Settings.mail`).
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from engine.directory.web_sessions import SessionLimits
from engine.runtime.budget import Budget
from engine.runtime.runtime import RuntimeSettings
from engine.uploads import max_upload_bytes

# Where the app factory keeps the runtime settings in `app.extensions`.
RUNTIME_SETTINGS = "runtime_settings"
# Where it keeps the settings themselves.
SETTINGS = "settings"


@dataclass(frozen=True)
class Settings:
    """Every setting of the platform, typed; each field is the environment variable of its name in capitals."""

    secret_key: str
    database_url: str
    # Documents produced and uploaded; shared between servers.
    storage_dir: Path
    processes_dir: Path
    forms_dir: Path
    # bpmn-js, installed by `npm ci --omit=dev` (make setup); diagram pages degrade to a list without it.
    node_modules_dir: Path
    smtp_url: str | None
    mail_sender: str
    # Without SMTP_URL, the demo writes each message as a .eml file here; elsewhere messages wait in the queue.
    mail_dir: Path | None
    # Links in emails point here.
    base_url: str
    demo: bool
    # Cookies travel over HTTPS only, except in the demo, which `make run` serves over plain HTTP.
    session_cookie_secure: bool
    # A web session ends after this many minutes without a page (the browser drops its cookie too), and after
    # this many hours whatever happens.
    session_idle_minutes: int
    session_max_hours: int
    local_login_enabled: bool
    # Largest attached file (identity document, signed contract).
    max_upload_mb: float
    # What each script, condition, DMN cell and template of the processes may spend (engine/runtime/budget.py).
    script_time_budget_seconds: float
    script_memory_budget_mb: int
    force_https: bool
    trusted_proxies: int
    # Counters shared by every worker need a shared store (redis://…); memory:// is per process.
    ratelimit_storage_uri: str
    login_rate_limit: str
    login_rate_limit_per_address: str
    api_token_hours: int
    gdpr_retention_days: int
    log_format: str
    log_level: str
    # The health check fails when fewer workers than this beat within `health_worker_max_age` seconds.
    health_workers: int
    health_worker_max_age: int
    run_worker_in_process: bool
    worker_interval: float
    # The daily synchronisation of the directory (engine/directory/sync.py): the Isidoor export's file path or
    # HTTPS address (None: no synchronisation), the bearer token the address asks for, the hour it runs from.
    directory_sync_source: str | None
    directory_sync_token: str | None
    directory_sync_hour: int
    # Single sign-on with Isidoor (webapp/oidc.py); the issuer exactly as the provider writes it (trailing slash
    # included), since tokens are compared with it.
    oidc_issuer: str | None
    oidc_client_id: str | None
    oidc_client_secret: str | None
    oidc_scopes: str
    oidc_claim_isidoor_id: str
    oidc_claim_gabriel_id: str
    oidc_claim_email: str
    oidc_claim_phone: str
    # Empty: roles are not compared with the directory.
    oidc_claim_roles: str
    oidc_clock_skew: int
    oidc_timeout: float
    # The time as the web app reads it to age sessions; not read from the environment, tests set it.
    clock: Callable[[], datetime] = datetime.now

    @classmethod
    def names(cls) -> set[str]:
        """The settings' names as environment variables."""
        return {field.name.upper() for field in fields(cls)}

    def flask_config(self) -> dict[str, Any]:
        """What Flask and its extensions (Flask-Limiter) read from `app.config`."""
        return {
            "SECRET_KEY": self.secret_key,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.session_cookie_secure,
            "PERMANENT_SESSION_LIFETIME": self.session_idle_minutes * 60,
            # A request carries a few attached files, base64 in the API.
            "MAX_CONTENT_LENGTH": int(max(10, 4 * self.max_upload_mb + 2) * 1024 * 1024),
            "RATELIMIT_STORAGE_URI": self.ratelimit_storage_uri,
            "RATELIMIT_HEADERS_ENABLED": True,
        }

    def session_limits(self) -> SessionLimits:
        """How long a web session lasts without a page, and at most."""
        return SessionLimits(idle=timedelta(minutes=self.session_idle_minutes),
                             lifetime=timedelta(hours=self.session_max_hours))

    def mail(self) -> dict[str, Any]:
        """What sending mail reads (`engine.mail.transport_from_settings`, the worker): transport, sender, links."""
        return {"SMTP_URL": self.smtp_url, "MAIL_DIR": self.mail_dir, "MAIL_SENDER": self.mail_sender,
                "BASE_URL": self.base_url}

    def background(self) -> dict[str, Any]:
        """What the background worker reads: the mail settings and the directory's daily synchronisation."""
        return {**self.mail(), "DIRECTORY_SYNC_SOURCE": self.directory_sync_source,
                "DIRECTORY_SYNC_TOKEN": self.directory_sync_token, "DIRECTORY_SYNC_HOUR": self.directory_sync_hour}


def settings_of(app: Flask | None = None) -> Settings:
    """The settings of an app (by default the current one), read when it was created."""
    return (app or current_app).extensions[SETTINGS]


def _secret_key(instance_path: Path) -> str:
    # Kept in a file so that every worker of one machine, and every restart, shares it.
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        # Workers starting together must not each write their own key: the first link wins, whole.
        draft = instance_path / f"secret_key.{os.getpid()}"
        draft.write_text(secrets.token_hex(32))
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def settings_from_environment(instance_path: Path, overrides: Mapping[str, Any] | None = None) -> Settings:
    """The settings, from environment variables; `overrides` (by variable name) replace what they name."""
    project_root = Path(__file__).resolve().parent.parent
    values = {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _secret_key(instance_path),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'campagne.db'}",
        "STORAGE_DIR": Path(os.environ.get("STORAGE_DIR") or instance_path / "documents"),
        "SMTP_URL": os.environ.get("SMTP_URL"),
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "Service Civique <service-civique@example.org>"),
        "PROCESSES_DIR": Path(os.environ.get("PROCESSES_DIR") or project_root / "processes"),
        "FORMS_DIR": Path(os.environ.get("FORMS_DIR") or project_root / "forms"),
        "NODE_MODULES_DIR": Path(os.environ.get("NODE_MODULES_DIR") or project_root / "node_modules"),
        **_sign_on_settings(),
        **_background_settings(instance_path),
        "DEMO": _flag("DEMO", False),
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", not _flag("DEMO", False)),
        "MAX_UPLOAD_MB": _max_upload_mb(),
        "SCRIPT_TIME_BUDGET_SECONDS": _bounded("SCRIPT_TIME_BUDGET_SECONDS", 1.0, 0.05, 60.0),
        "SCRIPT_MEMORY_BUDGET_MB": int(_bounded("SCRIPT_MEMORY_BUDGET_MB", 64, 8, 4096)),
        "FORCE_HTTPS": _flag("FORCE_HTTPS", False),
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES") or 0),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or "memory://",
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT") or "10 per minute;50 per hour",
        "LOGIN_RATE_LIMIT_PER_ADDRESS": os.environ.get("LOGIN_RATE_LIMIT_PER_ADDRESS") or "30 per minute;300 per hour",
        "API_TOKEN_HOURS": int(os.environ.get("API_TOKEN_HOURS") or 8),
        "GDPR_RETENTION_DAYS": int(os.environ.get("GDPR_RETENTION_DAYS") or 365),
        "LOG_FORMAT": "json" if (os.environ.get("LOG_FORMAT") or "").lower() == "json" else "text",
        "LOG_LEVEL": (os.environ.get("LOG_LEVEL") or "INFO").upper(),
        "HEALTH_WORKERS": int(os.environ.get("HEALTH_WORKERS") or 0),
        "HEALTH_WORKER_MAX_AGE": int(os.environ.get("HEALTH_WORKER_MAX_AGE") or 300),
    }
    names = Settings.names()
    values.update({name: value for name, value in (overrides or {}).items() if name in names})
    return Settings(**{name.lower(): value for name, value in values.items()})


def runtime_settings(settings: Settings) -> RuntimeSettings:
    """The part of the app's settings the process runtime needs; secrets and the rest stay in the app."""
    return RuntimeSettings(storage_dir=Path(settings.storage_dir),
                           max_upload_bytes=max_upload_bytes(settings.max_upload_mb),
                           script_budget=Budget(settings.script_time_budget_seconds, settings.script_memory_budget_mb))


def runtime_settings_of(app: Flask) -> RuntimeSettings:
    """The runtime settings the app factory derived once from the app's settings."""
    return app.extensions[RUNTIME_SETTINGS]


def _max_upload_mb() -> float:
    try:
        return max(float(os.environ.get("MAX_UPLOAD_MB") or 5), 0.1)
    except ValueError:
        return 5.0


def _bounded(name: str, default: float, lowest: float, highest: float) -> float:
    """A number from the environment, kept within bounds; the default when unreadable."""
    try:
        value = float(os.environ.get(name) or default)
    except ValueError:
        return default
    return min(max(value, lowest), highest)


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.lower() in ("1", "true", "yes", "oui")


def _sign_on_settings() -> dict:
    # Single sign-on with Isidoor (OpenID Connect, webapp/oidc.py), local accounts and how long sessions last.
    return {
        "SESSION_IDLE_MINUTES": max(int(os.environ.get("SESSION_IDLE_MINUTES") or 60), 1),
        "SESSION_MAX_HOURS": max(int(os.environ.get("SESSION_MAX_HOURS") or 12), 1),
        "LOCAL_LOGIN_ENABLED": _flag("LOCAL_LOGIN_ENABLED", True),
        "OIDC_ISSUER": (os.environ.get("OIDC_ISSUER") or "").strip() or None,
        "OIDC_CLIENT_ID": os.environ.get("OIDC_CLIENT_ID") or None,
        "OIDC_CLIENT_SECRET": os.environ.get("OIDC_CLIENT_SECRET") or None,
        "OIDC_SCOPES": os.environ.get("OIDC_SCOPES") or "openid email phone profile",
        "OIDC_CLAIM_ISIDOOR_ID": os.environ.get("OIDC_CLAIM_ISIDOOR_ID") or "sub",
        "OIDC_CLAIM_GABRIEL_ID": os.environ.get("OIDC_CLAIM_GABRIEL_ID") or "gabriel_id",
        "OIDC_CLAIM_EMAIL": os.environ.get("OIDC_CLAIM_EMAIL") or "email",
        "OIDC_CLAIM_PHONE": os.environ.get("OIDC_CLAIM_PHONE") or "phone_number",
        "OIDC_CLAIM_ROLES": os.environ.get("OIDC_CLAIM_ROLES", "roles"),
        "OIDC_CLOCK_SKEW": int(os.environ.get("OIDC_CLOCK_SKEW") or 60),
        "OIDC_TIMEOUT": float(os.environ.get("OIDC_TIMEOUT") or 10),
    }


def _background_settings(instance_path: Path) -> dict:
    # Timers, task announcements and mail (engine/runtime/worker.py): `flask --app webapp worker`, or in the demo server.
    mail_dir = os.environ.get("MAIL_DIR")
    return {
        "MAIL_DIR": Path(mail_dir) if mail_dir else (instance_path / "mails" if _flag("DEMO", False) else None),
        "BASE_URL": os.environ.get("BASE_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or 5000}",
        "RUN_WORKER_IN_PROCESS": _flag("RUN_WORKER_IN_PROCESS", False),
        "WORKER_INTERVAL": float(os.environ.get("WORKER_INTERVAL") or 10),
        "DIRECTORY_SYNC_SOURCE": (os.environ.get("DIRECTORY_SYNC_SOURCE") or "").strip() or None,
        "DIRECTORY_SYNC_TOKEN": os.environ.get("DIRECTORY_SYNC_TOKEN") or None,
        "DIRECTORY_SYNC_HOUR": int(_bounded("DIRECTORY_SYNC_HOUR", 3, 0, 23)),
    }
