"""Settings for 售后服务管理系统, read from the environment (see .env.example).

Without any environment the project runs on embedded defaults: a SQLite file for the
database, Celery's file-system broker for background jobs, and a file cache under var/. In
production set DATABASE_URL (PostgreSQL) and REDIS_URL (broker + shared cache).
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Run-time files of the embedded defaults: SQLite database, broker folders, beat schedule, uploads.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "aftersales",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "import_export",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "phonenumber_field",
    "axes",
    # The JSON API (/api/v1/); installed for its docs page's templates and static files (Swagger
    # UI served from here, not from a CDN).
    "ninja",
    "customers",
    "tickets",
    "knowledge",
    "parts",
    "complaints",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "aftersales.sessions.SessionTimeouts",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Turns a blocked rate limit into a 429 page (RATELIMIT_VIEW) instead of a 403.
    "django_ratelimit.middleware.RatelimitMiddleware",
    # AxesMiddleware must be last: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "aftersales.urls"
WSGI_APPLICATION = "aftersales.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "aftersales.context_processors.navigation",
                "aftersales.context_processors.notifications",
            ],
        },
    },
]

# Database: an embedded SQLite file unless DATABASE_URL names another (PostgreSQL in production).
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default has the web server and the worker writing at once: write-ahead log,
    # transactions that take the write lock up front, and a wait instead of "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Reuse connections across requests: opening one costs ~12 ms on this kind of machine.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # The planner's price of a random read, for data in memory or on SSD (PostgreSQL's default,
    # 4, is for spinning disks): with it, a search that matches a thousand tickets reads them
    # through its indexes (5 ms) instead of walking the newest million in date order (12 ms).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", f"-c random_page_cost={env.float('DB_RANDOM_PAGE_COST', default=1.1)}"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "aftersales.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses logins that are locked out before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, with each user's permissions and roles kept in the cache.
    "aftersales.caching.AuthFactsBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ],
)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login brute-force protection (django-axes, counted in the database): a username + address pair
# is locked after AXES_FAILURE_LIMIT failures, and an address, whatever usernames it tries, after
# LOGIN_ADDRESS_FAILURE_LIMIT (aftersales.lockout), each for AXES_COOLOFF_TIME.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=30)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "aftersales.lockout.LockoutHandler"
AXES_CLIENT_IP_CALLABLE = "aftersales.lib.client_ip.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Internationalisation: Chinese first, English available, times in Asia/Shanghai.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
# Private files (visit photos, signatures) pass an access check; then, when this is set, the web
# server sends them (nginx X-Accel-Redirect to an `internal` location serving MEDIA_ROOT).
MEDIA_ACCEL_REDIRECT = env.str("MEDIA_ACCEL_REDIRECT", default="")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# The largest photo or other file a user may upload (bytes); larger ones are refused by the form.
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)

# Redis serves as Celery broker and as the shared cache (sessions, rate limits) when given.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis cache, reusing its Redis client (see the class).
            "BACKEND": "aftersales.caching.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="aftersales"),
            # A Redis that hangs costs a page half a second once; then the cache rests for a
            # few seconds and pages read the database (aftersales.caching.RedisCache).
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    # Files under var/: the embedded setup's web server and worker share them, so a change one
    # of them makes (a ticket's state, a role) reaches the other's pages at once.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Celery. Embedded default: the file-system transport, which needs no server; its folders are
# created by aftersales.celery before a worker starts.
CELERY_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Publishing from a page must not hang on a broker that hangs: fail fast, the outbox's
    # sweep and the import jobs' cleanup pick up what was not queued.
    CELERY_BROKER_CONNECTION_TIMEOUT = 1
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 5}
    CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.2}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The timers (Celery beat entries) come from the apps: each app's plugin.py (BEAT_SCHEDULE),
# collected by aftersales.celery once Django is set up.

# E-mail.
# Django 6.1's MAILERS (the EMAIL_* settings are deprecated). Without EMAIL_URL each message is
# one log line (aftersales.mail.LogBackend), which the deploy checks refuse (aftersales.checks):
# production sets EMAIL_URL, e.g. smtp+tls://user:password@mail.example.com:587.
_email = env.email_url("EMAIL_URL", default="consolemail://")
_email_options = {}
if not env.str("EMAIL_URL", default=""):
    _email["EMAIL_BACKEND"] = "aftersales.mail.LogBackend"
elif _email["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend":
    _email_options = {
        "host": _email["EMAIL_HOST"],
        "port": _email["EMAIL_PORT"],
        "username": _email["EMAIL_HOST_USER"],
        "password": _email["EMAIL_HOST_PASSWORD"],
        "use_tls": _email.get("EMAIL_USE_TLS", False),
        "use_ssl": _email.get("EMAIL_USE_SSL", False),
        "timeout": env.int("EMAIL_TIMEOUT", default=30),
    }
elif _email["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend":
    _email_options = {"file_path": "/" + _email["EMAIL_FILE_PATH"].lstrip("/")}
MAILERS = {"default": {"BACKEND": _email["EMAIL_BACKEND"], "OPTIONS": _email_options}}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="售后服务 <service@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Notifications (aftersales.notifications): links in e-mails and robot messages start with
# SITE_URL; SMS go through SMS_BACKEND (a class with send(mobile, text); the default logs them).
# With DEBUG on, the address `make demo` serves; with DEBUG off it must be set (aftersales.E003).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
SMS_BACKEND = env.str("SMS_BACKEND", default="aftersales.sms.LogBackend")
# Automated SMS (reminders sent by timers, not at a person's request) wait out these hours of
# local time and go out when they end: "HH:MM-HH:MM", across midnight allowed; "off" for none.
# Checked at start-up (aftersales.checks) and by the sender (aftersales.sms.quiet_hours).
SMS_QUIET_HOURS = env.str("SMS_QUIET_HOURS", default="21:00-08:00")
# A failed send is tried again after 30 s, 1 min, 2 min, … (at most 30 min apart: below Redis's
# one-hour visibility timeout) and given up after NOTIFY_MAX_ATTEMPTS tries.
NOTIFY_RETRY_DELAY = env.int("NOTIFY_RETRY_DELAY", default=30)
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=8)

# Security.
SESSION_COOKIE_HTTPONLY = True
# Signed out after SESSION_IDLE_HOURS away, and SESSION_ABSOLUTE_HOURS after signing in
# (aftersales.sessions).
SESSION_IDLE_HOURS = env.float("SESSION_IDLE_HOURS", default=8)
SESSION_ABSOLUTE_HOURS = env.float("SESSION_ABSOLUTE_HOURS", default=12)
SESSION_COOKIE_AGE = int(SESSION_IDLE_HOURS * 3600)
SESSION_REFRESH_SECONDS = min(300, SESSION_COOKIE_AGE // 10)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Probes ask over plain HTTP inside the network: answered, not redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# How many proxies (nginx, a load balancer) stand in front of Django. Client addresses (rate
# limits, login lock-outs) come from the header those proxies write (aftersales.lib.client_ip),
# and their X-Forwarded-Proto says whether the request came over HTTPS; with 0, both headers are
# the client's own word and are ignored.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
# Each a separate decision: includeSubDomains forces HTTPS on every host of the domain (an
# intranet one without it stops working), preload asks browsers to hard-code that for months.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "font-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}

# Public pages (QR fault report, customer links) are rate limited per client address.
PUBLIC_RATE_LIMIT = env.str("PUBLIC_RATE_LIMIT", default="60/m")
# What a customer may send (a request, an SMS code) is counted in the database
# (aftersales.throttle): per client address and per mobile number.
PORTAL_IP_LIMIT = env.str("PORTAL_IP_LIMIT", default="20/h")
PORTAL_MOBILE_LIMIT = env.str("PORTAL_MOBILE_LIMIT", default="5/h")
RATELIMIT_IP_META_KEY = "aftersales.lib.client_ip.client_ip"
# With Redis down the page views' limit cannot count: the customer's pages still open (a fault
# report matters more than a count), while what costs something stays limited in the database.
RATELIMIT_FAIL_OPEN = True
RATELIMIT_VIEW = "aftersales.views.rate_limited"
# The service hotline that public pages offer as a tap-to-call link (empty: not shown).
SERVICE_HOTLINE = env.str("SERVICE_HOTLINE", default="400-800-1234" if DEBUG else "")
# The company named at the head of the electronic service report (empty: "After-sales Service").
COMPANY_NAME = env.str("COMPANY_NAME", default="")
SILENCED_SYSTEM_CHECKS = [
    # The embedded file cache counts non-atomically (rate limits are approximate there): it is
    # for one machine only. Production uses Redis.
    "django_ratelimit.W001",
    # HSTS includeSubDomains and preload are opt-ins of their own (above), not omissions.
    "security.W005",
    "security.W021",
]

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
PHONENUMBER_DEFAULT_REGION = "CN"
PHONENUMBER_DEFAULT_FORMAT = "NATIONAL"

# Import/export: wrap every import in one transaction; nothing is half-imported.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = True
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.MediaStorage"
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=20000)
# Files with more rows than this are checked and imported by a background job (Celery).
IMPORT_BACKGROUND_ROWS = env.int("IMPORT_BACKGROUND_ROWS", default=500)
# The hourly cleanup (customers.expire_import_jobs): a background job with no progress for this
# many minutes has lost its worker and fails (the user may run it again with its file for the
# hours below); a checked file not confirmed within this many hours is deleted and its job
# expires, and so is the file of a job that failed that long ago.
IMPORT_STALE_MINUTES = env.int("IMPORT_STALE_MINUTES", default=30)
IMPORT_UNCONFIRMED_HOURS = env.int("IMPORT_UNCONFIRMED_HOURS", default=24)
# Exports are written by a background job (customers.exports) to a file kept this many hours
# for its download; the hourly cleanup deletes it then, and fails an export with no progress
# for EXPORT_STALE_MINUTES (its worker died).
EXPORT_KEEP_HOURS = env.int("EXPORT_KEEP_HOURS", default=24)
EXPORT_STALE_MINUTES = env.int("EXPORT_STALE_MINUTES", default=30)

PAGE_SIZE = 25

# SLA clocks: the calendar of agreements that name none, and the revisit's due time after a
# ticket is processed (working hours).
SLA_DEFAULT_CALENDAR = env.str("SLA_DEFAULT_CALENDAR", default="cn-statutory")
# Business calendars in use warn (status page, a daily notice to administrators) this many days
# before their last complete year ends.
CALENDAR_WARN_DAYS = env.int("CALENDAR_WARN_DAYS", default=60)
REVISIT_WITHIN_HOURS = env.int("REVISIT_WITHIN_HOURS", default=24)
# Reminders (days before): agreement renewals and the end of a unit's warranty.
RENEWAL_REMINDER_DAYS = env.int("RENEWAL_REMINDER_DAYS", default=30)
WARRANTY_REMINDER_DAYS = env.int("WARRANTY_REMINDER_DAYS", default=30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # A worker's "task received" / "task succeeded" lines, twice a minute per timer; a task
        # that fails is still logged (ERROR).
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
        # WeasyPrint's seven steps of every PDF (service reports); its warnings still show.
        "weasyprint.progress": {"level": "WARNING"},
    },
}
