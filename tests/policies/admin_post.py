"""POST bodies of the policy version change form, as the browser sends them."""

from __future__ import annotations

from typing import Any

from apps.policies.models import PolicyVersion


def version_post(version: PolicyVersion, rows: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """The change form of `version` with requirement rows; a row with an "id" edits that requirement."""
    data: dict[str, Any] = {
        "effective_from": version.effective_from.isoformat(),
        "effective_to": version.effective_to.isoformat() if version.effective_to else "",
        "notes": version.notes,
        "requirements-TOTAL_FORMS": str(len(rows)),
        "requirements-INITIAL_FORMS": str(sum(1 for row in rows if "id" in row)),
        "requirements-MIN_NUM_FORMS": "0",
        "requirements-MAX_NUM_FORMS": "1000",
        **extra,
    }
    for i, row in enumerate(rows):
        data[f"requirements-{i}-version"] = str(version.pk)
        data[f"requirements-{i}-order"] = str(i)
        data[f"requirements-{i}-weight"] = "1"
        data[f"requirements-{i}-customer_type"] = "any"
        for key, value in row.items():
            data[f"requirements-{i}-{key}"] = value
    return data
