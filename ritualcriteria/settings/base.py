"""Settings shared by every environment; every value that differs between machines comes from the environment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from .env import audit_checkpoint_storage, email_config, env_bool, env_int, env_list, env_site_url, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(env_str("RC_DATA_DIR", str(BASE_DIR / "data"))).resolve()

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # Failed-login lockout. First, so its failed-login receiver runs before the audit trail's, which then records
    # whether the attempt locked the account (tests/security/test_login_protection.py checks the order).
    "axes",
    # Above django.contrib.admin so its admin template override (the "Audit trail" link) wins.
    "apps.audit",
    # django.contrib.admin, with the HR home (admin index grouped by task) as the default site.
    "apps.reports.apps.HRAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apps.common",
    "apps.org",
    "apps.policies",
    "apps.evidence",
    "apps.cases",
    "apps.reminders",
    "apps.insights",
    "apps.reports",
    "apps.privacy",
    "apps.portal",
    "apps.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.common.middleware.RequestIdMiddleware",
    "apps.common.middleware.RequestSizeLimitMiddleware",
    # Control characters in query strings, credentials and cookies (apps/common/text.py), before anything reads them.
    "apps.common.middleware.ControlCharacterMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.common.middleware.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.common.middleware.DatabaseUnavailableMiddleware",
    # Last, as axes requires: it turns a flagged (locked-out) sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ritualcriteria.urls"
WSGI_APPLICATION = "ritualcriteria.wsgi.application"
ASGI_APPLICATION = "ritualcriteria.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: DATABASE_URL (PostgreSQL in production and CI); embedded SQLite in the data folder otherwise.
SQLITE_PATH = DATA_DIR / "ritualcriteria.sqlite3"
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # PostgreSQL's JIT compiler spent 0.7 s of the 1.3-1.9 s compliance query compiling it (issue #25); our
        # queries are short aggregates that never win that back. DB_JIT=on gives the server's setting back.
        if env_str("DB_JIT", "off") == "off":
            _options = DATABASES["default"].setdefault("OPTIONS", {})
            _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                # WAL lets the web server, the worker and beat read while one of them writes;
                # IMMEDIATE takes the write lock at BEGIN so concurrent writers queue instead of failing.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis (REDIS_URL) is the Celery broker, result store and cache; without it everything stays embedded.
REDIS_URL = env_str("REDIS_URL")
BROKER_DATA_DIR = DATA_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # Tasks are acked late; an unacked task comes back after this many seconds, so no task may be
    # scheduled further ahead than this (we schedule by scanning the database instead).
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
        "socket_connect_timeout": 3,
        "socket_timeout": 5,
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "rc",
            "OPTIONS": {"socket_connect_timeout": 3, "socket_timeout": 5},
        }
    }
else:
    # kombu's filesystem transport: a real broker that needs no server, shared by web, worker and beat.
    # The host part means nothing to this transport; naming it spares each process kombu's "No hostname" warning.
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DATA_DIR / "queue"),
        "data_folder_out": str(BROKER_DATA_DIR / "queue"),
        "processed_folder": str(BROKER_DATA_DIR / "processed"),
        "control_folder": str(BROKER_DATA_DIR / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{DATA_DIR / 'celery-results'}"
    # Web, worker and beat all need the folders before the first message; creating them is idempotent.
    for _folder in (
        BROKER_DATA_DIR / "queue",
        BROKER_DATA_DIR / "processed",
        BROKER_DATA_DIR / "control",
        DATA_DIR / "celery-results",
    ):
        _folder.mkdir(parents=True, exist_ok=True)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "worker-heartbeat": {"task": "common.heartbeat", "schedule": 60.0},
    # Removes export files past REPORTS_EXPORT_RETENTION_HOURS.
    "reports-export-cleanup": {"task": "reports.export_cleanup", "schedule": 3600.0},
}
# Removes the personal data the retention rules say is due, daily (apps/privacy; docs/retention.md).
CELERY_BEAT_SCHEDULE["privacy-retention"] = {"task": "privacy.apply_retention", "schedule": 86400.0}

# E-mail: EMAIL_URL (smtp://user:pass@host:587?tls=1, smtps://..., file:///dir, locmem://); console by default.
globals().update(email_config(env_str("EMAIL_URL", "console://")))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Ritual Criteria <ritual-criteria@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes refuses sign-ins of a locked-out user name and address first; ModelBackend checks the password.
AUTHENTICATION_BACKENDS = [
    "apps.common.login_protection.RequestAwareAxesBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed-login lockout (django-axes; docs/security.md): after AXES_FAILURE_LIMIT failures for one user name from one
# address, that pair is refused (even with the right password) for AXES_COOLOFF_MINUTES; each further failure
# restarts the wait. A success resets the count. HR unlocks sooner in the admin (Axes > Access attempts: delete).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "apps.common.login_protection.lockout_response"
# Successful sign-ins are in the audit trail already; axes keeps only the failures.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Behind a reverse proxy, set this to the header that carries the client address (e.g. HTTP_X_FORWARDED_FOR) and
# AXES_IPWARE_PROXY_COUNT to the number of proxies, or every client shares the proxy's address.
AXES_IPWARE_META_PRECEDENCE_ORDER = tuple(env_list("AXES_IP_HEADERS", ["REMOTE_ADDR"]))
if env_str("AXES_PROXY_COUNT"):
    AXES_IPWARE_PROXY_COUNT = env_int("AXES_PROXY_COUNT", 0)

# Cookies: the session cookie is never readable by scripts and not sent on cross-site sub-requests; the CSRF
# cookie is HttpOnly too (our pages put the token in the form; the API docs page embeds it). production.py adds
# Secure to both.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# The portal's sign-in page (the admin keeps its own); sign-out is a POST that lands back on it.
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:my-evidence"
LOGOUT_REDIRECT_URL = "portal:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

REST_FRAMEWORK = {
    # Token first: an unauthenticated API call then gets 401 with "WWW-Authenticate: Token" (not a browser's
    # Basic-auth prompt). Session logins need the CSRF token on writes. The token's query loads the employee record.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.common.authentication.EmployeeTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        # Basic auth that answers 429 during a failed-login lockout (apps/common/login_protection.py).
        "apps.common.login_protection.LockoutAwareBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON, forms and uploads as DRF parses them, refusing control characters with field errors
    # (apps/common/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "apps.common.parsers.StrictJSONParser",
        "apps.common.parsers.StrictFormParser",
        "apps.common.parsers.StrictMultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.common.pagination.DefaultPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "apps.common.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ritual Criteria API",
    "DESCRIPTION": "Customer-impact evidence, policies, cases and compliance reports.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page's Swagger UI and Redoc come from the drf-spectacular-sidecar package's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status"; name each choice set after its model instead of a hash.
    "ENUM_NAME_OVERRIDES": {
        "EvidenceStatusEnum": "apps.evidence.constants.EvidenceStatus",
        "CaseStatusEnum": "apps.cases.constants.CaseStatus",
        "CycleStatusEnum": "apps.cases.constants.CycleStatus",
        "ExceptionStatusEnum": "apps.cases.constants.ExceptionStatus",
        "InboxStatusEnum": "apps.insights.constants.InboxStatus",
    },
    # The default hook (enum components), then ours: the standard 400/401/403/404/429 answers, the control-character
    # rule on free text, int64 ids, closed request bodies (apps/common/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.common.schema.add_standard_errors_and_input_rules",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.common.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # axes logs every sign-in at INFO ("Deleted 0 failed login attempts"); failures and lockouts are WARNING.
    # runserver's "Watching for file changes" line is INFO too (and printed twice: Django's own handler and ours).
    "loggers": {"axes": {"level": "WARNING"}, "django.utils.autoreload": {"level": "WARNING"}},
}

# Product settings.
EVIDENCE_MAX_UPLOAD_BYTES = env_int("EVIDENCE_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
# Form fields (not files) larger than this are refused; files above 2 MB stream to a temporary file.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Whole-request limits checked before a body is read (apps.common.middleware.RequestSizeLimitMiddleware): 413 above.
# DRF's JSON parser does not apply DATA_UPLOAD_MAX_MEMORY_SIZE, so this is what bounds API bodies.
REQUEST_MAX_BODY_BYTES = env_int("REQUEST_MAX_BODY_BYTES", DATA_UPLOAD_MAX_MEMORY_SIZE)
# A multipart request may carry up to the per-item number of files at the per-file limit.
REQUEST_MAX_UPLOAD_BYTES = env_int("REQUEST_MAX_UPLOAD_BYTES", 10 * EVIDENCE_MAX_UPLOAD_BYTES + 1024 * 1024)
HEALTHZ_BROKER_TIMEOUT = 3
DEMO_ADMIN_USERNAME = env_str("DEMO_ADMIN_USERNAME", "hr-admin")

# Audit trail (docs/audit.md): events are sealed into the hash chain after commit, by a task each process asks for
# at most every AUDIT_SEAL_KICK_INTERVAL seconds and by beat every AUDIT_SEAL_EVERY seconds. After a failed request
# to the broker, a process stops asking for AUDIT_SEAL_KICK_BACKOFF seconds (beat still seals).
AUDIT_SEAL_EVERY = env_int("AUDIT_SEAL_EVERY", 3)
AUDIT_SEAL_KICK_INTERVAL = float(env_str("AUDIT_SEAL_KICK_INTERVAL", "0.5"))
AUDIT_SEAL_KICK_BACKOFF = env_int("AUDIT_SEAL_KICK_BACKOFF", 30)
CELERY_BEAT_SCHEDULE["audit-seal"] = {
    "task": "audit.seal",
    "schedule": float(AUDIT_SEAL_EVERY),
    "options": {"expires": float(AUDIT_SEAL_EVERY)},
}
# The secret the chain's hashes are keyed with (HMAC-SHA256); it must not be in the database. production.py requires
# it; local.py (the embedded default) generates one into the data folder on first run; test.py fixes one.
AUDIT_CHAIN_KEY = env_str("AUDIT_CHAIN_KEY")
# Signed checkpoints of the chain's head, written outside the database every AUDIT_CHECKPOINT_EVERY seconds (when the
# head moved) and after each audit export, to this storage (a STORAGES-style entry; JSON in the environment, e.g.
# {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"bucket_name": "rc-audit", ...}}: docs/audit.md).
AUDIT_CHECKPOINT_EVERY = env_int("AUDIT_CHECKPOINT_EVERY", 300)
AUDIT_CHECKPOINT_STORAGE = audit_checkpoint_storage(
    env_str("AUDIT_CHECKPOINT_STORAGE"), env_str("AUDIT_CHECKPOINT_DIR", str(DATA_DIR / "audit-checkpoints"))
)
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {
    "task": "audit.checkpoint",
    "schedule": float(AUDIT_CHECKPOINT_EVERY),
    "options": {"expires": float(AUDIT_CHECKPOINT_EVERY)},
}

# Compliance reports and exports (docs/reports.md).
# A case-detail export with more rows than this runs as a Celery task (progress on the dashboard, download link).
REPORTS_ASYNC_EXPORT_ROWS = env_int("REPORTS_ASYNC_EXPORT_ROWS", 20_000)
# Hours an export file is kept before the beat task removes it.
REPORTS_EXPORT_RETENTION_HOURS = env_int("REPORTS_EXPORT_RETENTION_HOURS", 24)
# A submitted item waiting longer than this many days is an overdue review.
REPORTS_REVIEW_OVERDUE_DAYS = env_int("REPORTS_REVIEW_OVERDUE_DAYS", 5)
# The boundary report's period when no dates are given: the last N days.
REPORTS_BOUNDARY_DEFAULT_DAYS = env_int("REPORTS_BOUNDARY_DEFAULT_DAYS", 365)

# Stored evaluations of open cases (docs/cases.md): re-evaluated every night at this hour (UTC, Celery's clock; pick one
# just after midnight in TIME_ZONE) for evidence ageing out of date windows; the services refresh every other change.
CASES_SWEEP_HOUR = env_int("CASES_SWEEP_HOUR", 2)
CELERY_BEAT_SCHEDULE["cases-sweep-evaluations"] = {
    "task": "cases.sweep_evaluations",
    "schedule": crontab(hour=CASES_SWEEP_HOUR, minute=10),
}

# Stored dashboard figures (docs/reports.md, "Stored figures"): the dashboard and its tables read every report of a
# set of filters computed at most this many seconds ago (0: always live); beat recomputes the whole company's and
# the recently opened ones before they age out.
REPORTS_SNAPSHOT_SECONDS = env_int("REPORTS_SNAPSHOT_SECONDS", 300)
if REPORTS_SNAPSHOT_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["reports-refresh-snapshots"] = {
        "task": "reports.refresh_snapshots",
        "schedule": max(60.0, REPORTS_SNAPSHOT_SECONDS * 0.8),
    }

# Policy preview (docs/policies.md): a draft covering at most this many open cases is previewed inside the request;
# more runs as a background job with a progress bar.
CASES_PREVIEW_INLINE_CASES = env_int("CASES_PREVIEW_INLINE_CASES", 2_000)

# Reminders and escalations (docs/reminders.md).
# Absolute links in e-mails start with this (no trailing slash); unset, the local server on RC_PORT (default 8000).
SITE_URL = env_site_url()
# Mail goes out between these local hours of the recipient (start inclusive, end exclusive).
REMINDERS_SEND_START_HOUR = env_int("REMINDERS_SEND_START_HOUR", 9)
REMINDERS_SEND_END_HOUR = env_int("REMINDERS_SEND_END_HOUR", 18)
# Reviewers are reminded of an item waiting this many days; HR is told after REMINDERS_ESCALATION_DAYS.
REMINDERS_REVIEW_WAITING_DAYS = env_int("REMINDERS_REVIEW_WAITING_DAYS", 3)
REMINDERS_ESCALATION_DAYS = env_int("REMINDERS_ESCALATION_DAYS", 7)
# Day of the weekly manager digest, 0 = Monday ... 6 = Sunday (in each manager's time zone).
REMINDERS_DIGEST_WEEKDAY = env_int("REMINDERS_DIGEST_WEEKDAY", 0)
# Seconds between planner passes and between outbox sweeps (Celery beat).
REMINDERS_PLAN_EVERY = env_int("REMINDERS_PLAN_EVERY", 300)
# The sweep also takes back rows whose worker died mid-send: SENDING_TIMEOUT + SWEEP_EVERY (90 s) bounds the wait.
REMINDERS_SWEEP_EVERY = env_int("REMINDERS_SWEEP_EVERY", 30)
# A due reminder handed to the broker this many seconds ago and still pending is handed over again.
REMINDERS_REPUBLISH_AFTER = env_int("REMINDERS_REPUBLISH_AFTER", 900)
# A worker's claim on a reminder lasts this many seconds (the send task's time limits stay inside it): a row still
# 'sending' after it is taken back by the sweeper and sent again, possibly a second time (same Message-ID).
REMINDERS_SENDING_TIMEOUT = env_int("REMINDERS_SENDING_TIMEOUT", 60)
# Publishing a send or drain task after commit waits this many seconds at most to connect to Redis (kombu's
# socket_connect_timeout; one immediate reconnect, no other retry: apps.reminders.outbox), then the process waits
# REMINDERS_BROKER_RETRY_AFTER seconds before trying again from a web request (the sweeper hands the rows over).
REMINDERS_PUBLISH_TIMEOUT = env_int("REMINDERS_PUBLISH_TIMEOUT", 2)
REMINDERS_BROKER_RETRY_AFTER = env_int("REMINDERS_BROKER_RETRY_AFTER", 30)
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"] = REMINDERS_PUBLISH_TIMEOUT
# At most this many send tasks are published per planner pass or sweep; the rest wait for the next sweep.
REMINDERS_PUBLISH_BATCH = env_int("REMINDERS_PUBLISH_BATCH", 1000)
# Queued evidence events taken per transaction by the drain (the notifications of submissions and reviews).
REMINDERS_DRAIN_BATCH = env_int("REMINDERS_DRAIN_BATCH", 500)
# A web process publishes at most one drain task per this many seconds, run that long after: it drains every event
# the process committed meanwhile (apps.reminders.outbox.publish_drain). 0 publishes one per event, at once.
REMINDERS_DRAIN_DELAY = float(env_str("REMINDERS_DRAIN_DELAY", "1.0"))
# A planner pass writes its new reminders in transactions of at most this many rows (soonest due first).
REMINDERS_PLAN_BATCH = env_int("REMINDERS_PLAN_BATCH", 5_000)
# A pass covers every open case of a cycle in chunks of this many (eight queries and one chunk in memory at a time).
REMINDERS_EVALUATE_BATCH = env_int("REMINDERS_EVALUATE_BATCH", 5_000)
# Items (and short cases per cycle) a reviewer's daily batch or HR's daily digest lists by name; the rest are counted.
REMINDERS_DIGEST_LISTED = env_int("REMINDERS_DIGEST_LISTED", 50)
# Review reminders whose moment passed more than this many days ago are not sent late (a stopped planner).
REMINDERS_REVIEW_LOOKBACK_DAYS = env_int("REMINDERS_REVIEW_LOOKBACK_DAYS", 3)
# A failed send is retried with exponential backoff starting at this many seconds (jittered, capped at 10 min).
REMINDERS_RETRY_BACKOFF = env_int("REMINDERS_RETRY_BACKOFF", 5)
REMINDERS_MAX_RETRIES = env_int("REMINDERS_MAX_RETRIES", 8)
# A reminder is claimed at most this many times in all (task retries and takings-back after a dead worker); then it
# ends 'possibly sent' for HR to check (a definite refusal by the mail server ends 'failed' at once).
REMINDERS_MAX_ATTEMPTS = env_int("REMINDERS_MAX_ATTEMPTS", REMINDERS_MAX_RETRIES + 1)
CELERY_BEAT_SCHEDULE["reminders-plan"] = {
    "task": "reminders.plan",
    "schedule": float(REMINDERS_PLAN_EVERY),
    "options": {"expires": float(REMINDERS_PLAN_EVERY)},
}
CELERY_BEAT_SCHEDULE["reminders-sweep"] = {
    "task": "reminders.sweep",
    "schedule": float(REMINDERS_SWEEP_EVERY),
    "options": {"expires": float(REMINDERS_SWEEP_EVERY)},
}

# Customer insights (docs/insights.md): an insight counts as answered in time when a verified response is linked to
# it within this many days of its arrival in the unit's inbox (the monitor report and the dashboard).
INSIGHTS_RESPONSE_DAYS = env_int("INSIGHTS_RESPONSE_DAYS", 14)
# The weekly customer-insight digest of each unit (apps/insights/digest.py): planned hourly, written once per unit,
# recipient and ISO week (unique reminder keys), sent in each recipient's sending hours by the reminder sender.
INSIGHTS_DIGEST_PLAN_EVERY = env_int("INSIGHTS_DIGEST_PLAN_EVERY", 3600)
CELERY_BEAT_SCHEDULE["insights-plan-digests"] = {
    "task": "insights.plan_digests",
    "schedule": float(INSIGHTS_DIGEST_PLAN_EVERY),
    "options": {"expires": float(INSIGHTS_DIGEST_PLAN_EVERY)},
}
