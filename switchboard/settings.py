"""Switchboard settings: one file, read from the environment.

Every value has a default that lets `make run` work on a fresh machine with
nothing configured (SQLite and Celery's filesystem transport under var/).
Production sets the variables listed in the README; a malformed value stops
the process with ImproperlyConfigured instead of limping on.
"""

import ipaddress
import os
import secrets
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def env_bool(name, default):
    """A boolean variable; anything but a clear yes/no is a configuration error."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name, default):
    """An integer variable; a typo fails loudly rather than falling back."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


VAR_DIR = Path(os.environ.get("SWITCHBOARD_VAR_DIR") or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)


def stored_secret(name, make):
    """The value of secret `name` from the environment, else from var/ (made once).

    A single-host install works with nothing configured and keeps its keys
    across restarts; a production deployment sets them in the environment.
    """
    if os.environ.get(name):
        return os.environ[name]
    path = VAR_DIR / name.lower()
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(make())
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = stored_secret("SECRET_KEY", lambda: secrets.token_urlsafe(50))

# Fernet keys for secrets at rest (PDU/BMC credentials, S3 keys). Several keys,
# comma-separated, allow rotation: the first encrypts, all of them decrypt.
FIELD_ENCRYPTION_KEY = [
    key.strip()
    for key in stored_secret("FIELD_ENCRYPTION_KEY", lambda: Fernet.generate_key().decode()).split(",")
    if key.strip()
]
for _key in FIELD_ENCRYPTION_KEY:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be one or more comma-separated Fernet keys "
            "(make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        ) from None

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "core.apps.SwitchboardAdminConfig",  # the Django admin, with MFA
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "django_celery_results",
    "django_htmx",
    "simple_history",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from static/, no CDN
    "csp",  # django-csp: the Content-Security-Policy header (CONTENT_SECURITY_POLICY at the end)
    # Switchboard's own apps, lowest layer first: each imports only the ones above it in this list.
    "core",
    "coop",
    "hosts",
    "incidents",
    "power",
    "backups",
    "monitors",
    "alerts",
    "notices",
    "webhooks",  # signed JSON POSTs to the co-op's URLs when incidents, monitors, power and backups change
    "hostreports",  # what each host's agent says runs on it, and its drift from the inventory
    "front",
    "demo",
    "portability",  # manage.py export / import: the whole co-op in one JSON file
    "breakglass",  # the nightly encrypted offline bundle of contacts, access, runbooks and inventory
    "api",  # the REST API (/api/v1/), its personal tokens and its OpenAPI schema
    # After portability: Django runs the first app's command of a name, and both have `export` and `import`.
    "import_export",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (django-csp) and Permissions-Policy (core.middleware) on every response.
    "csp.middleware.CSPMiddleware",
    "core.middleware.permissions_policy",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "coop.middleware.viewer_time_zone",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Records which user made each change kept by django-simple-history.
    "simple_history.middleware.HistoryRequestMiddleware",
    # With DEBUG (the demo): the product's 404 page rather than Django's technical one.
    "core.middleware.product_not_found_page",
]

ROOT_URLCONF = "switchboard.urls"

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
                "core.page_cache.csrf_placeholder",
            ],
        },
    },
]

WSGI_APPLICATION = "switchboard.wsgi.application"

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'switchboard.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process, the worker and beat share one file: wait for locks
    # instead of failing, and let readers run beside the writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env_int("CONN_MAX_AGE", 60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and cache when set; embedded stand-ins otherwise ----
# REDIS_URL serves both; CACHE_URL and BROKER_URL, when set, give each its own Redis (or database
# number), so that a broker flooded with tasks or restarted never takes the cache with it.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHE_URL = os.environ.get("CACHE_URL", "") or REDIS_URL
BROKER_URL = os.environ.get("BROKER_URL", "") or REDIS_URL
REDIS_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    # Without these a Redis that accepts connections but never answers (hung, or behind a dead
    # proxy) makes a publish wait forever, and with it the request that pressed the button.
    "socket_connect_timeout": 2,
    "socket_timeout": 3,
}
# A Redis that accepts connections but never answers must not hang every page.
_REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}
if CACHE_URL:
    CACHES = {
        # Logins, second factors and throttles keep working in each process's memory while Redis is down.
        "default": {
            "BACKEND": "core.cache_backends.FallbackRedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": _REDIS_CACHE_OPTIONS,
        },
        # Stored pages: shared or not at all (core.page_cache renders afresh while it is down).
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": _REDIS_CACHE_OPTIONS,
        },
    }
if BROKER_URL:
    CELERY_BROKER_URL = BROKER_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_BROKER_TRANSPORT_OPTIONS
if not CACHE_URL:
    # A file cache is shared by the web process and the worker, unlike locmem.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
if not BROKER_URL:
    _queue = VAR_DIR / "celery" / "queue"
    _processed = VAR_DIR / "celery" / "processed"
    _control = VAR_DIR / "celery" / "control"
    for _folder in (_queue, _processed, _control):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    # kombu's filesystem transport, with messages that appear whole (kombu's lets a worker read one
    # half-written and die of it): core/filesystem_broker.py.
    CELERY_BROKER_TRANSPORT = "core.filesystem_broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue),
        "data_folder_out": str(_queue),
        "processed_folder": str(_processed),
        # Broadcasts (celery inspect, revoke); kombu's default is ./control.
        "control_folder": str(_control),
        "store_processed": False,
        "polling_interval": 0.1,
    }

CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request gives up on a dead broker after two tries (Celery's default is four): work that must not be
# lost is a row first, and a sweep sends it once the broker is back.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"

# --- Email ----------------------------------------------------------------------
# The console backend prints invitation and password-reset links: only for the local demo.
# Elsewhere the default is a mail server on this host, as Django's own default.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "switchboard@example.org")
# A mail server that hangs must not hold an alert's worker for long (Django's default waits forever).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Passwords, sessions, security ---------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Production defaults are the safe ones; `make run` sets DEBUG=true for plain HTTP.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Only lets a domain's owner submit its apex to browsers' preload list; harmless on a subdomain.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("USE_X_FORWARDED_PROTO", False):
    # Only behind a proxy that sets this header itself and strips the client's.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# A form refused for a stale CSRF token: a friendly 403 that offers to send what was typed again.
CSRF_FAILURE_VIEW = "front.views.errors.csrf_failure"

# --- Internationalisation --------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Logging -----------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # apprise's own messages may name a secret (an ntfy topic, a webhook path): alerts.sending records
    # a reason without them on the incident's timeline instead.
    "loggers": {"apprise": {"handlers": [], "propagate": False}},
}

# --- Switchboard ---------------------------------------------------------------------
# Every admin page needs a session that passed a second factor. Off only for the local demo.
ADMIN_REQUIRES_MFA = env_bool("ADMIN_REQUIRES_MFA", True)
# Member pages are stored per viewer until the data changes (core.page_cache), for at most
# this many seconds; 0 renders every request afresh.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 60)
# Tables whose writes never change what a member page shows (core.page_cache): sessions, Celery's
# results, beat's clock, and the uptime checker's routine bookkeeping (monitors.models.MonitorStatus).
PAGE_CACHE_UNWATCHED_TABLES = (
    "django_session",
    "django_celery_results_",
    "django_celery_beat_",
    "monitors_monitorstatus",
    "monitors_checkerclock",  # when checks last ran: ticked by every batch (monitors.models.CheckerClock)
    # A heartbeat ping that changes nothing (a WAL job pinging every minute) writes only its own row; one
    # that changes the target's state updates backups_backuptarget, which is watched. A page listing the
    # latest pings is at most a minute behind (the page key's minute).
    "backups_heartbeatping",
)
# Uptime checks: how many monitors one task checks at once, how many probes run concurrently in
# it, and the most monitors one dispatch hands out.
MONITOR_BATCH_SIZE = env_int("MONITOR_BATCH_SIZE", 500)
MONITOR_CONCURRENCY = env_int("MONITOR_CONCURRENCY", 500)
MONITOR_DISPATCH_LIMIT = env_int("MONITOR_DISPATCH_LIMIT", 20000)
# Monitors' changes of state older than this many days are deleted daily; pages show 30-day uptime.
MONITOR_HISTORY_DAYS = env_int("MONITOR_HISTORY_DAYS", 90)
if MONITOR_HISTORY_DAYS < 30:
    raise ImproperlyConfigured(f"MONITOR_HISTORY_DAYS must be 30 or more (30-day uptime), not {MONITOR_HISTORY_DAYS}")
# A monitor that changed state this many times within 30 minutes is flapping: it counts as up again
# only after this many minutes of good checks (one incident and one alert, not one per flip).
MONITOR_FLAP_CHANGES = env_int("MONITOR_FLAP_CHANGES", 3)
MONITOR_FLAP_QUIET_MINUTES = env_int("MONITOR_FLAP_QUIET_MINUTES", 10)
# An outside dead man's switch (a healthchecks-style ping URL) beat GETs every minute while uptime
# checks run; when they stop, the pings stop and that service tells someone. Empty: off.
SWITCHBOARD_HEARTBEAT_URL = os.environ.get("SWITCHBOARD_HEARTBEAT_URL", "").strip()
if SWITCHBOARD_HEARTBEAT_URL and not SWITCHBOARD_HEARTBEAT_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("SWITCHBOARD_HEARTBEAT_URL must start with http:// or https://")
# The DNS server the hourly DNS drift check (monitors.dnscheck) asks, as "address" or "address:port"
# ("[2001:db8::53]:5353" for IPv6); empty: the system's resolvers (/etc/resolv.conf). An address, not a
# name: the check must not depend on the resolver it is checking with.
DNS_RESOLVER = os.environ.get("DNS_RESOLVER", "").strip()
if DNS_RESOLVER:
    # Parsed again by monitors.dnscheck.resolver_address; checked here so a typo stops the start.
    _dns_host, _dns_port = DNS_RESOLVER, "53"
    if DNS_RESOLVER.startswith("[") and "]:" in DNS_RESOLVER:
        _dns_host, _dns_port = DNS_RESOLVER[1:].split("]:", 1)
    elif DNS_RESOLVER.count(":") == 1:
        _dns_host, _dns_port = DNS_RESOLVER.split(":")
    try:
        ipaddress.ip_address(_dns_host.strip("[]"))
    except ValueError:
        _dns_port = ""
    if not (_dns_port.isdigit() and 1 <= int(_dns_port) <= 65535):
        raise ImproperlyConfigured(
            f"DNS_RESOLVER must be an IP address with an optional port (192.0.2.53:5353), not {DNS_RESOLVER!r}"
        )
# How long a contact method stays trusted after someone confirmed it works.
CONTACT_VERIFICATION_MAX_AGE_DAYS = env_int("CONTACT_VERIFICATION_MAX_AGE_DAYS", 180)
# Past that age, an email address or alert URL is asked "still reachable here?" with a one-tap confirm link
# (coop.verification), at most once in this many days; each link works as long, until the next one comes.
CONTACT_VERIFICATION_ASK_EVERY_DAYS = env_int("CONTACT_VERIFICATION_ASK_EVERY_DAYS", 14)
# Contracts ending within this many days are flagged.
CONTRACT_WARNING_DAYS = env_int("CONTRACT_WARNING_DAYS", 60)
# S3 backup targets are checked this often (minutes); heartbeat targets are judged on every beat.
BACKUP_CHECK_EVERY_MINUTES = env_int("BACKUP_CHECK_EVERY_MINUTES", 60)
# Heartbeat pings and check results older than this are deleted daily (the last good check stays).
BACKUP_HISTORY_DAYS = env_int("BACKUP_HISTORY_DAYS", 180)
# Heartbeat pings (/ping/<uuid>), after healthchecks: at most this many counted per minute per target and
# per client address (more get 429, counted nowhere), the newest PING_KEEP_PER_TARGET kept, and a body over
# PING_BODY_MAX_BYTES refused with 413 (up to HeartbeatPing.BODY_LIMIT of a smaller one is kept).
PING_TARGET_LIMIT_PER_MINUTE = env_int("PING_TARGET_LIMIT_PER_MINUTE", 20)
PING_CLIENT_LIMIT_PER_MINUTE = env_int("PING_CLIENT_LIMIT_PER_MINUTE", 600)
PING_KEEP_PER_TARGET = env_int("PING_KEEP_PER_TARGET", 500)
PING_BODY_MAX_BYTES = env_int("PING_BODY_MAX_BYTES", 1_000_000)
# Alerts (alerts/): which incidents alert people, how long the one-tap acknowledgement link works,
# and how a failing channel is retried (attempts; the first retry's wait in seconds, ×4 each time).
ALERT_CAUSES = ["outage"]
ALERT_ACK_LINK_HOURS = env_int("ALERT_ACK_LINK_HOURS", 24)
ALERT_SEND_ATTEMPTS = env_int("ALERT_SEND_ATTEMPTS", 3)
ALERT_RETRY_SECONDS = env_int("ALERT_RETRY_SECONDS", 30)
# A send still "sending" after this long was abandoned by a dead worker: failed, never sent twice.
ALERT_SEND_LEASE_SECONDS = env_int("ALERT_SEND_LEASE_SECONDS", 120)
# A queue of their own keeps alerts from waiting behind a long round of checks (empty: Celery's default queue).
ALERT_QUEUE = os.environ.get("ALERT_QUEUE", "")
# Webhooks out (webhooks/): how long an endpoint has to answer (seconds), how many attempts a delivery gets
# for a transport error, 5xx or 429 (the first retry's wait in seconds, ×4 each time, at most the max apart),
# how many deliveries each endpoint's log keeps, and a queue of their own (empty: Celery's default queue).
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5)
WEBHOOK_SEND_ATTEMPTS = env_int("WEBHOOK_SEND_ATTEMPTS", 8)
WEBHOOK_RETRY_SECONDS = env_int("WEBHOOK_RETRY_SECONDS", 30)
WEBHOOK_RETRY_MAX_SECONDS = env_int("WEBHOOK_RETRY_MAX_SECONDS", 6 * 3600)
WEBHOOK_KEEP_PER_ENDPOINT = env_int("WEBHOOK_KEEP_PER_ENDPOINT", 500)
WEBHOOK_QUEUE = os.environ.get("WEBHOOK_QUEUE", "")
if min(WEBHOOK_TIMEOUT_SECONDS, WEBHOOK_SEND_ATTEMPTS, WEBHOOK_RETRY_SECONDS, WEBHOOK_KEEP_PER_ENDPOINT) < 1:
    raise ImproperlyConfigured(
        "WEBHOOK_TIMEOUT_SECONDS, _SEND_ATTEMPTS, _RETRY_SECONDS, _KEEP_PER_ENDPOINT must be ≥ 1"
    )
# Every periodic task, in one place: name → the task, how often (seconds), what it is for.
# `migrate` installs a missing entry into django-celery-beat's tables (core.beat) and never
# touches one that exists, so an interval an admin changed or a task they disabled stays so.
# (Not CELERY_BEAT_SCHEDULE: beat rewrites those entries at every start, undoing admin edits.)
BEAT_SCHEDULE = {
    "dispatch-due-monitors": {
        "task": "monitors.dispatch_due_monitors",
        "every": 5,
        "description": "Send the uptime checks that are due to workers, in batches.",
    },
    "prune-monitor-history": {
        "task": "monitors.prune_monitor_history",
        "every": 86400,
        "description": "Delete monitors' changes of state past MONITOR_HISTORY_DAYS.",
    },
    "ping-heartbeat": {
        "task": "monitors.ping_heartbeat",
        "every": 60,
        "description": "Ping SWITCHBOARD_HEARTBEAT_URL while uptime checks run (a dead man's switch).",
    },
    # Hourly: DNS changes slowly, and a drift found within the hour is found before anyone relies on it.
    "check-dns-names": {
        "task": "monitors.check_dns_names",
        "every": 3600,
        "description": "Resolve every recorded DNS name; flag names that drifted or do not resolve (DNS_RESOLVER).",
    },
    "escalate-alerts": {
        "task": "alerts.escalate_due_alerts",
        "every": 10,
        "description": "Run due escalation steps; re-send alerts waiting for a retry.",
    },
    "sweep-owner-notices": {
        "task": "notices.sweep_owner_notices",
        "every": 30,
        "description": "Re-send owner notices waiting for a retry or never picked up; fail abandoned sends.",
    },
    "sweep-power-actions": {
        "task": "power.sweep_power_actions",
        "every": 30,
        "description": "Re-send power actions a worker never got; fail the ones nobody finished.",
    },
    "check-due-backups": {
        "task": "backups.check_due_backups",
        "every": 300,
        "description": "Queue due S3 backup checks and judge heartbeats.",
    },
    "prune-backup-history": {
        "task": "backups.prune_backup_history",
        "every": 86400,
        "description": "Delete backup history past BACKUP_HISTORY_DAYS.",
    },
    "send-gap-digest": {
        "task": "front.send_gap_digest",
        "every": 7 * 86400,
        "description": "Email the admins the week's knowledge-gap counts (/gaps/).",
    },
    "ask-contacts-to-confirm": {
        "task": "coop.ask_contacts_to_confirm",
        "every": 86400,
        "description": "Ask contacts unconfirmed for CONTACT_VERIFICATION_MAX_AGE_DAYS whether they still reach them.",
    },
    # Nightly: the encrypted offline bundle, uploaded off-site (BREAK_GLASS_* below; breakglass/tasks.py).
    "build-break-glass-bundle": {
        "task": "breakglass.build_bundle_nightly",
        "every": 86400,
        "description": "Build the encrypted break-glass bundle and upload it to BREAK_GLASS_S3_BUCKET.",
    },
    "sweep-webhook-deliveries": {
        "task": "webhooks.sweep_webhook_deliveries",
        "every": 30,
        "description": "Re-send webhook deliveries due for a retry or never picked up; prune each endpoint's log.",
    },
}

# --- The break-glass bundle (breakglass/): the co-op on a phone when Switchboard is down -------------
# One HTML file, sealed with BREAK_GLASS_PASSPHRASE (PBKDF2-SHA256 + AES-GCM 256, opened in the browser).
# Choose five or more random words, write them on paper for the people who hold keys, and keep them only
# here (the environment), never in the database. To rotate, change it: the next bundle uses the new one,
# older bundles keep opening with the old one. Empty: bundles are not built (the admin page says why).
BREAK_GLASS_PASSPHRASE = os.environ.get("BREAK_GLASS_PASSPHRASE", "").strip()
if BREAK_GLASS_PASSPHRASE and len(BREAK_GLASS_PASSPHRASE.split()) < 5 and len(BREAK_GLASS_PASSPHRASE) < 25:
    raise ImproperlyConfigured("BREAK_GLASS_PASSPHRASE must be at least five random words (or 25 characters)")
BREAK_GLASS_KDF_ITERATIONS = env_int("BREAK_GLASS_KDF_ITERATIONS", 600_000)
if BREAK_GLASS_KDF_ITERATIONS < 600_000:
    raise ImproperlyConfigured("BREAK_GLASS_KDF_ITERATIONS must be at least 600000")
# The off-site bucket, configured like an S3 backup target: endpoint URL (empty for AWS), region, bucket,
# a key prefix and a key of its own (put, list, get, delete under the prefix). No bucket: kept here only.
BREAK_GLASS_S3_URL = os.environ.get("BREAK_GLASS_S3_URL", "").strip()
if BREAK_GLASS_S3_URL and not BREAK_GLASS_S3_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("BREAK_GLASS_S3_URL must start with http:// or https://")
BREAK_GLASS_S3_REGION = os.environ.get("BREAK_GLASS_S3_REGION", "us-east-1").strip()
BREAK_GLASS_S3_BUCKET = os.environ.get("BREAK_GLASS_S3_BUCKET", "").strip()
BREAK_GLASS_S3_PREFIX = os.environ.get("BREAK_GLASS_S3_PREFIX", "break-glass/").strip()
BREAK_GLASS_S3_ACCESS_KEY_ID = os.environ.get("BREAK_GLASS_S3_ACCESS_KEY_ID", "").strip()
BREAK_GLASS_S3_SECRET_ACCESS_KEY = os.environ.get("BREAK_GLASS_S3_SECRET_ACCESS_KEY", "").strip()
# How many bundles to keep, in the bucket and here; older ones go only after a new one is uploaded.
BREAK_GLASS_KEEP = env_int("BREAK_GLASS_KEEP", 14)
# A failed upload is tried this many times in all (after 1, 4, 16, 64 minutes, then hourly).
BREAK_GLASS_UPLOAD_ATTEMPTS = env_int("BREAK_GLASS_UPLOAD_ATTEMPTS", 5)
# Where bundles are built and the newest BREAK_GLASS_KEEP kept (downloadable from the admin).
BREAK_GLASS_DIR = Path(os.environ.get("BREAK_GLASS_DIR") or VAR_DIR / "breakglass")

# The REST API (api/). Personal tokens last at most API_TOKEN_MAX_DAYS; a power token, which an
# operator makes right after entering a code, at most API_POWER_TOKEN_MAX_HOURS.
API_TOKEN_MAX_DAYS = env_int("API_TOKEN_MAX_DAYS", 365)
API_POWER_TOKEN_MAX_HOURS = env_int("API_POWER_TOKEN_MAX_HOURS", 8)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.TokenAuthentication", "api.auth.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Cursor",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "api.errors.handle",
    "DEFAULT_THROTTLE_RATES": {},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": "The co-op's machines, guests, people, sites, incidents, monitors, backups and power actions.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs for members, like the rest of the API.
    "SERVE_PERMISSIONS": ["api.permissions.RolePermission"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Served by Switchboard itself (static/), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "HostLifecycleEnum": "hosts.models.Lifecycle",
        "SiteLifecycleEnum": "coop.models.Site.Lifecycle",
        "PowerStateEnum": "power.models.PowerState",
    },
}

# Power actions (power/tasks.py): how long to wait for a cycled outlet to read on again.
POWER_VERIFY_SECONDS = env_int("POWER_VERIFY_SECONDS", 30)
# A worker's lease on its controller; once it lapses on a running action, that worker died and the
# sweep sends the action again (it reads the outlet back, never switches twice). Longer than any run.
POWER_LOCK_SECONDS = env_int("POWER_LOCK_SECONDS", 120)
# A queue of their own keeps power actions from waiting behind slow jobs (empty: Celery's default queue).
POWER_QUEUE = os.environ.get("POWER_QUEUE", "")
# Commands to one controller go one at a time: a task waits this long (seconds) for the controller's
# lease, then steps aside and comes back; after this many such retries the action fails as "busy".
POWER_LOCK_WAIT_SECONDS = env_int("POWER_LOCK_WAIT_SECONDS", 10)
POWER_LOCK_RETRIES = env_int("POWER_LOCK_RETRIES", 60)
# A controller that did not answer before the command went out is tried again this many times (backoff).
POWER_TRANSPORT_RETRIES = env_int("POWER_TRANSPORT_RETRIES", 3)
# How often (milliseconds) a running action reads the outlet back while waiting for the expected state.
POWER_POLL_INTERVAL = env_int("POWER_POLL_INTERVAL_MS", 500) / 1000
# After a cycle the outlet may still read on for a moment: wait this long to see it go off before trusting "on".
POWER_CYCLE_SEEN_OFF_SECONDS = env_int("POWER_CYCLE_SEEN_OFF_SECONDS", 5)
# A cycle of all of a machine's outlets keeps them all off this long (seconds) before switching them back on.
POWER_ALL_OFF_SECONDS = env_int("POWER_ALL_OFF_SECONDS", 10)
# A machine needs time to boot before its monitors can say whether it answers after a power action.
POWER_BOOT_GRACE_SECONDS = env_int("POWER_BOOT_GRACE_SECONDS", 180)
# A task sent this many times without an outcome is failed by the sweep instead of being sent forever.
POWER_MAX_DISPATCHES = env_int("POWER_MAX_DISPATCHES", 10)
# A manual action nobody marked done on site within this many hours is failed by the sweep.
POWER_MANUAL_DEADLINE_HOURS = env_int("POWER_MANUAL_DEADLINE_HOURS", 4)

# --- Login: django-allauth, invite-only, TOTP MFA ----------------------------------------
# Email + password; sign-up only through an invitation link (coop.adapters), and
# the invitation proves the address, so invited people are never asked to verify
# it. Addresses added any other way must be verified by email before they count.
INSTALLED_APPS += ["allauth", "allauth.account", "allauth.mfa"]
MIDDLEWARE.append("allauth.account.middleware.AccountMiddleware")
# Django's and allauth's backends, loading each user's roles in the same query (coop.backends).
AUTHENTICATION_BACKENDS = [
    "coop.backends.ModelBackend",
    "coop.backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
# How many reverse proxies (TLS terminators) stand in front of Switchboard and append to X-Forwarded-For.
# 0: the client is REMOTE_ADDR. Behind one proxy set 1, or every client has the proxy's address: one
# person's bad logins would lock every volunteer out, and pings would record the proxy. Read by
# core.throttle.client_ip and allauth's rate limits.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

ACCOUNT_ADAPTER = "coop.adapters.AccountAdapter"
ACCOUNT_FORMS = {"signup": "coop.adapters.InvitationSignupForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Switchboard] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = SITE_URL.split(":", 1)[0]
# TOTP with recovery codes; no "trust this browser": every login asks for a code.
MFA_ADAPTER = "coop.adapters.MFAAdapter"
MFA_FORMS = {
    "authenticate": "coop.adapters.AuthenticateForm",
    "reauthenticate": "coop.adapters.ReauthenticateForm",
    "activate_totp": "coop.adapters.ActivateTOTPForm",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Switchboard"
# One 30 s step either side: phones' clocks drift, and a volunteer in an outage should not retype.
MFA_TOTP_TOLERANCE = 1
# Days an invitation link works after it was (last) sent.
INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", 7)

# --- Operating it: /health/, /metrics and the browser's security headers -----------------------
# (front.views.ops, core.middleware; README "Operating it".) Kept together at the end of the file.
# The Content-Security-Policy of every page: nothing inline, nothing from another origin. htmx is told
# not to inject its indicator <style> (the htmx-config meta tag in base.html). The public badge sets
# its own, stricter one (front.views.public.status_badge), which django-csp leaves alone.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # data: for the authenticator app's QR code
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
# Django's defaults, said here so that a reader sees every security header in one place.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# A load balancer or monitor often probes the app itself over plain HTTP (TLS ends in front of it):
# a redirect to HTTPS would read as "unhealthy". Everything else still redirects.
SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^metrics$"]
# /health/ keeps its answer this long per process (callers meanwhile share one run of the checks).
HEALTH_KEEP_SECONDS = env_int("HEALTH_KEEP_SECONDS", 2)
# /metrics answers only with "Authorization: Bearer <METRICS_TOKEN>"; unset, it is a 404.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "").strip()
if METRICS_TOKEN and len(METRICS_TOKEN) < 20:
    raise ImproperlyConfigured(
        "METRICS_TOKEN must be at least 20 characters "
        "(make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
    )
