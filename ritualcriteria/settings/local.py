"""Local development: DEBUG on by default, embedded database and broker unless the environment says otherwise."""

from .base import *  # noqa: F403
from .env import env_bool, env_list, local_secret, require_secret_key

DEBUG = env_bool("DEBUG", True)
if DEBUG and not SECRET_KEY:  # noqa: F405
    # Only for a developer's own machine with DEBUG on; production.py never falls back.
    SECRET_KEY = "django-insecure-local-development-only-0f3c9a7e"  # noqa: S105
SECRET_KEY = require_secret_key(SECRET_KEY, DEBUG)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
# runserver serves static files itself in development; WhiteNoise finds them without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# The embedded default keys the audit chain with a secret generated once into the data folder (mode 0600). It sits
# beside the SQLite file, so it guards against a database writer, not against someone who can read the folder.
if not AUDIT_CHAIN_KEY:  # noqa: F405
    AUDIT_CHAIN_KEY = local_secret(DATA_DIR / "audit-chain.key")  # noqa: F405
