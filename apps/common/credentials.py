"""Local demo logins, written once to the data folder so `make run` can print them every time."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from django.conf import settings

CREDENTIALS_FILE = "demo-logins.json"


def credentials_path() -> Path:
    """Where the demo logins are kept (readable by the owner only)."""
    return Path(settings.DATA_DIR) / CREDENTIALS_FILE


def load_credentials() -> dict[str, str]:
    """Return the saved demo logins (username -> password), empty when none were saved."""
    path = credentials_path()
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def remember_credentials(new: dict[str, str]) -> None:
    """Add logins to the credentials file, owner-readable only."""
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    merged = {**load_credentials(), **new}
    path.write_text(json.dumps(merged, indent=2), encoding="utf-8")
    os.chmod(path, 0o600)


def new_password() -> str:
    """Return a random password that is easy to type."""
    return secrets.token_urlsafe(12)
