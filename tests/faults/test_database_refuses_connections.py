"""PostgreSQL refuses connections for a few seconds, in the middle of a power-cycle, with another waiting.

The web app (gunicorn, as production runs it) and a worker reach PostgreSQL through a proxy that the test
cuts: its listener closed and every open connection dropped. A blip nobody saw costs nothing (the next
page gets a fresh connection: CONN_HEALTH_CHECKS); while it is down pages answer a plain 500 at once
instead of hanging; once it is back the very next page works, with nothing restarted. The reboot the
worker had already sent is read back and recorded, never sent again; the one queued behind it, which the
worker took while the database was gone, is carried out once it is back (not five minutes later, when
the sweep would send it again).
"""

import http.client
import json
import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from core.access import MEMBERS, OPERATORS
from front.views.public import STATUS_CACHE_SECONDS
from power.drivers.snmp import REBOOT
from power.models import PowerAction, PowerOutlet
from tests.cast import make_user
from tests.power.conftest import pass_mfa, power_form

from .conftest import FAST_POWER, database_url, gunicorn, require_postgresql, wait_for
from .peers import TCPProxy

FAULT = "PostgreSQL refusing connections"
ORDER = 2
BOUND = 3.0  # seconds a page may take, database up or down
CUT_SECONDS = 3
LEASE = 2  # seconds: the worker's lease on the PDU, after which the sweep may pick the action up


class Browser:
    """A browser (a member's, given their session) talking HTTP to the gunicorn under test; follows no redirect."""

    def __init__(self, base, session_key=None):
        self.host, self.port = urlsplit(base).hostname, urlsplit(base).port
        self.headers = {"Cookie": f"{django_settings.SESSION_COOKIE_NAME}={session_key}"} if session_key else {}

    def get(self, path, timeout=30):
        """(status, seconds, body)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        started = time.monotonic()
        try:
            connection.request("GET", path, headers=self.headers)
            response = connection.getresponse()
            return response.status, time.monotonic() - started, response.read().decode(errors="replace")
        finally:
            connection.close()


@pytest.fixture
def database_proxy():
    database = require_postgresql()
    proxy = TCPProxy(int(database["PORT"] or 5432), database["HOST"] or "127.0.0.1").start()
    yield proxy
    proxy.stop()


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.xdist_group("faults")
def test_pages_fail_fast_while_the_database_is_gone_and_the_power_cycle_in_flight_is_finished_once(
    fault, database_proxy, broker, workers, beat, scene, pdu, django_user_model, tmp_path, settings, monkeypatch
):
    through_proxy = database_url(database_proxy.port)
    settings.POWER_LOCK_SECONDS = LEASE
    # The outlet stays off this long, so the worker is still watching it come back when the database goes.
    monkeypatch.setattr(pdu, "reboot_seconds", 2.0)
    member = make_user(django_user_model, "mira", MEMBERS)
    operator = pass_mfa(Client(), make_user(django_user_model, "otto", OPERATORS))
    member_client = Client()
    member_client.force_login(member)
    machine_page = reverse("machine_detail", args=[scene.machine.hostname])

    with gunicorn(tmp_path, broker, through_proxy) as (base, web_log):
        # Prefork, as production runs it. (A solo worker exits when the database fails under a task: Celery's
        # solo pool treats the failure to store the task's result as an unrecoverable error.)
        worker = workers(
            "db-through-proxy", pool="prefork", database=through_proxy, POWER_LOCK_SECONDS=str(LEASE), **FAST_POWER
        )
        browser = Browser(base, member_client.cookies[django_settings.SESSION_COOKIE_NAME].value)
        status, _, body = browser.get(machine_page)
        assert status == 200, web_log.read_text()[-3000:]

        # A blip nobody saw: the connection gunicorn keeps (CONN_MAX_AGE) is dead, and the next page notices.
        database_proxy.cut()
        database_proxy.restore()
        status, took, _ = browser.get(machine_page)
        assert status == 200, "a dropped kept connection was used as if alive (CONN_HEALTH_CHECKS)"
        fault.page("machine page after a blip", took, status, BOUND)

        sweeps = beat("power.sweep_power_actions", every=0.5)
        anonymous = Browser(base, None)
        assert anonymous.get("/status/")[0] == 200
        status_kept_at = time.monotonic()
        response = operator.post(reverse("power_request", args=[scene.machine.hostname]), power_form(scene))
        assert response.status_code == 302
        action = PowerAction.objects.get()
        # A neighbour on the same PDU is cycled too: its action waits for the first (one command at a time).
        neighbour = PowerOutlet.objects.get(controller=scene.controller, number=3)
        form = {"outlet": neighbour.pk, "operation": "cycle", "reason": "frozen too"}
        form["confirm_hostname"] = neighbour.machine.hostname
        response = operator.post(reverse("power_request", args=[neighbour.machine.hostname]), form)
        assert response.status_code == 302
        waiting = PowerAction.objects.get(outlet=neighbour)
        wait_for(lambda: pdu.sets_for(4), "the reboot to reach the PDU", timeout=15)
        database_proxy.cut()
        cut_at = time.monotonic()

        slowest = {}
        while time.monotonic() - cut_at < CUT_SECONDS:
            for name, who, path in (
                ("machine page", browser, machine_page),
                ("/status/ (anonymous)", anonymous, "/status/"),
                ("login page (anonymous)", anonymous, reverse("account_login")),
                ("/health/", anonymous, "/health/"),
            ):
                status, took, body = who.get(path)
                assert took < BOUND, f"{path} took {took:.1f} s with the database gone"
                assert status in (200, 500, 503) and "Traceback" not in body, body[:500]
                if name == "machine page":
                    assert status == 500, body[:500]
                elif name == "/health/":
                    assert status == 503 and json.loads(body)["checks"]["database"] != "ok", body
                elif name.startswith("/status/") and time.monotonic() - status_kept_at < STATUS_CACHE_SECONDS - 1:
                    assert status == 200, "the public status page kept for everyone was not served"
                slowest[name] = max(slowest.get(name, (0, 0)), (took, status))
            time.sleep(0.2)
        for name, (took, status) in slowest.items():
            fault.page(f"{name} while down (slowest)", took, status, BOUND)
        action.refresh_from_db()
        assert action.state == PowerAction.State.RUNNING and action.command_sent_at is not None
        assert action.finished_at is None, "the worker finished before the database went: the test proved nothing"
        assert PowerAction.objects.get(pk=waiting.pk).state == PowerAction.State.QUEUED

        database_proxy.restore()
        restored_at = time.monotonic()
        status, took, _ = browser.get(machine_page)
        assert status == 200
        fault.page("machine page right after", took, status, BOUND)
        status, took, body = anonymous.get("/health/")
        assert status == 200, body
        fault.page("/health/ right after", took, status, BOUND)

        finished_after = {}
        for one in (action, waiting):
            wait_for(
                lambda one=one: PowerAction.objects.get(pk=one.pk).is_finished,
                f"the action on outlet {one.outlet.number} to be finished once the database is back",
                timeout=LEASE + 20,
                every=0.2,
                log=worker,
            )
            finished_after[one.pk] = time.monotonic() - restored_at
            one.refresh_from_db()
            assert one.state == PowerAction.State.SUCCEEDED, one.error or worker.log_tail()
        assert "not sent again" in action.result
        assert sorted((record.outlet, record.value) for record in pdu.sets) == [(3, REBOOT), (4, REBOOT)]
        assert sweeps.sent > 0

    fault.kept.add(
        f"the reboot in flight when it went: recorded as done {finished_after[action.pk]:.1f} s after it was back"
    )
    fault.kept.add(f"the one queued behind it: carried out {finished_after[waiting.pk]:.1f} s after")
    fault.duplicates.add(f"PDU SETs: {len(pdu.sets)} for 2 actions", len(pdu.sets) == 2)
    fault.recovered.add(f"down {CUT_SECONDS} s; the next page worked with nothing restarted")
