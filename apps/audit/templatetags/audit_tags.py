"""Template helpers that link admin pages to the audit trail."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from ..registry import tracked_spec

register = template.Library()


@register.simple_tag(takes_context=True)
def audit_history_url(context: dict[str, Any], opts: Any, obj: Any) -> str:
    """Return the audit-trail changelist URL of `obj`, or '' when it is not audited or the user may not see it."""
    request = context.get("request")
    spec = tracked_spec(opts.model) if opts is not None else None
    if spec is None or obj is None or obj.pk is None or request is None:
        return ""
    if not request.user.has_perm("audit.view_auditevent"):
        return ""
    query = urlencode({"object_type": spec.label, "object_id": str(obj.pk)})
    return f"{reverse('admin:audit_auditevent_changelist')}?{query}"
