"""The shared cast and settings for Switchboard's tests.

Tests run on PostgreSQL when DATABASE_URL is set (CI sets it) and on SQLite
otherwise. SWITCHBOARD_REQUIRE_SERVICES=1 (set by .ci/run) turns any missing
service or peer into a failure instead of a skip.
"""

import os
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from kombu.utils.url import maybe_sanitize_url

REQUIRE_SERVICES = os.environ.get("SWITCHBOARD_REQUIRE_SERVICES") == "1"

# The fault suite's table of outcomes, printed at the end of every run (tests/faults/summary.py).
pytest_plugins = ["tests.faults.summary"]


def service_missing(why):
    """Skip on a developer laptop without the service; fail in CI, where it must be there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {why}")
    pytest.skip(why)


@pytest.fixture(autouse=True)
def _plain_http_settings(settings):
    # Production defaults redirect to HTTPS and use hashed static names; the
    # test client speaks plain HTTP and nobody ran collectstatic.
    settings.SECURE_SSL_REDIRECT = False
    # Each test starts with an empty cache of its own (the status page keeps its body a few
    # seconds; a shared Redis cache would carry it from one test to the next).
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }
    # And no process-local copies of public pages (kept while the cache is down) from an earlier test.
    # Nor the memory of an outage an earlier test made (a dead Redis is left alone for a while).
    from core import cache_backends, page_cache

    page_cache._local_copies.clear()
    page_cache._cache_down_until = 0.0
    cache_backends._down_until.clear()
    from front.views import ops

    ops._last_health = None  # /health/'s kept answer
    # Hashing real passwords costs about a second per user; tests log many in.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def log_in_with_second_factor(client, user):
    """Log `user` in as if they had typed their password and then a TOTP code.

    Sets up an authenticator app for them if they have none. Tests of the
    login flow itself go through the real pages (test_login_and_mfa.py).
    """
    from allauth.account.internal.flows.login import record_authentication
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, generate_totp_secret())
    client.force_login(user)
    session = client.session
    request = type("Request", (), {"session": session})()
    record_authentication(request, user, "password")
    record_authentication(request, user, "mfa", type="totp")
    session.save()
    return client


@pytest.fixture
def admin_user(django_user_model):
    """Ada, a co-op admin: a superuser who keeps the inventory."""
    return django_user_model.objects.create_superuser(
        username="ada", email="ada@example.org", password="correct horse battery", first_name="Ada", last_name="Okoro"
    )


@pytest.fixture
def admin_client(client, admin_user):
    """Ada's browser, logged in with her password and authenticator code, as the admin requires."""
    return log_in_with_second_factor(client, admin_user)


# --- A real Celery worker -------------------------------------------------------------------
# Most tests call tasks as functions; the few marked `worker` send them through Redis to a real
# `celery -A switchboard worker` process, started once per test session (a worker takes ~3.5 s to start).

PROJECT_DIR = Path(__file__).resolve().parent.parent
WORKER_READY_TIMEOUT = 20


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    # A worker is another process: it cannot open SQLite's default in-memory test database, so
    # on SQLite each test session (each xdist worker) gets a test database file of its own.
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(scope="session")
def redis_url():
    """The broker the worker tests use: REDIS_URL, which must answer a PING."""
    import redis

    url = os.environ.get("REDIS_URL")
    if not url:
        service_missing("REDIS_URL is not set: the real-worker tests need Redis")
    try:
        redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        service_missing(f"Redis at {maybe_sanitize_url(url)} does not answer: {exc}")
    return url


def unique_queue(purpose):
    """A queue name no other test session or xdist worker uses, so none steals another's tasks."""
    return f"switchboard-test-{purpose}-{uuid.uuid4().hex[:12]}"


def delete_queue(queue):
    """Delete a test queue, its messages and its binding from the broker, so they do not pile up."""
    from kombu import Exchange, Queue

    from switchboard.celery import app

    with app.connection_for_write() as conn:
        # Shaped as Celery makes a queue named on apply_async; declared so that delete() knows its binding.
        bound = Queue(queue, Exchange(queue), routing_key=queue)(conn.default_channel)
        bound.declare()
        bound.delete()


def _test_database_url():
    """A DATABASE_URL for the test database this session uses (its name is known only after setup)."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    configured = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(configured._replace(path="/" + quote(name)))


@dataclass
class CeleryWorker:
    process: subprocess.Popen
    queue: str
    nodename: str
    log: Path

    @property
    def pid(self):
        return self.process.pid


@contextmanager
def running_worker(redis_url, log, purpose, **settings_env):
    """Run a `celery -A switchboard worker` on Redis, this session's test database and a queue of its own.

    `settings_env` are extra environment variables for switchboard/settings.py (e.g. POWER_LOCK_SECONDS="2");
    "{queue}" in a value is replaced by the worker's queue (ALERT_QUEUE="{queue}": it sends its own alerts).
    On leaving, the worker is stopped (if a test has not killed it already) and its queue deleted.
    """
    from switchboard.celery import app

    queue = unique_queue(purpose)
    nodename = f"{queue}@pytest"
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": redis_url,
        "C_FORCE_ROOT": "1",  # CI runs as root, which Celery refuses without this
        "PYTHONUNBUFFERED": "1",
        **{name: value.format(queue=queue) for name, value in settings_env.items()},
    }
    command = [sys.executable, "-m", "celery", "-A", "switchboard", "worker", "--pool=solo", "--loglevel=INFO"]
    command += ["--queues", queue, "--hostname", nodename, "--without-mingle", "--without-gossip"]
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + WORKER_READY_TIMEOUT
        while not app.control.ping(destination=[nodename], timeout=0.5):
            if process.poll() is not None:
                pytest.fail(f"celery worker exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"celery worker not ready after {WORKER_READY_TIMEOUT} s:\n{log.read_text()[-3000:]}")
        yield CeleryWorker(process=process, queue=queue, nodename=nodename, log=log)
    finally:
        # Stopped before django_db_setup drops the test database, which it must not be using.
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        delete_queue(queue)


@pytest.fixture(scope="session")
def celery_worker(redis_url, django_db_setup, tmp_path_factory):
    """A `celery -A switchboard worker` process on Redis, using this session's test database and its own queue.

    Tests that write rows the worker must read, or read what it writes, need
    `@pytest.mark.django_db(transaction=True)`: the worker sees committed data only.
    """
    with running_worker(redis_url, tmp_path_factory.mktemp("celery") / "worker.log", "worker") as worker:
        yield worker


@pytest.fixture
def start_celery_worker(redis_url, django_db_setup, tmp_path):
    """Start another worker for this test only: `start_celery_worker("doomed", POWER_LOCK_SECONDS="2")`.

    For a test that kills one or changes its settings; it costs a worker start (~3.5 s), so prefer
    `celery_worker` when the shared one will do. Stopped, and its queue deleted, after the test.
    """
    with ExitStack() as workers:
        yield lambda purpose, **env: workers.enter_context(
            running_worker(redis_url, tmp_path / f"{purpose}.log", purpose, **env)
        )


# --- Messages: a real SMTP server and a webhook peer (tests/peers.py) ------------------------
# For every test that sends email or apprise messages (alerts to volunteers, notices to owners).


@pytest.fixture
def mailbox(settings):
    """A real SMTP server on 127.0.0.1 that Django's mail backend sends to; links start with SITE_URL."""
    from .peers import Mailbox

    box = Mailbox().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", box.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.SITE_URL = "https://switchboard.example.org"
    yield box
    box.stop()


@pytest.fixture
def webhook():
    """An HTTP endpoint taking apprise's json:// posts, as a ntfy or chat bridge would."""
    from .peers import Webhook

    hook = Webhook().start()
    yield hook
    hook.stop()


@pytest.fixture
def sends_run_at_once():
    """Each message's task runs in this process as it is queued (Celery's eager mode), so the
    test sees what a worker would send; tests/alerts/test_in_a_real_worker.py sends through a real one."""
    from celery import current_app

    before = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = before
