"""Settings of bench/load.py's gunicorn: production's, serving the stock evidence API beside the product's."""

from ritualcriteria.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.stock_urls"
