"""The whole way for a dual-PSU machine: the form's default (all outlets), on_commit, Redis, a real worker,
SNMP to the PDU: both outlets off, a wait with both off, both on, each command once."""

import pytest
from django.urls import reverse

from power.drivers.snmp import OFF, ON
from power.forms import ALL_OUTLETS
from power.models import PowerAction, PowerOutlet

from .conftest import power_form, wait_for


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.xdist_group("celery_worker")
def test_all_outlets_through_redis_and_a_real_worker(start_celery_worker, scene, pdu, operator_client, settings):
    worker = start_celery_worker(
        "whole-machine", POWER_ALL_OFF_SECONDS="1", POWER_POLL_INTERVAL_MS="20", POWER_VERIFY_SECONDS="3"
    )
    settings.POWER_QUEUE = worker.queue
    PowerOutlet.objects.create(controller=scene.controller, number=6, machine=scene.machine, label="PSU B")

    form = power_form(scene, outlet=ALL_OUTLETS)
    response = operator_client.post(reverse("power_request", args=[scene.machine.hostname]), form)
    assert response.status_code == 302
    action = PowerAction.objects.get()
    wait_for(lambda: PowerAction.objects.get(pk=action.pk).is_finished, "the worker to finish", timeout=20)

    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error or worker.log.read_text()[-2000:]
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, OFF), (6, OFF), (4, ON), (6, ON)]
    assert pdu.sets[2].at - pdu.sets[1].at >= 1
    assert action.dispatch_count == 1
    assert "harbor-private-7" not in worker.log.read_text()
