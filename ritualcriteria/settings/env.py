"""Small helpers that read configuration from the environment (12-factor style)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

TRUE_VALUES = {"1", "true", "yes", "on"}
FALSE_VALUES = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """Return the variable as a stripped string, or the default when unset."""
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    """Return a boolean variable; anything but a clear yes/no is a start-up error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int) -> int:
    """Return an integer variable; a non-integer is a start-up error."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated variable as a list without empty items."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def email_config(url: str) -> dict[str, object]:
    """Translate EMAIL_URL (smtp://, smtps://, console://, file:///dir, locmem://) into Django settings."""
    parsed = urlparse(url)
    scheme = parsed.scheme
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if scheme == "file":
        if not parsed.path:
            raise ImproperlyConfigured("EMAIL_URL=file:// needs a folder, e.g. file:///var/mail/ritualcriteria")
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": parsed.path,
        }
    if scheme in {"smtp", "smtps"}:
        query = parse_qs(parsed.query)
        use_ssl = scheme == "smtps"
        use_tls = not use_ssl and query.get("tls", ["0"])[0].lower() in TRUE_VALUES
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parsed.hostname or "localhost",
            "EMAIL_PORT": parsed.port or (465 if use_ssl else 587 if use_tls else 25),
            "EMAIL_HOST_USER": unquote(parsed.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
            "EMAIL_USE_SSL": use_ssl,
            "EMAIL_USE_TLS": use_tls,
            "EMAIL_TIMEOUT": 10,
        }
    raise ImproperlyConfigured(
        f"EMAIL_URL scheme {scheme!r} is not supported; use smtp, smtps, console, file or locmem."
    )


def require_secret_key(secret_key: str, debug: bool) -> str:
    """Refuse to start without a SECRET_KEY unless DEBUG is on (local development only)."""
    if not secret_key and not debug:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'); DEBUG is off, so no "
            "development default is used."
        )
    return secret_key


def env_site_url() -> str:
    """SITE_URL when set, else the local server `make run` starts: http://127.0.0.1:{RC_PORT or 8000}."""
    explicit = env_str("SITE_URL")
    if explicit:
        return explicit.rstrip("/")
    return f"http://127.0.0.1:{env_int('RC_PORT', 8000)}"


def audit_checkpoint_storage(raw: str, default_dir: str) -> dict[str, object]:
    """AUDIT_CHECKPOINT_STORAGE: a JSON STORAGES-style entry ({"BACKEND": ..., "OPTIONS": {...}}), else a folder."""
    if not raw:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": default_dir}}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"AUDIT_CHECKPOINT_STORAGE is not valid JSON: {exc}.") from exc
    if not isinstance(value, dict) or not isinstance(value.get("BACKEND"), str):
        raise ImproperlyConfigured(
            'AUDIT_CHECKPOINT_STORAGE must be a JSON object like {"BACKEND": "dotted.path", "OPTIONS": {...}}.'
        )
    return {"BACKEND": value["BACKEND"], "OPTIONS": dict(value.get("OPTIONS") or {})}


def require_audit_chain_key(key: str) -> str:
    """Refuse to start without an AUDIT_CHAIN_KEY of at least 32 characters (production)."""
    if len(key) < 32:
        problem = "is not set" if not key else "is shorter than 32 characters"
        raise ImproperlyConfigured(
            f"AUDIT_CHAIN_KEY {problem}. The audit chain's hashes are keyed with it, so it must be a long random "
            "value kept outside the database (python -c 'import secrets; print(secrets.token_urlsafe(48))'). Keep "
            "it for good: the trail sealed with it verifies only with it (docs/audit.md)."
        )
    return key


def local_secret(path: Path) -> str:
    """A secret kept in a file of the data folder: read it, or generate it on first use (owner-readable only)."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process (web, worker, beat) created it first: use theirs
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(value + "\n")
    return value
