"""A worker is SIGKILLed after the reboot reached the PDU and before it saved the outcome. The action is
delivered again, to another real worker: it reads the outlet back and records the outcome once; the outlet
is never rebooted twice."""

import json
import os
import signal
from contextlib import contextmanager

import pytest
from celery.result import AsyncResult
from django.urls import reverse

from incidents.models import TimelineEntry
from power.drivers.snmp import REBOOT
from power.models import PowerAction
from power.tasks import sweep_power_actions
from switchboard.celery import app

from .conftest import power_form, wait_for

LEASE = 2  # seconds: the controller lease of the worker that dies, so that the sweep may take over soon


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.xdist_group("celery_worker")
def test_worker_killed_mid_cycle_is_read_back_not_cycled_again(
    celery_worker, start_celery_worker, scene, pdu, operator_client, settings, monkeypatch
):
    doomed = start_celery_worker("doomed", POWER_LOCK_SECONDS=str(LEASE))
    settings.POWER_QUEUE = doomed.queue
    settings.POWER_LOCK_SECONDS = LEASE
    # The outlet stays off this long after the reboot, and the worker waits to see it on again before
    # it records anything: the kill lands in that wait.
    monkeypatch.setattr(pdu, "reboot_seconds", 2.0)

    response = operator_client.post(reverse("power_request", args=[scene.machine.hostname]), power_form(scene))
    assert response.status_code == 302
    action = PowerAction.objects.get()
    wait_for(lambda: pdu.sets_for(4), "the reboot to reach the PDU", timeout=10)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.process.wait(timeout=5)

    action.refresh_from_db()
    assert action.state == PowerAction.State.RUNNING and action.command_sent_at is not None
    assert action.finished_at is None, "the worker finished before it was killed: the test proved nothing"
    assert sweep_power_actions() == 0, "re-sent while the dead worker's lease still held"

    with serving(celery_worker, doomed.queue):
        # The beat's sweep re-sends the action once the dead worker's lease has lapsed.
        wait_for(sweep_power_actions, "the sweep to re-send the abandoned action", timeout=LEASE + 5, every=0.2)
        wait_for(lambda: PowerAction.objects.get(pk=action.pk).is_finished, "the action to finish", timeout=10)

        action.refresh_from_db()
        assert action.state == PowerAction.State.SUCCEEDED, action.error or celery_worker.log.read_text()[-2000:]
        assert "not sent again" in action.result
        assert [(record.outlet, record.value) for record in pdu.sets] == [(4, REBOOT)]
        assert _power_entries(scene.incident) == [TimelineEntry.Kind.POWER_REQUESTED, TimelineEntry.Kind.POWER_DONE]

        # Celery's own redelivery of the dead worker's message (acks_late: never acknowledged) comes too.
        task_id = redeliver_unacknowledged(doomed.queue)
        assert task_id, "the killed worker's message was acknowledged before the task ended"
        result = AsyncResult(task_id, app=app).get(timeout=10)

    assert result == {"action": action.pk, "state": "succeeded"}
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, REBOOT)]
    assert _power_entries(scene.incident) == [TimelineEntry.Kind.POWER_REQUESTED, TimelineEntry.Kind.POWER_DONE]


@contextmanager
def serving(worker, queue):
    """Have a running worker consume `queue` too (as a second worker on the power queue would)."""
    replies = app.control.add_consumer(queue, destination=[worker.nodename], reply=True, timeout=5)
    assert replies, f"{worker.nodename} did not take on {queue}"
    try:
        yield
    finally:
        app.control.cancel_consumer(queue, destination=[worker.nodename], reply=True, timeout=5)


def redeliver_unacknowledged(queue):
    """Put the message a dead worker never acknowledged back on `queue`; returns its task id.

    What kombu's Redis transport does by itself once the visibility timeout (an hour) has passed.
    """
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for tag, saved in channel.client.hgetall(channel.unacked_key).items():
            message, _exchange, routing_key = json.loads(saved)
            if routing_key == queue:
                channel.qos.restore_by_tag(tag)
                return message["headers"]["id"]
    return None


def _power_entries(incident):
    power = (TimelineEntry.Kind.POWER_REQUESTED, TimelineEntry.Kind.POWER_DONE)
    return list(incident.timeline.filter(kind__in=power).order_by("pk").values_list("kind", flat=True))
