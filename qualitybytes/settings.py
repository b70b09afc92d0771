"""QualityBytes settings: one module, every value read from the environment.

Defaults suit `make run` (DEBUG on, SQLite, console email, Stripe simulator). Production
sets DEBUG=0 and must then provide SECRET_KEY and a real DATABASE_URL.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from qualitybytes.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(50+ random characters), or DEBUG=1 for local development."
        )
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "qualitybytes.apps.AdminConfig",  # django.contrib.admin with the operator panel site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "djstripe",
    "accounts",
    "billing",
    "licensing",
    "teams",
    "privacy",  # export my data, delete my account: reads every app above
    "qualitybytes.apps.QualityBytesConfig",  # the email outbox (qualitybytes/outbox.py)
]

MIDDLEWARE = [
    # Operations (qualitybytes/middleware.py): health probes first, then request ids and headers.
    "qualitybytes.middleware.HealthCheckMiddleware",
    "qualitybytes.middleware.RequestIdMiddleware",
    "qualitybytes.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "qualitybytes.urls"
WSGI_APPLICATION = "qualitybytes.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # `make run`: the success page and a webhook may write at once; wait for the lock, don't fail.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "qb"),
        }
    }
else:
    # Rate-limit counters (licensing API, admin and allauth logins) live here. LocMemCache's
    # default of 300 entries would let a client cycling through more keys push every counter
    # out and reset its limit; culling drops the least recently used tenth (old windows' counters).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {
                "MAX_ENTRIES": int(os.environ.get("LOCAL_CACHE_MAX_ENTRIES", "100000")),
                "CULL_FREQUENCY": 10,
            },
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"

# django-allauth 65: email is the login, there is no username.
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
# Step 1 asks for "email already registered" beside the field; the rate limits below bound enumeration.
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[QualityBytes] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# allauth's emails (confirmation, password reset) go through the outbox (accounts/adapter.py).
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# Sign-up opened after a team invitation link starts with the invited address (accounts/signup.py).
ACCOUNT_FORMS = {"signup": "teams.signup.SignupForm"}
# Sessions with "log out everywhere" (/accounts/sessions/): allauth records each sign-in. Activity
# tracking stays off: it would write on every request; the page shows when each session signed in.
INSTALLED_APPS += ["allauth.usersessions"]
USERSESSIONS_TRACK_ACTIVITY = env_bool("USERSESSIONS_TRACK_ACTIVITY", False)
MIDDLEWARE += ["allauth.usersessions.middleware.UserSessionsMiddleware"]  # only works when tracking
ACCOUNT_RATE_LIMITS = {
    "login": os.environ.get("LOGIN_RATE_LIMIT", "30/m/ip"),
    "login_failed": os.environ.get("LOGIN_FAILED_RATE_LIMIT", "10/m/ip,5/5m/key"),
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "change_password": "5/m/user",
    # "Email me my keys" (accounts/views.py): every request counts, an address with no account too.
    "email_my_keys": os.environ.get("EMAIL_KEYS_RATE_LIMIT", "10/h/ip,3/h/key"),
    # Delete my account (accounts/views.py): password attempts per account.
    "delete_account": "5/m/user",
}
# The account page (accounts/views.py, docs/using-the-site.md "Your account"). Changing the email
# keeps one address: the new one is verified before it replaces the old (allauth's email_change
# page), and the Stripe customer's email follows (billing/customers.py). Changing it, and turning
# two-factor authentication on or off, asks for the password again if the login is older than
# ACCOUNT_REAUTHENTICATION_TIMEOUT seconds, so an unattended session cannot take the account.
ACCOUNT_CHANGE_EMAIL = True
# The account's address is told of every change to it: password, email (the old address is
# told), two-factor authentication on or off, new recovery codes.
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_MAX_EMAIL_ADDRESSES = 2
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300

# Two-factor authentication (allauth.mfa): an authenticator app (TOTP) and recovery codes.
# Optional for customers, required for staff before the admin opens (qualitybytes/admin_site.py).
# A wrong code counts against ACCOUNT_RATE_LIMITS["login_failed"] per account, like a wrong
# password. TOTP secrets and recovery seeds are stored encrypted with LICENSE_KEY_ENCRYPTION_KEY
# (accounts/mfa.py).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_ADAPTER = "accounts.mfa.MFAAdapter"
MFA_TOTP_ISSUER = os.environ.get("MFA_TOTP_ISSUER", "QualityBytes")

# The console default prints each email framed by a banner (qualitybytes/email_backends.py).
_CONSOLE_EMAIL = "django.core.mail.backends.console.EmailBackend"
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "") or _CONSOLE_EMAIL
if EMAIL_BACKEND == _CONSOLE_EMAIL:
    EMAIL_BACKEND = "qualitybytes.email_backends.ConsoleEmailBackend"
# Where django.core.mail.backends.filebased.EmailBackend writes (one file per connection).
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "emails"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds an SMTP connection may take; without it a stalled relay holds a sender forever.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "QualityBytes <noreply@qualitybytes.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The outbox (qualitybytes/outbox.py; docs/operations.md, "Emails: the outbox"): every email
# is a row written in the transaction that causes it, its subject and bodies encrypted with
# LICENSE_KEY_ENCRYPTION_KEY. After the commit the request tries it at once
# (EMAIL_OUTBOX_SEND_ON_COMMIT); whatever fails is retried by `manage.py send_queued_emails`
# after each delay of EMAIL_OUTBOX_RETRY_SECONDS (the last repeats) until
# EMAIL_OUTBOX_MAX_ATTEMPTS attempts have failed. Bodies of sent emails are erased after
# EMAIL_OUTBOX_PURGE_DAYS; the row stays for the record.
EMAIL_OUTBOX_SEND_ON_COMMIT = env_bool("EMAIL_OUTBOX_SEND_ON_COMMIT", True)
EMAIL_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("EMAIL_OUTBOX_MAX_ATTEMPTS", "6"))
EMAIL_OUTBOX_RETRY_SECONDS = [
    int(seconds) for seconds in env_list("EMAIL_OUTBOX_RETRY_SECONDS", "60,300,1800,7200,43200")
]
EMAIL_OUTBOX_PURGE_DAYS = int(os.environ.get("EMAIL_OUTBOX_PURGE_DAYS", "30"))

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# One date format on pages and in the admin. English's own formats would win over these two
# settings, so qualitybytes/formats/en/formats.py repeats them as the locale's.
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
FORMAT_MODULE_PATH = ["qualitybytes.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # One API layer (qualitybytes/api/): one error shape and one bounded JSON parser for every
    # API. Forms and multipart stay readable for the browser's calls to the team and customer APIs.
    "EXCEPTION_HANDLER": "qualitybytes.api.views.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "qualitybytes.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "QualityBytes License Server API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Stripe / dj-stripe 2.11. With no STRIPE_TEST_SECRET_KEY, DEBUG runs use the local simulator.
STRIPE_LIVE_MODE = env_bool("STRIPE_LIVE_MODE", False)
STRIPE_LIVE_SECRET_KEY = os.environ.get("STRIPE_LIVE_SECRET_KEY", "")
STRIPE_TEST_SECRET_KEY = os.environ.get("STRIPE_TEST_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_API_VERSION = "2026-08-26.dahlia"
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_USE_NATIVE_JSONFIELD = True
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"
# The webhook gate (qualitybytes/webhook_guard.py): bodies above this answer 413 unread; Stripe's
# events are a few KiB. `prune_webhook_triggers` deletes stored deliveries older than the days.
STRIPE_WEBHOOK_MAX_BODY_BYTES = int(os.environ.get("STRIPE_WEBHOOK_MAX_BODY_BYTES", str(1024 * 1024)))
STRIPE_WEBHOOK_TRIGGER_DAYS = int(os.environ.get("STRIPE_WEBHOOK_TRIGGER_DAYS", "30"))
if STRIPE_WEBHOOK_MAX_BODY_BYTES < 1 or STRIPE_WEBHOOK_TRIGGER_DAYS < 1:
    raise ImproperlyConfigured(
        "STRIPE_WEBHOOK_MAX_BODY_BYTES and STRIPE_WEBHOOK_TRIGGER_DAYS must be at least 1."
    )
# Money coming back (billing/payments.py): an open dispute suspends the license ("payment
# disputed") unless this is off; refunds and disputes are emailed to these staff addresses
# (comma-separated; empty: every active superuser).
BILLING_SUSPEND_ON_DISPUTE = env_bool("BILLING_SUSPEND_ON_DISPUTE", True)
STAFF_NOTIFICATION_EMAILS = env_list("STAFF_NOTIFICATION_EMAILS")

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# LOG_FORMAT: "json" (one object per line with the request id) or "text"; default text with
# DEBUG on, json otherwise. Keys and secret tokens are masked in both (qualitybytes/logging.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json").strip().lower()
# One log line per request (method, path, status, duration, request id), none for static files;
# gunicorn's access log is off and runserver's is dropped while this is on.
LOG_REQUESTS = env_bool("LOG_REQUESTS", True)
LOGGING = logging_config(
    log_format=LOG_FORMAT, level=os.environ.get("LOG_LEVEL", "INFO"), server_access_log=not LOG_REQUESTS
)


# Licensing ---------------------------------------------------------------------------------
# License keys are looked up by HMAC-SHA256(LICENSE_KEY_PEPPER, key) and kept for display only
# as a Fernet token under LICENSE_KEY_ENCRYPTION_KEY (comma-separated: the first encrypts, all
# decrypt, so keys can be rotated). Both are independent of SECRET_KEY on purpose: rotating
# SECRET_KEY must not invalidate every license key. With DEBUG on and the variables unset, both
# are derived from SECRET_KEY with HKDF so `make run` and the tests need no setup.
def _licensing_secret(name: str, purpose: bytes) -> str:
    value = os.environ.get(name, "")
    if value:
        return value
    if not DEBUG:
        raise ImproperlyConfigured(
            f"{name} is not set. See docs/configuration.md (Generating the licensing secrets) for how "
            "to generate it, or set DEBUG=1 for local development."
        )
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(SECRET_KEY.encode())
    return base64.urlsafe_b64encode(derived).decode()


LICENSE_KEY_PEPPER = _licensing_secret("LICENSE_KEY_PEPPER", b"qualitybytes license key pepper")
LICENSE_KEY_ENCRYPTION_KEY = _licensing_secret(
    "LICENSE_KEY_ENCRYPTION_KEY", b"qualitybytes license key encryption"
)
# Rate limits per client IP and per license key, "<count>/<s|m|h>"; "0" switches one off.
LICENSE_RATE_LIMIT_IP = os.environ.get("LICENSE_RATE_LIMIT_IP", "300/m")
LICENSE_RATE_LIMIT_KEY = os.environ.get("LICENSE_RATE_LIMIT_KEY", "60/m")
# Proxies in front of the app that append to X-Forwarded-For (0: use REMOTE_ADDR).
LICENSE_TRUSTED_PROXIES = int(os.environ.get("LICENSE_TRUSTED_PROXIES", "0"))
# Devices without a heartbeat for this many days stop counting against the limit.
LICENSE_DEVICE_STALE_DAYS = int(os.environ.get("LICENSE_DEVICE_STALE_DAYS", "30"))
# Lifetime of the signed offline token (never past the license's end or grace end).
LICENSE_TOKEN_TTL_SECONDS = int(os.environ.get("LICENSE_TOKEN_TTL_SECONDS", str(3 * 24 * 3600)))
# A key's last-validated time and counters are written at most once per this many seconds.
LICENSE_TOUCH_INTERVAL_SECONDS = int(os.environ.get("LICENSE_TOUCH_INTERVAL_SECONDS", "60"))
# Write that bookkeeping from a background thread per worker, so no validation waits for it.
# The tests turn it off (pytest.ini) to count the write in the request that triggers it.
LICENSE_FLUSH_IN_BACKGROUND = env_bool("LICENSE_FLUSH_IN_BACKGROUND", True)
# Request bodies of every API (licensing, customer, team) above this size answer 413.
LICENSE_MAX_BODY_BYTES = int(os.environ.get("LICENSE_MAX_BODY_BYTES", "16384"))
# Validation events older than this are removed by `prune_validation_events`.
LICENSE_VALIDATION_EVENT_DAYS = int(os.environ.get("LICENSE_VALIDATION_EVENT_DAYS", "90"))

INSTALLED_APPS += ["drf_spectacular_sidecar"]
SPECTACULAR_SETTINGS.update(
    {
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "COMPONENT_SPLIT_REQUEST": True,
    }
)

# Signed license tokens ---------------------------------------------------------------------
# Tokens are Ed25519 JWTs (licensing/tokens.py); docs/client-guide.md, "Signed license tokens", is
# the operator's guide.
# Set exactly one: LICENSE_SIGNING_KEYS_FILE, a JSON keyring shared by every web instance and
# rotated with `manage.py rotate_signing_key`, or LICENSE_SIGNING_KEY, one Ed25519 private key in
# PEM (cannot be rotated in place). With DEBUG on and neither set, a development keyring is made
# at var/signing-keys.json. Token lifetime: LICENSE_TOKEN_TTL_SECONDS in the Licensing block.
LICENSE_SIGNING_KEY = os.environ.get("LICENSE_SIGNING_KEY", "")
LICENSE_SIGNING_KEYS_FILE = os.environ.get("LICENSE_SIGNING_KEYS_FILE", "")
LICENSE_SIGNING_KEYS_AUTOCREATE = False
if LICENSE_SIGNING_KEY and LICENSE_SIGNING_KEYS_FILE:
    raise ImproperlyConfigured("Set LICENSE_SIGNING_KEYS_FILE or LICENSE_SIGNING_KEY, not both.")
if not (LICENSE_SIGNING_KEY or LICENSE_SIGNING_KEYS_FILE):
    if not DEBUG:
        raise ImproperlyConfigured(
            "No license token signing key. Set LICENSE_SIGNING_KEYS_FILE to a keyring path and create "
            "the keyring with `python manage.py rotate_signing_key --create`, or set LICENSE_SIGNING_KEY "
            "to an Ed25519 private key in PEM (openssl genpkey -algorithm ed25519), or DEBUG=1."
        )
    LICENSE_SIGNING_KEYS_FILE = str(BASE_DIR / "var" / "signing-keys.json")
    LICENSE_SIGNING_KEYS_AUTOCREATE = True

# Teams ------------------------------------------------------------------------------------
# An invitation link works for this many days (resending starts a new period).
TEAM_INVITATION_DAYS = int(os.environ.get("TEAM_INVITATION_DAYS", "7"))
# Role enums of the team API get stable names in the OpenAPI schema.
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {"TeamRoleEnum": "teams.models.Role", "TeamInvitableRoleEnum": "teams.api.serializers.INVITABLE_ROLES"}
)

# Stripe simulator --------------------------------------------------------------------------
# With DEBUG on and no Stripe secret key, every Stripe call goes to the local simulator
# (stripe_simulator; docs/stripe.md): dj-stripe points stripe.api_base at it
# (STRIPE_API_HOST) and the key is a fake in the real format (dj-stripe checks it). The simulator
# refuses to run with DEBUG off. Setting STRIPE_TEST_SECRET_KEY switches the same code to Stripe.
STRIPE_SIMULATOR = DEBUG and not (STRIPE_TEST_SECRET_KEY or STRIPE_LIVE_SECRET_KEY)
# The key the simulator accepts (its tests' fixtures use it too); it opens nothing anywhere else.
STRIPE_SIMULATOR_API_KEY = "sk_test_51QbSimulatorOnlyNotARealStripeKey0000"
if STRIPE_SIMULATOR:
    STRIPE_SIMULATOR_URL = f"http://127.0.0.1:{int(os.environ.get('STRIPE_SIMULATOR_PORT', '12111'))}"
    STRIPE_SIMULATOR_STATE_FILE = os.environ.get(
        "STRIPE_SIMULATOR_STATE_FILE", str(BASE_DIR / "var" / "stripe-simulator.json")
    )
    STRIPE_TEST_SECRET_KEY = STRIPE_SIMULATOR_API_KEY
    STRIPE_LIVE_MODE = False
    STRIPE_API_HOST = STRIPE_SIMULATOR_URL
    INSTALLED_APPS += ["stripe_simulator.apps.StripeSimulatorConfig"]

# Operations --------------------------------------------------------------------------------
# Deployment, health checks, headers and scale-out: docs/operations.md.

# Optional read replica. The validation API reads from it (qualitybytes/db_router.py); every
# write and every other read stays on `default`. Tests mirror it onto `default`.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["qualitybytes.db_router.ReplicaRouter"]

# Content-Security-Policy (qualitybytes/middleware.py). Our pages need no inline script or
# style. Forms may post to ourselves and be redirected to Stripe Checkout / the Customer Portal;
# in simulator mode those live on a loopback port. CSP_FORM_ACTION_EXTRA adds hosts (custom
# Stripe domains), space-separated.
_stripe_hosts = (
    "http://127.0.0.1:* http://localhost:*"
    if STRIPE_SIMULATOR
    else "https://checkout.stripe.com https://billing.stripe.com"
)
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        f"form-action 'self' {_stripe_hosts} {os.environ.get('CSP_FORM_ACTION_EXTRA', '')}".strip(),
    ]
)
# Features no page uses are switched off for the page and anything it embeds.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=()"
)
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
