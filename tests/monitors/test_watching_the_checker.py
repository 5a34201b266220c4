"""Who watches the watcher: if the Celery worker or beat dies, no check runs, and every machine would
stay green on the dashboard with nobody told. Every finished batch notes when checks ran; the
dashboard and /status/ say "Checks last ran N s ago" and turn red once that is older than three of the
shortest interval; and beat pings the co-op's outside dead man's switch (SWITCHBOARD_HEARTBEAT_URL)
only while checks run, so that service raises the alarm when they stop. The switch here is a real
HTTP server on 127.0.0.1; the checks run against a real TCP listener."""

import contextlib
import re
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache
from django.utils import timezone

from core.page_cache import GENERATION_KEY
from hosts.models import Monitor
from monitors import watcher
from monitors.checker import check_batch
from monitors.models import CheckerClock
from monitors.tasks import ping_heartbeat

from ..factories import make_machine
from ..test_settings import PRODUCTION, run_manage
from .test_a_host_that_stops_answering import Listener

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


class DeadMansSwitch:
    """A healthchecks-style ping endpoint on 127.0.0.1: counts the GETs it receives."""

    def __init__(self):
        self.pings, self.status, self.delay = [], 200, 0
        switch = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                time.sleep(switch.delay)
                switch.pings.append(self.path)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a client that gave up
                    self.send_response(switch.status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"OK")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/ping/5d3c9e1a"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def switch(settings):
    switch = DeadMansSwitch()
    settings.SWITCHBOARD_HEARTBEAT_URL = switch.url
    yield switch
    switch.close()


@pytest.fixture
def service():
    listener = Listener().start()
    yield listener
    listener.stop()


@pytest.fixture
def xen1():
    return make_machine(hostname="xen1.harbor.example.org")


def watch(machine, port=1, **fields):
    return Monitor.objects.create(
        machine=machine, kind="tcp", target="127.0.0.1", port=port, timeout=timedelta(seconds=1), **fields
    )


def checks_ran(ago):
    """The last batch of checks finished `ago` (set outright: the checker's own tick never goes back)."""
    CheckerClock.objects.update_or_create(pk=CheckerClock.ONLY, defaults={"last_round_at": timezone.now() - ago})


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


# --- The clock -------------------------------------------------------------------------------------


def test_a_finished_batch_notes_when_checks_ran(xen1, service):
    monitor = watch(xen1, service.port)
    at = timezone.now().replace(microsecond=0)

    check_batch([monitor.pk], now=at)

    assert CheckerClock.last_ran() == at


def test_the_clock_never_goes_back_for_a_slow_batch(xen1):
    at = timezone.now()
    CheckerClock.tick(at)
    CheckerClock.tick(at - timedelta(seconds=30))
    assert CheckerClock.last_ran() == at


def test_noting_the_clock_leaves_kept_pages_kept(xen1, service):
    monitor = watch(xen1, service.port)
    check_batch([monitor.pk])  # unknown → up: news
    before = cache.get(GENERATION_KEY)

    check_batch([monitor.pk])

    assert cache.get(GENERATION_KEY) == before


# --- What the dashboard and /status/ say ------------------------------------------------------------


def test_the_dashboard_says_when_checks_last_ran(member_client, xen1):
    watch(xen1)
    checks_ran(timedelta(seconds=12))

    html = page(member_client, "/")

    assert re.search(r"Checks last ran <time [^>]*>1[234] s ago</time>", html)
    assert "status-banner down" not in html


def test_the_dashboard_turns_red_when_checks_stopped(member_client, xen1):
    watch(xen1, interval=timedelta(minutes=1))
    checks_ran(timedelta(minutes=4))  # more than three intervals

    html = page(member_client, "/")

    banner = re.search(r'<p class="checker-health status-banner down" role="alert">(.*?)</p>', html).group(1)
    assert banner.startswith("Uptime checks have not run since ")
    assert banner.endswith(": the checker (Celery worker or beat) may be stopped.")


def test_three_of_the_shortest_interval_is_how_long_checks_may_pause(member_client, xen1):
    watch(xen1, interval=timedelta(minutes=10))
    watch(xen1, interval=timedelta(seconds=30))
    watch(xen1, interval=timedelta(seconds=10), is_enabled=False)  # paused: not checked, does not count

    checks_ran(timedelta(seconds=80))
    assert "status-banner down" not in page(member_client, "/")
    cache.clear()

    checks_ran(timedelta(seconds=100))  # past 90 s
    assert "Uptime checks have not run since" in page(member_client, "/")


def test_monitors_that_never_ran_say_so(member_client, xen1):
    watch(xen1)
    assert "Uptime checks have not run yet: the checker (Celery worker or beat) may be stopped." in page(
        member_client, "/"
    )


def test_with_no_monitors_at_all_nothing_alarming_is_said(member_client, client):
    checks_ran(timedelta(days=3))

    for html in (page(member_client, "/"), page(client, "/status/")):
        assert "checker-health" not in html
        assert "Uptime checks have not run" not in html


def test_the_public_status_page_turns_red_too(client, xen1):
    watch(xen1)
    checks_ran(timedelta(minutes=10))

    html = page(client, "/status/")

    assert '<p class="checker-health status-banner down" role="alert">Uptime checks have not run since' in html


def test_the_public_status_page_says_when_checks_last_ran(client, xen1):
    watch(xen1)
    checks_ran(timedelta(seconds=5))

    assert re.search(r"Checks last ran <time [^>]*>[5-9] s ago</time>", page(client, "/status/"))


# --- The heartbeat to the outside dead man's switch ---------------------------------------------------


def test_beat_pings_the_switch_while_checks_run(xen1, service, switch):
    check_batch([watch(xen1, service.port).pk])

    assert ping_heartbeat() == "sent"

    assert switch.pings == ["/ping/5d3c9e1a"]


def test_the_pings_stop_when_the_checks_stop(xen1, service, switch):
    started = timezone.now()
    check_batch([watch(xen1, service.port).pk], now=started)
    assert watcher.ping_heartbeat(now=started + timedelta(minutes=2)) == "sent"

    # Nothing checks any more (the worker died): three intervals later the switch hears nothing.
    assert watcher.ping_heartbeat(now=started + timedelta(minutes=3, seconds=1)) == "quiet"
    assert watcher.ping_heartbeat(now=started + timedelta(hours=1)) == "quiet"

    assert len(switch.pings) == 1


def test_with_no_monitors_the_heartbeat_still_says_beat_and_a_worker_are_alive(switch):
    assert ping_heartbeat() == "sent"
    assert len(switch.pings) == 1


def test_no_url_no_ping(settings, xen1):
    settings.SWITCHBOARD_HEARTBEAT_URL = ""
    checks_ran(timedelta(seconds=1))
    assert ping_heartbeat() == "off"


def test_a_switch_that_answers_an_error_is_logged_not_raised(xen1, switch, caplog):
    checks_ran(timedelta(seconds=1))
    switch.status = 503

    assert ping_heartbeat() == "failed"

    assert "heartbeat to 127.0.0.1 failed: HTTPError 503" in caplog.text
    assert "5d3c9e1a" not in caplog.text  # the secret part of the URL stays out of the log


def test_a_switch_nobody_listens_on_is_logged_not_raised(settings, xen1):
    settings.SWITCHBOARD_HEARTBEAT_URL = f"http://127.0.0.1:{Listener().port}/ping/x"  # nothing listens there
    checks_ran(timedelta(seconds=1))

    assert ping_heartbeat() == "failed"


def test_a_switch_that_hangs_does_not_hold_beat(xen1, switch, monkeypatch):
    monkeypatch.setattr(watcher, "HEARTBEAT_TIMEOUT_SECONDS", 0.3)  # 5 s in production
    switch.delay = 2
    checks_ran(timedelta(seconds=1))

    started = time.monotonic()
    assert ping_heartbeat() == "failed"
    assert time.monotonic() - started < 1.5


def test_a_heartbeat_url_that_is_not_http_is_refused_at_start(tmp_path):
    result = run_manage("check", env={**PRODUCTION, "SWITCHBOARD_HEARTBEAT_URL": "hc-ping.com/5d3c"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SWITCHBOARD_HEARTBEAT_URL must start with http:// or https://" in result.stderr
