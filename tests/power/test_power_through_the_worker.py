"""The whole way: the button's POST, on_commit, Redis, a real `celery worker`, SNMP to the PDU and back."""

import time

import pytest
from django.urls import reverse

from power.drivers.snmp import REBOOT
from power.models import PowerAction

from .conftest import power_form


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.xdist_group("celery_worker")
def test_power_cycle_through_redis_and_a_real_worker(celery_worker, scene, pdu, operator_client, settings):
    settings.POWER_QUEUE = celery_worker.queue

    response = operator_client.post(reverse("power_request", args=[scene.machine.hostname]), power_form(scene))
    assert response.status_code == 302
    action = PowerAction.objects.get()

    deadline = time.monotonic() + 15
    while not PowerAction.objects.get(pk=action.pk).is_finished and time.monotonic() < deadline:
        time.sleep(0.05)

    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error or celery_worker.log.read_text()[-2000:]
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, REBOOT)]
    assert action.dispatch_count == 1
    progress = operator_client.get(response.url).content.decode()
    assert "Succeeded" in progress
    assert "harbor-private-7" not in celery_worker.log.read_text()
