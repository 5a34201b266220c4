"""An operator can stop waiting for an action that will not end by itself; the timeline says who and why."""

import pytest
from django.urls import reverse

from incidents.models import TimelineEntry
from power.models import PowerAction, PowerController, PowerOutlet


@pytest.fixture
def manual_outlet(scene):
    controller = PowerController.objects.create(name="by-hand-sf", site=scene.controller.site, driver="manual")
    return PowerOutlet.objects.create(controller=controller, number=1, machine=scene.machine)


@pytest.mark.django_db
def test_operator_cancels_a_manual_action_nobody_will_do(scene, manual_outlet, operator, operator_client):
    action, _ = PowerAction.request(outlet=manual_outlet, operation="cycle", reason="dom0 frozen", by=operator)
    page_url = reverse("power_action", args=[scene.machine.hostname, action.pk])
    assert "Cancel the action" in operator_client.get(page_url).content.decode()

    response = operator_client.post(
        reverse("power_action_cancel", args=[scene.machine.hostname, action.pk]), {"reason": "nobody can get in"}
    )

    assert response.status_code == 302 and response.url == page_url
    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED and "nobody can get in" in action.error
    entry = scene.incident.timeline.filter(kind=TimelineEntry.Kind.POWER_DONE).get()
    assert entry.author == operator and "Cancelled by" in entry.body
    # The outlet is free again: a new request is accepted.
    assert PowerAction.request(outlet=manual_outlet, operation="cycle", reason="again", by=operator)[1]


@pytest.mark.django_db
def test_cancelling_needs_a_reason(scene, manual_outlet, operator, operator_client):
    action, _ = PowerAction.request(outlet=manual_outlet, operation="cycle", reason="dom0 frozen", by=operator)
    operator_client.post(reverse("power_action_cancel", args=[scene.machine.hostname, action.pk]), {"reason": " "})
    action.refresh_from_db()
    assert action.is_active


@pytest.mark.django_db
def test_member_cannot_cancel_and_sees_no_cancel_button(scene, manual_outlet, operator, member_client):
    action, _ = PowerAction.request(outlet=manual_outlet, operation="cycle", reason="dom0 frozen", by=operator)
    page = member_client.get(reverse("power_action", args=[scene.machine.hostname, action.pk])).content.decode()
    assert "Cancel the action" not in page
    url = reverse("power_action_cancel", args=[scene.machine.hostname, action.pk])
    assert member_client.post(url, {"reason": "x"}).status_code == 403
    action.refresh_from_db()
    assert action.is_active
