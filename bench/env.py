"""The environment every bench process runs in: production-like settings (DEBUG off) on a bench database.

Imported first by the bench scripts; gunicorn gets the same variables from bench/pages.py.
Nothing here touches the demo's var/ directory or its database.
"""

import base64
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
DEFAULT_DATABASE = "switchboard_bench"
SMALL_DATABASE = "switchboard_bench_small"

# A fixed, published key for invented bench data only (never used for real secrets).
BENCH_FERNET_KEY = base64.urlsafe_b64encode(b"switchboard-bench-not-a-secret!!").decode()


def database_url(name):
    return f"{PG_SERVER}/{name}"


def bench_environ(database):
    """The variables the app is started with, for `database` on the local PostgreSQL server."""
    var_dir = Path(tempfile.gettempdir()) / "switchboard-bench"
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url(database),
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 50,
        "FIELD_ENCRYPTION_KEY": BENCH_FERNET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        # The bench's writer sends every ping from one address: measure the pages, not the ping throttle.
        "PING_CLIENT_LIMIT_PER_MINUTE": "0",
        "PING_TARGET_LIMIT_PER_MINUTE": "0",
        # The production stack: the cache (and so the stored pages) in Redis, a database of its own.
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2"),
        # The Celery broker of bench workers (bench/settings.py), apart from the cache and from the tests' Redis.
        "BENCH_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/5"),
        # Keeps the file cache and Celery folders away from the demo's var/.
        "SWITCHBOARD_VAR_DIR": str(var_dir / "var"),
        "BENCH_STATIC_ROOT": str(var_dir / "static"),
    }


def use_database(database):
    """Set up this process (Django included) for `database`."""
    os.environ.update(bench_environ(database))
    import django

    django.setup()
