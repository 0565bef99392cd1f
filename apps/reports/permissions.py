"""Who reads the compliance reports: Leadership and HR (superusers count as both). Nobody else, not even a manager.

Reports hold figures, names of units, reviewers and case subjects, never evidence text: what an item says stays
behind the evidence permissions (apps.evidence.permissions), which Leadership does not pass.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from apps.common.roles import is_hr, is_leadership


def can_view_reports(user: object) -> bool:
    """May `user` see the dashboard, the report API and make exports?"""
    return bool(getattr(user, "is_authenticated", False)) and (is_hr(user) or is_leadership(user))


class ReportsPermission(BasePermission):
    """DRF: Leadership and HR only (others get 403, anonymous 401)."""

    message = "Compliance reports are for the Leadership and HR groups."

    def has_permission(self, request, view) -> bool:
        return can_view_reports(request.user)
