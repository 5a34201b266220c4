"""A manual power action ends: someone on site presses Done, or the sweep gives up after a few hours."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.urls import reverse

from power.models import PowerAction, PowerController, PowerOutlet
from power.tasks import run_power_action, sweep_power_actions


@pytest.fixture
def manual_outlet(scene):
    controller = PowerController.objects.create(name="by-hand-sf", site=scene.controller.site, driver="manual")
    return PowerOutlet.objects.create(controller=controller, number=1, machine=scene.machine)


@pytest.mark.django_db
def test_a_manual_action_nobody_marks_done_is_failed_by_the_sweep(manual_outlet, operator, settings):
    settings.POWER_MANUAL_DEADLINE_HOURS = 4
    action, _ = PowerAction.request(outlet=manual_outlet, operation="cycle", reason="dom0 frozen", by=operator)
    run_power_action(action.pk)  # the worker lists the steps and leaves it to a person
    action.refresh_from_db()
    assert action.state == PowerAction.State.RUNNING

    sweep_power_actions()
    action.refresh_from_db()
    assert action.state == PowerAction.State.RUNNING  # still within the deadline

    PowerAction.objects.filter(pk=action.pk).update(requested_at=F("requested_at") - timedelta(hours=5))
    sweep_power_actions()

    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED
    assert "Nobody marked this done on site within 4 h" in action.error


@pytest.mark.django_db
def test_the_person_on_site_marks_a_manual_action_done(scene, manual_outlet, operator, operator_client):
    action, _ = PowerAction.request(outlet=manual_outlet, operation="cycle", reason="dom0 frozen", by=operator)
    operator_client.post(reverse("power_action_done", args=[scene.machine.hostname, action.pk]))
    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED and action.performed_by == operator
    assert "done on site by" in scene.incident.timeline.latest("pk").body
