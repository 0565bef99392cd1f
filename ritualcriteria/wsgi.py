"""WSGI entry point (gunicorn ritualcriteria.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ritualcriteria.settings.production")

application = get_wsgi_application()
