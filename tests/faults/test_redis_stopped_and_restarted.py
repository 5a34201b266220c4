"""Redis stops while volunteers work (it is the cache and the broker), then starts again, empty.

While it is down a member logs in, an operator passes the second factor, the machine page and /status/
answer, each within BOUND; a power-cycle asked for meanwhile is kept as a row that says it waits for the
broker, and heartbeat pings are all recorded. Once redis-server is back nobody does anything: the worker
reconnects by itself, beat's sweep sends it the action, the PDU sees exactly one reboot, and stored
pages go back into Redis.
"""

import time
from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.db.models import F
from django.test import Client
from django.urls import reverse

from backups.models import BackupTarget, HeartbeatPing
from core.access import MEMBERS, OPERATORS
from power.drivers.snmp import REBOOT
from power.models import PowerAction
from tests.cast import make_user
from tests.power.conftest import power_form

from .conftest import FAST_POWER, caches_on, celery_app_on, redis_binary, timed, wait_for
from .peers import RedisServer

FAULT = "Redis stopped, then restarted"
ORDER = 1
BOUND = 3.0  # seconds a page may take while Redis is down
PINGS = 5
OUTAGE = 3  # seconds Redis stays down, at least: the worker's reconnecting is part of the story
PASSWORD = "tangerine-lantern-42"
WAITING = "Waiting for a worker: the task queue was unreachable"


@pytest.fixture
def doomed_redis(tmp_path, broker, settings):
    """A redis-server this test stops and starts: the cache (both aliases) and the broker of this process and
    of the worker."""
    folder = tmp_path / "doomed-redis"
    folder.mkdir()
    server = RedisServer(folder, redis_binary()).start()
    settings.CACHES = caches_on(server.url())
    try:
        with celery_app_on(server.url()):
            yield server
    finally:
        server.stop()


def totp_now(secret):
    """The code the operator's authenticator app shows right now."""
    return format_hotp_value(hotp_value(secret, int(time.time() // 30)))


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.xdist_group("faults")
def test_volunteers_keep_working_while_redis_is_down_and_the_power_cycle_happens_once_it_is_back(
    fault, doomed_redis, workers, beat, scene, pdu, django_user_model
):
    worker = workers("on-doomed-redis", broker_url=doomed_redis.url(), **FAST_POWER)
    member = make_user(django_user_model, "mira", MEMBERS, password=PASSWORD)
    operator = make_user(django_user_model, "otto", OPERATORS, password=PASSWORD)
    secret = generate_totp_secret()
    TOTP.activate(operator, secret)
    heartbeat = BackupTarget.objects.create(name="wiki WAL", kind=BackupTarget.Kind.HEARTBEAT, guest=scene.wiki)
    machine_page = reverse("machine_detail", args=[scene.machine.hostname])
    # Beat keeps sending the sweep throughout; while Redis is down its sends fail, as beat's would.
    sweeps = beat("power.sweep_power_actions", every=0.5)
    assert Client().get("/status/").status_code == 200  # kept in Redis while it is up

    doomed_redis.stop()
    stopped_at = time.monotonic()

    mira = Client()
    response, took = timed(mira.post, reverse("account_login"), {"login": member.email, "password": PASSWORD})
    assert response.status_code == 302 and int(mira.session["_auth_user_id"]) == member.pk
    fault.page("login", took, response.status_code, BOUND)

    otto = Client()
    otto.post(reverse("account_login"), {"login": operator.email, "password": PASSWORD})
    response, took = timed(otto.post, reverse("mfa_authenticate"), {"code": totp_now(secret)})
    assert response.status_code == 302 and int(otto.session["_auth_user_id"]) == operator.pk
    fault.page("second factor", took, response.status_code, BOUND)

    response, took = timed(otto.get, machine_page)
    assert response.status_code == 200 and scene.machine.hostname in response.content.decode()
    fault.page("machine page", took, response.status_code, BOUND)
    response, took = timed(Client().get, "/status/")
    assert response.status_code == 200
    fault.page("/status/", took, response.status_code, BOUND)
    response, took = timed(Client().get, "/health/")
    checks = response.json()["checks"]
    assert response.status_code == 503 and checks["cache"] != "ok" and checks["broker"] != "ok", checks
    fault.page("/health/", took, response.status_code, BOUND)

    response, took = timed(otto.post, reverse("power_request", args=[scene.machine.hostname]), power_form(scene))
    assert response.status_code == 302
    fault.page("power-cycle POST", took, response.status_code, BOUND)
    action = PowerAction.objects.get()
    assert action.state == PowerAction.State.REQUESTED and action.dispatch_count == 0

    slowest = 0.0
    for number in range(PINGS):
        response, took = timed(mira.post, f"/ping/{heartbeat.heartbeat_id}", f"run {number}", content_type="text/plain")
        assert response.status_code == 200, response.content
        slowest = max(slowest, took)
    fault.page(f"{PINGS} heartbeat pings (slowest)", slowest, 200, BOUND)
    assert HeartbeatPing.objects.filter(target=heartbeat).count() == PINGS

    # The sweep sends requests left waiting for a minute: let that minute pass.
    PowerAction.objects.filter(pk=action.pk).update(requested_at=F("requested_at") - timedelta(minutes=1))
    page = otto.get(reverse("power_action", args=[scene.machine.hostname, action.pk]), HTTP_HX_REQUEST="true")
    assert WAITING in page.content.decode()
    wait_for(lambda: sweeps.missed, "beat to find the broker down", timeout=10)
    assert pdu.sets == []

    time.sleep(max(0, OUTAGE - (time.monotonic() - stopped_at)))
    doomed_redis.start()
    down_for = time.monotonic() - stopped_at
    restarted_at = time.monotonic()

    wait_for(
        lambda: PowerAction.objects.get(pk=action.pk).is_finished,
        "the worker to carry out the action once Redis is back",
        timeout=30,
    )
    done_after = time.monotonic() - restarted_at
    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error or worker.log_tail()
    assert action.dispatch_count == 1
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, REBOOT)]
    assert HeartbeatPing.objects.filter(target=heartbeat).count() == PINGS
    fault.kept.add("power-cycle asked for meanwhile: carried out (it waited as a row)")
    fault.kept.add(f"heartbeat pings: {PINGS} of {PINGS} recorded")
    fault.duplicates.add(f"PDU SETs: {len(pdu.sets)}", len(pdu.sets) == 1)

    # Both cache aliases go back to Redis once this process tries it again (after core.page_cache's and
    # core.cache_backends' RETRY_SECONDS): stored pages, and the throttles' counts.
    def back_in_redis():
        otto.get(machine_page)
        mira.post(f"/ping/{heartbeat.heartbeat_id}", "again", content_type="text/plain")
        return doomed_redis.keys("*switchboard:page:*") and doomed_redis.keys("*switchboard:throttle:*")

    wait_for(back_in_redis, "the cache to be Redis again", timeout=20, every=0.5)
    cache_after = time.monotonic() - restarted_at
    health = Client().get("/health/")
    assert health.status_code == 200, health.content
    time.sleep(1)  # a last sweep or two: finished actions are never sent again
    assert PowerAction.objects.get(pk=action.pk).dispatch_count == 1 and len(pdu.sets) == 1
    fault.recovered.add(f"Redis down {down_for:.1f} s")
    fault.recovered.add(f"the worker reconnected and did the power-cycle {done_after:.1f} s after restart")
    fault.recovered.add(f"pages and throttles in Redis again after {cache_after:.1f} s; /health/ 200")
