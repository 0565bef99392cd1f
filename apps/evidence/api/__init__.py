"""The evidence REST API: serializers, per-request abilities and viewsets (routed by apps.evidence.urls_api)."""
