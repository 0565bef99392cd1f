"""Template helpers of the dashboard: percentages, durations and tree indentation."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def pct(value: float | None) -> str:
    """A 0-1 fraction as a whole percentage; an en dash when undefined (nothing to divide by)."""
    if value is None:
        return "–"
    return f"{value * 100:.0f}%"


@register.filter
def hours(value: float | None) -> str:
    """Hours as '30 h', or days beyond two days ('8.3 days'); an en dash when there is nothing."""
    if value is None:
        return "–"
    if value >= 48:
        return f"{value / 24:.1f} days"
    return f"{value:g} h"


@register.filter
def number(value: float | None) -> str:
    """A count or a median: '2', '2.5'; an en dash for None."""
    if value is None:
        return "–"
    return f"{value:g}"


@register.filter
def indent(depth: int) -> str:
    """Left padding in rem for a row of the unit tree."""
    return f"{0.25 + depth * 1.25:.2f}rem"
