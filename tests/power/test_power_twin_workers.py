"""A worker stalls (a long pause) after PSU A's off reached the PDU, past its lease. The action is delivered
again and a twin finishes the whole cycle. When the first worker wakes up it reads PSU A (now on again): that late
reading must not rewrite what the twin recorded, and it sends nothing more."""

from datetime import timedelta

import pytest
from django.utils import timezone

from power.drivers import snmp
from power.drivers.snmp import OFF, ON
from power.models import PowerAction, PowerController, PowerOutlet
from power.tasks import run_power_action

from .test_power_cycle_whole_machine import ask_all


@pytest.fixture(autouse=True)
def _short_wait(settings):
    settings.POWER_ALL_OFF_SECONDS = 0.3


@pytest.fixture
def psu_b(scene):
    """dom0's second power supply, on outlet 6 of the same PDU (outlet 4 is PSU A)."""
    return PowerOutlet.objects.create(controller=scene.controller, number=6, machine=scene.machine, label="PSU B")


@pytest.mark.django_db
def test_a_stalled_worker_that_wakes_up_late_does_not_rewrite_the_steps(
    scene, psu_b, pdu, operator, monkeypatch, settings
):
    settings.POWER_VERIFY_SECONDS = 0.3  # the woken worker gives up on seeing "off" soon
    action = ask_all(scene, operator)
    real_set = snmp.APCSNMPDriver._set

    def set_then_stall(driver, outlet, value, tries):
        real_set(driver, outlet, value, tries)
        if len(pdu.sets) == 1:
            # The stall outlasts the lease; meanwhile the action is delivered again and a twin does it all.
            PowerController.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
            run_power_action(action.pk)

    monkeypatch.setattr(snmp.APCSNMPDriver, "_set", set_then_stall)
    run_power_action(action.pk)

    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, OFF), (6, OFF), (4, ON), (6, ON)]
    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error
    steps = list(action.steps.order_by("position"))
    assert [(s.operation, s.outcome, s.state_after) for s in steps] == [
        ("off", "done", "off"),
        ("off", "done", "off"),
        ("on", "done", "on"),
        ("on", "done", "on"),
    ]
    assert "not sent again" in steps[0].result
