"""The fault suite: each test breaks one real part (Redis, PostgreSQL, S3, SMTP, the PDU, a worker) while a
real flow runs through real processes, and asserts what users rely on. Each records what it measured in
the table printed at the end of the run and written to test-artifacts/faults.md (tests/faults/report.py).

The parts of their own (tests/faults/peers.py): a redis-server per test session that is the broker of
every test here (so its workers may take Celery's default queue: nobody else publishes there), a
redis-server that one test stops and starts, TCP proxies that refuse or stall, an SMTP server that holds
its answer. Workers are real `celery -A switchboard worker` processes started per test with the settings
the story needs; `beat` stands in for celery beat, sending the named periodic tasks through the broker.
Every test here owns processes and ports: all run on one xdist process (xdist_group "faults").

A missing binary (redis-server, gunicorn) or PostgreSQL skips on a laptop and fails in CI
(tests.conftest.service_missing).
"""

import os
import shutil
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from switchboard.celery import app
from tests.backups.conftest import bucket, make_target, s3, s3_server, wiki  # noqa: F401 - S3 peer and targets
from tests.conftest import PROJECT_DIR, _test_database_url, service_missing
from tests.power.conftest import pdu, pdu_agent, scene  # noqa: F401 - the PDU simulator and its scene

from . import report as fault_table
from .peers import RedisServer

WORKER_READY_TIMEOUT = 30  # seconds; a worker takes ~3.5 s to start, more while other tests load the machine
# What tests/power/conftest.py's _fast_power sets, for a worker process: the simulator reboots in 0.3 s.
FAST_POWER = {
    "POWER_POLL_INTERVAL_MS": "20",
    "POWER_VERIFY_SECONDS": "3",
    "POWER_CYCLE_SEEN_OFF_SECONDS": "1",
    "POWER_TRANSPORT_RETRIES": "0",
    "POWER_LOCK_WAIT_SECONDS": "10",
}


# --- The table ----------------------------------------------------------------------------------

SUMMARY = "tests.faults.summary"


def pytest_configure(config):
    # Printed at the end of the run and written to test-artifacts/faults.md (tests/faults/summary.py); once,
    # also when the run loaded the plugin itself (`-p tests.faults.summary`).
    if not config.pluginmanager.has_plugin(SUMMARY):
        config.pluginmanager.import_plugin(SUMMARY)


@pytest.fixture
def fault(request):
    """This test's row of the table: the fault is the module's FAULT, its place the module's ORDER."""
    row = fault_table.FaultRow(fault=request.module.FAULT, order=getattr(request.module, "ORDER", 99))
    yield row
    request.node.user_properties.append((fault_table.PROPERTY, row.to_json()))


def timed(call, *args, **kwargs):
    """(what call returned, seconds it took)."""
    started = time.monotonic()
    result = call(*args, **kwargs)
    return result, time.monotonic() - started


def wait_for(condition, what, *, timeout, every=0.05, log=None):
    """Poll `condition` until it returns something true, and return that; fail after `timeout` seconds
    (with the end of `log`, a Worker's, when given)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            said = f"\n--- {log.nodename}:\n{log.log_tail()}" if log is not None else ""
            pytest.fail(f"timed out after {timeout} s waiting for {what}{said}")
        time.sleep(every)


# --- Redis: the broker of this suite, and one to stop ----------------------------------------------


def redis_binary():
    binary = shutil.which("redis-server")
    if not binary:
        service_missing("redis-server is not installed (apt-get install redis-server)")
    return binary


@contextmanager
def celery_app_on(url):
    """Send this process's tasks (and control messages) to the Redis at `url`, with the app's Redis transport
    options; the workers a test starts are given the same URL."""
    from django.conf import settings

    conf = app.conf
    names = ("broker_url", "broker_read_url", "broker_write_url", "broker_transport", "broker_transport_options")
    saved = {name: conf.get(name) for name in names}
    conf.broker_url = conf.broker_read_url = conf.broker_write_url = url
    conf.broker_transport = None
    conf.broker_transport_options = settings.REDIS_BROKER_TRANSPORT_OPTIONS
    _forget_broker_connections()
    try:
        yield url
    finally:
        for name, value in saved.items():
            conf[name] = value
        _forget_broker_connections()


def _forget_broker_connections():
    # Celery pools connections and producers for the broker it first used (tests/power/test_broker_down.py).
    # Not closed: kombu keeps one producer pool per broker URL for the process and would hand it back closed.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(scope="session")
def suite_redis(tmp_path_factory):
    """A redis-server of this test session's own: the broker (and the workers' cache) of every fault test."""
    server = RedisServer(tmp_path_factory.mktemp("redis"), redis_binary()).start()
    yield server
    server.stop()


@pytest.fixture
def broker(suite_redis):
    """This process publishes to the suite's own Redis, emptied first (no task of an earlier test is left)."""
    suite_redis.flush()
    with celery_app_on(suite_redis.url()):
        yield suite_redis.url()


# --- Workers --------------------------------------------------------------------------------------


@dataclass
class Worker:
    process: subprocess.Popen
    nodename: str
    queues: list
    log: Path

    @property
    def pid(self):
        return self.process.pid

    def log_tail(self, chars=3000):
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def database_url(port=None):
    """The DATABASE_URL of this session's test database; through 127.0.0.1:`port` when given (a proxy)."""
    url = _test_database_url()
    if port is None:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    netloc = (netloc[0] + "@" if len(netloc) == 2 else "") + f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def process_env(broker_url, database=None, **settings_env):
    """The environment of a Switchboard process started by a test: this session's test database (or
    `database`), `broker_url` as broker and cache, and `settings_env` for switchboard/settings.py."""
    return {
        **os.environ,
        "DATABASE_URL": database or database_url(),
        "REDIS_URL": broker_url,
        "CACHE_URL": "",
        "BROKER_URL": "",
        "C_FORCE_ROOT": "1",  # CI runs as root, which Celery refuses without this
        "PYTHONUNBUFFERED": "1",
        # /health/ answers the moment a part breaks or comes back (production keeps an answer 2 s).
        "HEALTH_KEEP_SECONDS": "0",
        **settings_env,
    }


@pytest.fixture
def workers(broker, django_db_setup, tmp_path):
    """Start real workers for this test: `workers("mail", EMAIL_TIMEOUT="2")` → a ready Worker.

    Options (keywords in lower case): `queues` (default Celery's own queue; this suite's broker is its own),
    `pool` and `concurrency` (solo, 1), `database` (a DATABASE_URL, e.g. through a proxy), `broker_url`.
    The rest are environment variables for switchboard/settings.py. `workers.start_all(spec, ...)` starts
    several at once and waits for them together. All are stopped after the test.
    """
    started = []

    def launch(purpose, queues=("celery",), pool="solo", concurrency=1, database=None, broker_url=None, **env):
        nodename = f"{purpose}-{os.getpid()}-{len(started)}@faults"
        log = tmp_path / f"worker-{purpose}.log"
        command = [sys.executable, "-m", "celery", "-A", "switchboard", "worker", f"--pool={pool}", "--loglevel=INFO"]
        command += [f"--concurrency={concurrency}", "--queues", ",".join(queues), "--hostname", nodename]
        command += ["--without-mingle", "--without-gossip"]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=PROJECT_DIR,
                env=process_env(broker_url or broker, database, **env),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        worker = Worker(process, nodename, list(queues), log)
        started.append(worker)
        return worker

    def ready(*waiting):
        deadline = time.monotonic() + WORKER_READY_TIMEOUT
        pending = {worker.nodename: worker for worker in waiting}
        while pending:
            for reply in app.control.ping(destination=list(pending), timeout=0.5):
                for name in reply:
                    pending.pop(name, None)
            for worker in pending.values():
                if worker.process.poll() is not None:
                    pytest.fail(f"celery worker exited with {worker.process.returncode}:\n{worker.log_tail()}")
            if pending and time.monotonic() > deadline:
                worker = next(iter(pending.values()))
                pytest.fail(f"celery worker not ready after {WORKER_READY_TIMEOUT} s:\n{worker.log_tail()}")
        return waiting

    def start(purpose, **options):
        return ready(launch(purpose, **options))[0]

    def start_all(*specs):
        """start_all(("doomed", {...}), ("survivor", {...})): started together, ready together."""
        return ready(*(launch(purpose, **options) for purpose, options in specs))

    start.start_all = start_all
    try:
        yield start
    finally:
        for worker in started:
            stop_process(worker.process)


def stop_process(process, timeout=10):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- Beat -------------------------------------------------------------------------------------------


@pytest.fixture
def beat():
    """`beat("power.sweep_power_actions", every=0.5)`: send that periodic task through the broker every
    `every` seconds until the test ends, as celery beat does on its schedule (BEAT_SCHEDULE, here faster).
    A send that fails (the broker is down) is skipped, as beat skips it, and counted in `.missed`."""
    stop = threading.Event()
    beats = []

    class Beat:
        def __init__(self, task, every, queue):
            self.task, self.every, self.queue = task, every, queue
            self.sent = self.missed = 0
            self.thread = threading.Thread(target=self.run, name=f"beat-{task}", daemon=True)

        def run(self):
            while not stop.is_set():
                try:
                    app.send_task(self.task, queue=self.queue)
                    self.sent += 1
                except Exception:  # noqa: BLE001 - beat logs a failed send and goes on; so does this
                    self.missed += 1
                stop.wait(self.every)

    def start(task, every=0.5, queue=None):
        one = Beat(task, every, queue)
        beats.append(one)
        one.thread.start()
        return one

    yield start
    stop.set()
    for one in beats:
        one.thread.join(10)


# --- Processes the tests run the web app in --------------------------------------------------------

SETTINGS_SHIM = '''"""switchboard/settings.py as production runs it, with static files served without a manifest
(nobody ran collectstatic for the test)."""
from switchboard.settings import *  # noqa: F403

STATIC_FILES = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
STORAGES = {**STORAGES, "staticfiles": STATIC_FILES}  # noqa: F405
'''


@contextmanager
def gunicorn(tmp_path, broker_url, database, **settings_env):
    """`gunicorn switchboard.wsgi` (one sync worker, as production runs it) on a free port; yields its base URL.

    DEBUG stays off (production's error pages); plain HTTP, since no TLS proxy stands in front.
    """
    from .peers import free_port

    binary = Path(sys.executable).parent / "gunicorn"
    if not binary.exists():
        service_missing(f"{binary} is missing: pip install gunicorn (requirements.txt)")
    (tmp_path / "faults_settings.py").write_text(SETTINGS_SHIM)
    port = free_port()
    env = process_env(
        broker_url,
        database,
        DJANGO_SETTINGS_MODULE="faults_settings",
        PYTHONPATH=os.pathsep.join([str(tmp_path), str(PROJECT_DIR)]),
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        **settings_env,
    )
    log = tmp_path / "gunicorn.log"
    command = [str(binary), "switchboard.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "60"]
    with log.open("wb") as out, ExitStack() as stack:
        process = subprocess.Popen(
            command, cwd=PROJECT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        stack.callback(stop_process, process)
        import socket

        deadline = time.monotonic() + WORKER_READY_TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", log


def require_postgresql():
    from django.db import connection

    if connection.vendor != "postgresql":
        service_missing("the PostgreSQL fault needs DATABASE_URL=postgres://... (it runs on SQLite now)")
    return connection.settings_dict


def caches_on(url):
    """settings.CACHES as switchboard/settings.py builds it when CACHE_URL is `url`: the default cache falls
    back to each process's memory while Redis is down, the "pages" alias is plain Redis."""
    from switchboard import settings as project

    options = dict(project._REDIS_CACHE_OPTIONS)
    return {
        "default": {"BACKEND": "core.cache_backends.FallbackRedisCache", "LOCATION": url, "OPTIONS": options},
        "pages": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "OPTIONS": options},
    }
