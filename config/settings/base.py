"""Settings shared by every environment.

How the settings are laid out:

- Each setting is declared once: here when it is general (apps, middleware, URLs, templates,
  i18n), else in the module of its concern under `config/settings/components/` (security,
  database, auth, drf, spectacular, celery, tracking, ...), which this module imports whole.
- Each environment variable is read once, through the `env` object of `config/env.py`, by the
  module that declares its setting, with the default most environments want.
- The environment modules (`local`, `test`, `test_sqlite`, `production`) import this one and
  only override. An environment that wants another default for a variable says so before this
  module runs: `env.use_defaults(DEBUG=True)` in local, `env.use_defaults(SECRET_KEY=env.REQUIRED)`
  in production. A value set in the environment still wins; a value that must hold whatever the
  environment says (production's `DEBUG = False`, the tests' fast hasher) is assigned after the
  import.
- `.env` is read only when the shell sets `DJANGO_READ_DOT_ENV_FILE=true` (config/env.py).
"""

from config.env import BASE_DIR
from config.settings.components.auth import *  # noqa: F403
from config.settings.components.cache import *  # noqa: F403
from config.settings.components.celery import *  # noqa: F403
from config.settings.components.database import *  # noqa: F403
from config.settings.components.devtools import *  # noqa: F403
from config.settings.components.drf import *  # noqa: F403
from config.settings.components.email import *  # noqa: F403
from config.settings.components.fraud import *  # noqa: F403
from config.settings.components.logging import *  # noqa: F403
from config.settings.components.money import *  # noqa: F403
from config.settings.components.reporting import *  # noqa: F403
from config.settings.components.security import *  # noqa: F403
from config.settings.components.spectacular import *  # noqa: F403
from config.settings.components.static import *  # noqa: F403
from config.settings.components.tracking import *  # noqa: F403

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
    # The API key base model and hashing (accounts.ApiKey); its own APIKey model is unused.
    "rest_framework_api_key",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    # Two-factor authentication: TOTP apps, and one-time recovery codes (accounts.two_factor).
    "django_otp",
    "accounts.apps.TwoFactorAppsConfig",  # django_otp.plugins.otp_totp
    "accounts.apps.TwoFactorRecoveryCodesConfig",  # django_otp.plugins.otp_static
    "core",
    "accounts",
    "campaigns",
    "payouts",
    "forwarding",
    "tracker",
    "reporting",
    # Demo data and benchmark commands; nothing imports it.
    "devtools",
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
    # request.user.is_verified(): whether this session passed the second factor (django-otp).
    "django_otp.middleware.OTPMiddleware",
    # A user whose role must use two-factor authentication and has no device yet is sent to
    # enrolment before any other portal or console page.
    "portal.middleware.TwoFactorEnrolmentMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Numbers on pages (money, rates, counts) in the viewer's locale: core.formatting.
    "core.middleware.FormatLocaleMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a lockout flagged during the request into a 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
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

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
