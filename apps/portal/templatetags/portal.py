"""Template helpers of the portal: the navigation bar, numbers, flags and metric changes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from apps.evidence.constants import Direction, FlagCode

from ..selectors import Nav, nav_for

register = template.Library()


@register.inclusion_tag("portal/_nav.html", takes_context=True)
def portal_nav(context: template.Context) -> dict[str, Any]:
    """The navigation bar: the user's name, roles and the sections they use (the view's `nav` if it made one)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else ""
    if user is None or not user.is_authenticated:
        return {"nav": None, "current": current}
    nav = context.get("nav")
    return {"nav": nav if isinstance(nav, Nav) else nav_for(user), "current": current}


@register.filter
def num(value: Decimal | None) -> str:
    """A decimal without trailing zeros: 61.5000 -> 61.5, 74.0000 -> 74."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


@register.filter
def person(user: Any) -> str:
    """A user's full name, else their username; a deleted user (reviewer set to NULL) reads "a former user"."""
    if user is None:
        return "a former user"
    return user.get_full_name() or user.get_username()


@register.filter
def flag_label(code: str) -> str:
    """The human label of a gaming-flag code."""
    try:
        return FlagCode(code).label
    except ValueError:
        return code.replace("_", " ")


@register.simple_tag
def metric_change(evidence: Any) -> dict[str, Any] | None:
    """Baseline to result, the change in the metric's unit and percent, and whether it went the good way."""
    baseline, result = evidence.baseline, evidence.result
    if baseline is None or result is None:
        return None
    delta = result - baseline
    percent = (delta / abs(baseline) * 100).quantize(Decimal("0.1")) if baseline else None
    if delta == 0:
        verdict = "unchanged"
    elif (delta > 0) == (evidence.direction == Direction.INCREASE):
        verdict = "better"
    else:
        verdict = "worse"
    return {"size": abs(delta), "percent": abs(percent) if percent is not None else None, "verdict": verdict}
