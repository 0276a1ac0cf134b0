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
        # bpmn-js, installed by `npm ci --omit=dev` (make setup); diagram pages degrade to a list without it.
        "NODE_MODULES_DIR": Path(os.environ.get("NODE_MODULES_DIR") or project_root / "node_modules"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        **_sign_on_settings(),
        **_background_settings(instance_path),
        "DEMO": _flag("DEMO", False),
        # Cookies travel over HTTPS only, except in the demo, which `make run` serves over plain HTTP.
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", not _flag("DEMO", False)),
        # Largest attached file (identity document, signed contract); a request carries a few, base64 in the API.
        "MAX_UPLOAD_MB": _max_upload_mb(),
        "MAX_CONTENT_LENGTH": int(max(10, 4 * _max_upload_mb() + 2) * 1024 * 1024),
        "FORCE_HTTPS": _flag("FORCE_HTTPS", False),
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES") or 0),
        # Counters shared by every worker need a shared store (redis://…); memory:// is per process.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT") or "10 per minute;50 per hour",
        "LOGIN_RATE_LIMIT_PER_ADDRESS": os.environ.get("LOGIN_RATE_LIMIT_PER_ADDRESS") or "30 per minute;300 per hour",
        "API_TOKEN_HOURS": int(os.environ.get("API_TOKEN_HOURS") or 8),
        "GDPR_RETENTION_DAYS": int(os.environ.get("GDPR_RETENTION_DAYS") or 365),
        "LOG_FORMAT": "json" if (os.environ.get("LOG_FORMAT") or "").lower() == "json" else "text",
        "LOG_LEVEL": (os.environ.get("LOG_LEVEL") or "INFO").upper(),
        # The health check fails when fewer workers than this beat within HEALTH_WORKER_MAX_AGE seconds.
        "HEALTH_WORKERS": int(os.environ.get("HEALTH_WORKERS") or 0),
        "HEALTH_WORKER_MAX_AGE": int(os.environ.get("HEALTH_WORKER_MAX_AGE") or 300),
    }


def _max_upload_mb() -> float:
    try:
        return max(float(os.environ.get("MAX_UPLOAD_MB") or 5), 0.1)
    except ValueError:
        return 5.0


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.lower() in ("1", "true", "yes", "oui")


def _sign_on_settings() -> dict:
    # Single sign-on with Isidoor (OpenID Connect, webapp/oidc.py), local accounts and session lifetime.
    return {
        # Seconds: a session idle this long ends, and the browser drops its cookie.
        "PERMANENT_SESSION_LIFETIME": int(os.environ.get("PERMANENT_SESSION_LIFETIME") or 8 * 3600),
        "LOCAL_LOGIN_ENABLED": _flag("LOCAL_LOGIN_ENABLED", True),
        # Exactly as the provider writes it (trailing slash included): tokens are compared with it.
        "OIDC_ISSUER": (os.environ.get("OIDC_ISSUER") or "").strip() or None,
        "OIDC_CLIENT_ID": os.environ.get("OIDC_CLIENT_ID") or None,
        "OIDC_CLIENT_SECRET": os.environ.get("OIDC_CLIENT_SECRET") or None,
        "OIDC_SCOPES": os.environ.get("OIDC_SCOPES") or "openid email phone profile",
        "OIDC_CLAIM_ISIDOOR_ID": os.environ.get("OIDC_CLAIM_ISIDOOR_ID") or "sub",
        "OIDC_CLAIM_GABRIEL_ID": os.environ.get("OIDC_CLAIM_GABRIEL_ID") or "gabriel_id",
        "OIDC_CLAIM_EMAIL": os.environ.get("OIDC_CLAIM_EMAIL") or "email",
        "OIDC_CLAIM_PHONE": os.environ.get("OIDC_CLAIM_PHONE") or "phone_number",
        # Empty: roles are not compared with the directory.
        "OIDC_CLAIM_ROLES": os.environ.get("OIDC_CLAIM_ROLES", "roles"),
        "OIDC_CLOCK_SKEW": int(os.environ.get("OIDC_CLOCK_SKEW") or 60),
        "OIDC_TIMEOUT": float(os.environ.get("OIDC_TIMEOUT") or 10),
    }


def _background_settings(instance_path: Path) -> dict:
    # Timers, task announcements and mail (engine/runtime/worker.py): `flask --app webapp worker`, or in the demo server.
    mail_dir = os.environ.get("MAIL_DIR")
    return {
        # Without SMTP_URL, the demo writes each message as a .eml file here; elsewhere messages wait in the queue.
        "MAIL_DIR": Path(mail_dir) if mail_dir else (instance_path / "mails" if _flag("DEMO", False) else None),
        # Links in emails point here.
        "BASE_URL": os.environ.get("BASE_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or 5000}",
        "RUN_WORKER_IN_PROCESS": _flag("RUN_WORKER_IN_PROCESS", False),
        "WORKER_INTERVAL": float(os.environ.get("WORKER_INTERVAL") or 10),
    }
