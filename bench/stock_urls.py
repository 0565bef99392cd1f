"""URL map of bench/load.py's server: the product's urls, plus the stock evidence API under /bench-stock/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from bench.stock_api import StockEvidenceViewSet
from ritualcriteria.urls import handler400, handler500
from ritualcriteria.urls import urlpatterns as product_urlpatterns

router = SimpleRouter()
router.register("evidence", StockEvidenceViewSet, basename="stock-evidence")

urlpatterns = [path("bench-stock/", include(router.urls)), *product_urlpatterns]

__all__ = ["handler400", "handler500", "urlpatterns"]
