"""Routes of the cases API, included under /api/ by the project's URL map.

Besides the router's list and detail routes: /cases/{id}/decide|withdraw|attest|exceptions|timeline/,
/cases/{id}/attestations/{attestation_id}/withdraw/, /cycles/{id}/cases/ (open a case) and /exceptions/{id}/decide/.
"""

from rest_framework.routers import SimpleRouter

from .api import CaseViewSet, CycleViewSet, ExceptionViewSet

app_name = "cases_api"

router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")
router.register("cycles", CycleViewSet, basename="cycle")
router.register("exceptions", ExceptionViewSet, basename="exception")

urlpatterns = router.urls
