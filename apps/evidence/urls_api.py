"""Routes of the evidence API, included under /api/ by the project's URL map."""

from rest_framework.routers import SimpleRouter

from .api.views import AttachmentViewSet, EvidenceViewSet, ReviewQueueViewSet

app_name = "evidence_api"

# SimpleRouter: no API root view, so other apps can mount their own routers under /api/ too.
router = SimpleRouter()
router.register("evidence", EvidenceViewSet, basename="evidence")
router.register("review-queue", ReviewQueueViewSet, basename="review-queue")
router.register("attachments", AttachmentViewSet, basename="attachment")

urlpatterns = router.urls
