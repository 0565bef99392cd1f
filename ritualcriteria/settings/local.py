"""Local development: DEBUG on by default, embedded database and broker unless the environment says otherwise."""

from .base import *  # noqa: F403
from .env import env_bool, env_list, require_secret_key

DEBUG = env_bool("DEBUG", True)
if DEBUG and not SECRET_KEY:  # noqa: F405
    # Only for a developer's own machine with DEBUG on; production.py never falls back.
    SECRET_KEY = "django-insecure-local-development-only-0f3c9a7e"  # noqa: S105
SECRET_KEY = require_secret_key(SECRET_KEY, DEBUG)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
# runserver serves static files itself in development; WhiteNoise finds them without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
