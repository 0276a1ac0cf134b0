"""Settings read from the environment, with defaults that make the demo run as is."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def _secret_key(instance_path: Path) -> str:
    # Kept in a file so that every worker of one machine, and every restart, shares it.
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def settings_from_environment(instance_path: Path) -> dict:
    """Configuration mapping of the app, from environment variables."""
    project_root = Path(__file__).resolve().parent.parent
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _secret_key(instance_path),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'campagne.db'}",
        "STORAGE_DIR": Path(os.environ.get("STORAGE_DIR") or instance_path / "documents"),
        "SMTP_URL": os.environ.get("SMTP_URL"),
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "Service Civique <service-civique@example.org>"),
        "PROCESSES_DIR": Path(os.environ.get("PROCESSES_DIR") or project_root / "processes"),
        "FORMS_DIR": Path(os.environ.get("FORMS_DIR") or project_root / "forms"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "DEMO": _flag("DEMO", False),
        # Cookies travel over HTTPS only, except in the demo, which `make run` serves over plain HTTP.
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", not _flag("DEMO", False)),
        "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,
        "FORCE_HTTPS": _flag("FORCE_HTTPS", False),
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES") or 0),
        # Counters shared by every worker need a shared store (redis://…); memory:// is per process.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT") or "10 per minute;50 per hour",
        "LOGIN_RATE_LIMIT_PER_ADDRESS": os.environ.get("LOGIN_RATE_LIMIT_PER_ADDRESS") or "30 per minute;300 per hour",
        "API_TOKEN_HOURS": int(os.environ.get("API_TOKEN_HOURS") or 8),
        "GDPR_RETENTION_DAYS": int(os.environ.get("GDPR_RETENTION_DAYS") or 365),
    }


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.lower() in ("1", "true", "yes", "oui")
