"""Settings shared by every environment. Each setting is declared once, read from `env`."""

from datetime import timedelta

from celery.schedules import crontab

from config.env import BASE_DIR, env

SECRET_KEY = env.str("SECRET_KEY", default="insecure-local-development-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # django.contrib.admin, with the operator console (portal.admin_site) as its default site.
    "portal.apps.ConsoleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "core",
    "accounts",
    "campaigns",
    "payouts",
    "forwarding",
    "tracker",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before the tracking fast path, so that every answer carries these headers.
    # django-csp's, with the header built once (core.middleware.CSPMiddleware).
    "core.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # API and postback paths never answer an HTML error page (core.middleware).
    "core.middleware.JsonErrorPagesMiddleware",
    # Tracking endpoints answer from here, without the session middleware below (its docstring).
    "core.middleware.TrackingFastPathMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Numbers on pages (money, rates, counts) in the viewer's locale: core.formatting.
    "core.middleware.FormatLocaleMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a lockout flagged during the request into a 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
# Outside the HTML pages a failed CSRF check answers the API's JSON error shape.
CSRF_FAILURE_VIEW = "core.api.csrf_failure"
WSGI_APPLICATION = "config.wsgi.application"

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
            # |money, |percent and |number on every page, the console's too (core.formatting).
            "builtins": ["core.templatetags.money"],
        },
    },
]

# SQLite (a file under var/) serves the quickstart; PostgreSQL is production and the test target.
DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'clickledger.sqlite3'}"
    )
}


def database_tuned(database: dict) -> dict:
    """Connection settings every environment shares (production re-reads DATABASE_URL)."""
    database["ATOMIC_REQUESTS"] = False
    database["CONN_HEALTH_CHECKS"] = True
    if database["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend with a health check that skips its round trip on a quiet connection.
        database["ENGINE"] = "core.db.postgresql"
        # Only server-side-binding cursors can prepare statements, and only the hot paths open
        # them (core.sql: click, postback, ledger): they are planned once per connection. The ORM's
        # client-side cursors are unaffected. Behind PgBouncer in transaction mode use >= 1.21
        # with max_prepared_statements, or CONN_MAX_AGE=0.
        database.setdefault("OPTIONS", {})["prepare_threshold"] = 0
    return database


database_tuned(DATABASES["default"])
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# WAL lets the web process read while the worker writes; IMMEDIATE avoids upgrade deadlocks.
SQLITE_OPTIONS = {
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
    ),
    "transaction_mode": "IMMEDIATE",
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses locked-out email+IP pairs before any password is checked (django-axes).
    "accounts.authentication.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="ClickLedger <noreply@clickledger.local>"
)

# Throttle counters live here, so every web process (gunicorn workers, several machines) must
# share it. The default is a folder of files that every process on this machine shares (the
# quickstart's web server and worker); production refuses a process-local cache.
CACHES = {
    "default": env.cache_url("CACHE_URL", default=f"filecache://{BASE_DIR / 'var' / 'cache'}")
}

# --- Tracking ---------------------------------------------------------------------------------
# How many reverse proxies in front of us append to X-Forwarded-For; 0 = ignore the header.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Request header carrying the visitor's ISO country (e.g. "CF-IPCountry"); empty = not recorded.
COUNTRY_HEADER = env.str("COUNTRY_HEADER", default="")
# Where a blocked click goes when its campaign has no fallback URL; empty = a plain 404 page.
DEFAULT_FALLBACK_URL = env.str("DEFAULT_FALLBACK_URL", default="")
# Public base URL used to print tracking links and partner postback URLs.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# How long a rotated-out partner key keeps working.
PARTNER_KEY_ROTATION_GRACE_HOURS = env.int("PARTNER_KEY_ROTATION_GRACE_HOURS", default=24)
# Accepted clock skew for signed postbacks.
POSTBACK_SIGNATURE_MAX_AGE_SECONDS = env.int("POSTBACK_SIGNATURE_MAX_AGE_SECONDS", default=300)
# The keyless `GET /postback?affiliate_id=&click_id=&amount=` of the first integrations. Off unless
# turned on; when on, it is accepted only from LEGACY_POSTBACK_ALLOWED_IPS (addresses or CIDR
# ranges) or with a partner key (`key` parameter or X-Postback-Key header), and then only for
# that key's advertiser, with its allowlist and signature rules. Anything else is 403.
LEGACY_POSTBACK_ENABLED = env.bool("LEGACY_POSTBACK_ENABLED", default=False)
LEGACY_POSTBACK_ALLOWED_IPS = env.list("LEGACY_POSTBACK_ALLOWED_IPS", default=[])
# Postback bodies larger than this are refused (400 `invalid_body`) before they are read whole.
POSTBACK_MAX_BODY_BYTES = env.int("POSTBACK_MAX_BODY_BYTES", default=65536)
# The postback log keeps at most this much of each request's query string and of its body.
POSTBACK_LOG_MAX_BYTES = env.int("POSTBACK_LOG_MAX_BYTES", default=8192)
# Days the postback log keeps accepted requests, and refused ones (0 keeps them forever); a
# daily job prunes the rest.
POSTBACK_LOG_RETENTION_DAYS = env.int("POSTBACK_LOG_RETENTION_DAYS", default=365)
POSTBACK_LOG_REFUSED_RETENTION_DAYS = env.int("POSTBACK_LOG_REFUSED_RETENTION_DAYS", default=14)
# Forwarding may reach loopback/private receivers only when this is on (tests, local demos).
POSTBACK_ALLOW_PRIVATE_DESTINATIONS = env.bool("POSTBACK_ALLOW_PRIVATE_DESTINATIONS", default=False)

# --- Money ------------------------------------------------------------------------------------
PAYOUT_MINIMUM_AMOUNT = env.str("PAYOUT_MINIMUM_AMOUNT", default="50.00")

# --- Celery -----------------------------------------------------------------------------------
# Default: kombu's filesystem transport, so the quickstart runs a real worker with no broker server.
# The host is ignored by that transport, but without one kombu logs a warning at every publish.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(BASE_DIR / "var" / "broker"),
        "data_folder_out": str(BASE_DIR / "var" / "broker"),
        "processed_folder": str(BASE_DIR / "var" / "broker-processed"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem://")
    else {"visibility_timeout": 3600}
)
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict = {
    # Publishes the tasks (emails) whose publish after commit the broker refused (core.tasks).
    "core-republish-pending-tasks": {
        "task": "core.tasks.republish_pending_tasks",
        "schedule": 60.0,
    },
    # Re-queues due and stuck forwarding deliveries (outbox) and disables endpoints failing 5 days.
    "forwarding-sweep-deliveries": {
        "task": "forwarding.tasks.sweep_deliveries",
        "schedule": 30.0,
    },
    "tracker-auto-approve": {
        "task": "tracker.tasks.auto_approve_conversions",
        "schedule": crontab(minute="*/5"),
    },
    # Moves approved payouts from pending to available once their hold period is over.
    "payouts-release-holds": {
        "task": "payouts.tasks.release_holds",
        "schedule": crontab(minute="*/10"),
    },
    # Re-adds every ledger transaction and checksum; alerts ADMINS on any mismatch.
    "payouts-reconcile-ledger": {
        "task": "payouts.tasks.reconcile_ledger",
        "schedule": crontab(hour=3, minute=17),
    },
    # Folds new clicks and conversion status changes into the hourly rollups (freshness < 60 s).
    "tracker-refresh-rollups": {"task": "tracker.tasks_reports.refresh_rollups", "schedule": 15.0},
    # Deletes postback log rows past their retention (refused requests go sooner).
    "tracker-prune-postback-logs": {
        "task": "tracker.tasks.prune_postback_logs",
        "schedule": crontab(hour=4, minute=53),
    },
    # Deletes raw clicks past CLICK_RETENTION_DAYS that never converted (rollups keep the counts).
    "tracker-prune-clicks": {
        "task": "tracker.tasks_reports.prune_clicks",
        "schedule": crontab(hour=4, minute=41),
    },
}
# Autodiscovery imports each app's `tasks` module only; the reporting tasks live beside it.
CELERY_IMPORTS = ("tracker.tasks_reports",)
# How long a worker holds a claimed delivery before another worker may retry it.
FORWARDING_CLAIM_SECONDS = env.int("FORWARDING_CLAIM_SECONDS", default=60)
# Who receives operational alerts (ledger reconciliation): "Name <email>,Name2 <email2>".
ADMINS = [
    (address.split("<")[0].strip(), address.split("<")[-1].rstrip(">").strip())
    for address in env.list("ADMINS", default=[])
]

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Bearer header, else the httpOnly `access_token` cookie (which then requires CSRF).
        "accounts.authentication.CookieJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # DRF's parsers, with a nesting limit on JSON (core.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
    # Public auth endpoints and the portal's auth forms (accounts.throttling), counted per client
    # IP in the default cache, which every web process shares.
    "DEFAULT_THROTTLE_RATES": {
        "auth_register": env.str("THROTTLE_AUTH_REGISTER", default="20/hour"),
        "auth_login": env.str("THROTTLE_AUTH_LOGIN", default="30/minute"),
        "auth_refresh": env.str("THROTTLE_AUTH_REFRESH", default="60/minute"),
        "auth_password_reset": env.str("THROTTLE_AUTH_PASSWORD_RESET", default="10/hour"),
    },
    # Same trust as core.net.client_ip: only the N nearest proxies' X-Forwarded-For entries.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "USER_ID_FIELD": "id",
    "SIGNING_KEY": SECRET_KEY,
}
# Browser clients get the tokens as httpOnly cookies too (login sets them, logout clears them).
AUTH_COOKIE_ACCESS = "access_token"
AUTH_COOKIE_REFRESH = "refresh_token"
# The refresh cookie is only sent to the endpoints that use it.
AUTH_COOKIE_REFRESH_PATH = "/api/auth/"
AUTH_COOKIE_SAMESITE = "Lax"
AUTH_COOKIE_SECURE = env.bool("AUTH_COOKIE_SECURE", default=False)

# Brute-force protection (django-axes): 5 failures for one email from one IP lock that pair out
# for 15 minutes; the client IP comes from trusted proxy settings only.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "core.net.client_ip"
# The API posts `email`, the admin login form posts `username`: both count for the same account.
AXES_USERNAME_CALLABLE = "accounts.authentication.lockout_username"
AXES_RESET_ON_SUCCESS = True
SPECTACULAR_SETTINGS = {
    "TITLE": "ClickLedger API",
    "DESCRIPTION": "Self-hosted S2S affiliate tracking network.",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Auth API ---------------------------------------------------------------------------------
# One OpenAPI enum per choice set, whichever field name (status, payout_method, method) uses it.
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "ApprovalStatusEnum": "accounts.models.ApprovalStatus",
        "PayoutMethodEnum": "accounts.models.PayoutMethod",
    }
)

# --- Resources API (campaigns, tracker) -------------------------------------------------------
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "CampaignStatusEnum": "campaigns.models.CampaignStatus",
        "ApplicationStatusEnum": "campaigns.models.AccessStatus",
        "ConversionStatusEnum": "tracker.models.ConversionStatus",
        "DeliveryStatusEnum": "forwarding.models.DeliveryStatus",
        "EndpointMethodEnum": "forwarding.models.EndpointMethod",
        "ForwardEventEnum": "forwarding.models.ForwardEvent",
    }
)

# --- Reporting (tracker.services.stats) ---
# Raw clicks older than this many days that never converted are pruned by a daily task; the
# hourly rollups keep their counts. 0 keeps clicks forever. Never below the longest attribution
# window plus a day (enforced by the pruning itself).
CLICK_RETENTION_DAYS = env.int("CLICK_RETENTION_DAYS", default=180)
# How long the rollup refresh waits on an id that is taken but not yet committed before it
# treats it as rolled back (see tracker/services/stats.py).
STATS_GAP_GRACE_SECONDS = env.int("STATS_GAP_GRACE_SECONDS", default=300)

# --- Benchmark ---
# `/bench/trivial` (the benchmark's do-nothing baseline) is routed only when this is on: the
# `benchmark` command turns it on for its own gunicorn; no other server needs it.
BENCHMARK_ROUTES_ENABLED = env.bool("BENCHMARK_ROUTES_ENABLED", default=False)

# --- Portal ---
# The server-rendered advertiser and affiliate portals (portal app) log people in here.
LOGIN_URL = "/portal/login/"
LOGIN_REDIRECT_URL = "/portal/"

# --- API acceptance (docs) ---
# Swagger UI's default online validator badge fetches https://validator.swagger.io with the
# schema's URL: the docs page must make no request off this server.
SPECTACULAR_SETTINGS["SWAGGER_UI_SETTINGS"] = {"deepLinking": True, "validatorUrl": None}
# Request bodies are JSON (what the API documents and its clients send); request components are
# split from response ones, so non-blank strings are documented as `minLength: 1`.
SPECTACULAR_SETTINGS["PARSER_WHITELIST"] = ["core.parsers.JSONParser"]
SPECTACULAR_SETTINGS["COMPONENT_SPLIT_REQUEST"] = True
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "core.api_schema.postprocess_api_schema",
]

# --- Browser security headers -----------------------------------------------------------------
# Every answer carries a Content-Security-Policy (django-csp) and a Permissions-Policy
# (django-permissions-policy). Pages load scripts, styles, images and fonts from this server
# only: no inline script or style anywhere (the portal, the console and the Swagger UI at
# /api/docs/ keep theirs in static files). `data:` images are the Swagger UI's and the admin's
# inline SVG icons in their style sheets.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Powerful browser features no page here uses are switched off. The clipboard keeps the
# browsers' default (this origin only): the portal's copy buttons write to it.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "browsing-topics": [],
    "camera": [],
    "display-capture": [],
    "geolocation": [],
    "gyroscope": [],
    "hid": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "serial": [],
    "usb": [],
}
