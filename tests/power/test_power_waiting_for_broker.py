"""When the task queue was unreachable, the action page says so plainly instead of only "Requested…"."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.urls import reverse

from power.models import PowerAction

WAITING = "Waiting for a worker: the task queue was unreachable"


@pytest.mark.django_db
def test_page_says_the_task_queue_was_unreachable(scene, operator, operator_client):
    # In a test transaction on_commit never runs: the task is never sent, as when the broker is down.
    action, _ = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="dom0 frozen", by=operator)
    url = reverse("power_action", args=[scene.machine.hostname, action.pk])
    assert WAITING not in operator_client.get(url, HTTP_HX_REQUEST="true").content.decode()  # give it a moment

    PowerAction.objects.filter(pk=action.pk).update(requested_at=F("requested_at") - timedelta(seconds=10))

    page = operator_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert WAITING in page and "sent again automatically within a minute" in page
