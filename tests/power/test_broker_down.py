"""The broker is down when the operator presses the button: the page answers at once and says the action
waits, the row is kept, and once the broker is back the beat's sweep sends it to a real worker."""

import socket
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db.models import F
from django.urls import reverse

from power.drivers.snmp import REBOOT
from power.models import PowerAction
from power.tasks import sweep_power_actions
from switchboard.celery import app

from .conftest import COMMUNITY, free_port, power_form, wait_for


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.xdist_group("celery_worker")
def test_post_while_the_broker_is_down_is_sent_by_the_sweep_once_it_is_back(
    celery_worker, scene, pdu, operator_client, settings
):
    settings.POWER_QUEUE = celery_worker.queue

    with publishing_to(f"redis://127.0.0.1:{free_port()}/0"):  # nothing listens there
        response, took = _press_the_button(operator_client, scene)
        page = operator_client.get(response.url).content.decode()

    assert response.status_code == 302 and took < 2
    assert "Requested…" in page and 'hx-trigger="every 1s"' in page  # waiting, and the page keeps checking
    action = PowerAction.objects.get()
    assert action.state == PowerAction.State.REQUESTED and action.dispatch_count == 0
    # Fresh requests are left to on_commit; the sweep takes those still waiting after a minute.
    assert sweep_power_actions() == 0
    PowerAction.objects.filter(pk=action.pk).update(requested_at=F("requested_at") - timedelta(minutes=1))

    assert sweep_power_actions() == 1
    wait_for(lambda: PowerAction.objects.get(pk=action.pk).is_finished, "the worker to finish the action", timeout=10)

    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error or celery_worker.log.read_text()[-2000:]
    assert action.dispatch_count == 1
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, REBOOT)]
    assert sweep_power_actions() == 0  # finished actions are never sent again
    assert COMMUNITY not in celery_worker.log.read_text()


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_never_answers_does_not_hang_the_button(scene, pdu, operator_client):
    # A Redis that accepts connections and then says nothing (hung, or behind a dead proxy).
    with (
        socket.create_server(("127.0.0.1", 0), backlog=16) as silent,
        publishing_to(f"redis://127.0.0.1:{silent.getsockname()[1]}/0"),
    ):
        response, took = _press_the_button(operator_client, scene)

    assert response.status_code == 302
    assert took < 10, f"the POST waited {took:.1f} s for the broker"  # 2 tries × 3 s socket timeout
    assert PowerAction.objects.get().state == PowerAction.State.REQUESTED
    assert pdu.sets == []


def _press_the_button(client, scene):
    started = time.monotonic()
    response = client.post(reverse("power_request", args=[scene.machine.hostname]), power_form(scene))
    return response, time.monotonic() - started


@contextmanager
def publishing_to(url):
    """Send this process's tasks (the web side's) to the Redis broker at `url`, with the transport
    options the app uses with Redis (also when the suite runs on the embedded filesystem queue);
    workers keep theirs."""
    previous = app.conf.get("broker_write_url"), app.conf.broker_transport_options
    app.conf.broker_write_url = url
    app.conf.broker_transport_options = django_settings.REDIS_BROKER_TRANSPORT_OPTIONS
    _forget_broker_connections()
    try:
        yield
    finally:
        app.conf.broker_write_url, app.conf.broker_transport_options = previous
        _forget_broker_connections()


def _forget_broker_connections():
    # Celery pools its connections and producers for the broker it first used; drop them so the next
    # publish connects to broker_write_url as it is now (what Celery itself does after a fork).
    app._pool = None
    app.amqp._producer_pool = None
