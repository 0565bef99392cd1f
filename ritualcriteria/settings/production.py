"""Production: DEBUG off, SECRET_KEY and ALLOWED_HOSTS required, secure cookies and HTTPS headers."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .env import env_bool, env_int, require_audit_chain_key, require_secret_key

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = require_secret_key(SECRET_KEY, DEBUG)  # noqa: F405
if not ALLOWED_HOSTS:  # noqa: F405
    raise ImproperlyConfigured("ALLOWED_HOSTS is not set; list the host names this server answers to.")

AUDIT_CHAIN_KEY = require_audit_chain_key(AUDIT_CHAIN_KEY)  # noqa: F405

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Preloading is a promise to browsers' built-in lists that every subdomain of the company's domain is HTTPS-only,
# slow to undo and not ours alone to make: it stays off unless SECURE_HSTS_PRELOAD=1, and `check --deploy` is told
# so instead of warning (security.W021) on every deploy. See README, "Production", and docs/security.md.
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
