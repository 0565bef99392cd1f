"""Routes of the notifications API, included under /api/ by the project's URL map: /notifications/ and
/notifications/read/."""

from rest_framework.routers import SimpleRouter

from .api import NotificationViewSet

app_name = "reminders_api"

router = SimpleRouter()
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = router.urls
