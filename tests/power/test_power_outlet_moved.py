"""Noor fixes the wiring in the admin: PSU B's outlet feeds host0, not dom0. An action asked for before the fix
must not switch host0: it sends nothing and says why. And while an action is switching an outlet, the admin
refuses to move it at all."""

import pytest
from django.core.exceptions import ValidationError

from hosts.models import Machine
from power.models import PowerAction, PowerOutlet
from power.tasks import run_power_action

from .test_power_cycle_whole_machine import ask_all


@pytest.fixture(autouse=True)
def _short_wait(settings):
    settings.POWER_ALL_OFF_SECONDS = 0.3


@pytest.fixture
def psu_b(scene):
    """dom0's second power supply, on outlet 6 of the same PDU (outlet 4 is PSU A)."""
    return PowerOutlet.objects.create(controller=scene.controller, number=6, machine=scene.machine, label="PSU B")


@pytest.fixture
def host0(scene):
    return Machine.objects.exclude(pk=scene.machine.pk).order_by("pk").first()


@pytest.mark.django_db
def test_a_whole_machine_cycle_sends_nothing_once_an_outlet_feeds_another_machine(scene, psu_b, pdu, operator, host0):
    action = ask_all(scene, operator)
    psu_b.machine = host0  # saved from the shell or a script: no form checked it
    psu_b.save()

    run_power_action(action.pk)

    assert pdu.sets == [], "dom0's cycle switched outlets after one of them was moved to another machine"
    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED
    assert f"pdu-sf-1 outlet 6 now feeds {host0}, not {scene.machine}" in action.error
    assert "the wiring was changed after the request" in action.error


@pytest.mark.django_db
def test_a_single_outlet_cycle_sends_nothing_once_the_outlet_feeds_another_machine(scene, pdu, operator, host0):
    action, _ = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="dom0 frozen", by=operator)
    scene.outlet.machine = host0
    scene.outlet.save()

    run_power_action(action.pk)

    assert pdu.sets == []
    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED
    assert f"Nothing was sent: pdu-sf-1 outlet 4 now feeds {host0}" in action.error


@pytest.mark.django_db
def test_the_admin_refuses_to_move_an_outlet_an_action_is_switching(scene, psu_b, pdu, operator, host0):
    action = ask_all(scene, operator)

    psu_b.machine = host0
    with pytest.raises(ValidationError, match="A power action is switching pdu-sf-1 outlet 6 right now"):
        psu_b.full_clean()
    psu_b.label = "PSU B, blue cable"
    psu_b.machine = scene.machine
    psu_b.full_clean()  # relabelling it is fine

    run_power_action(action.pk)
    psu_b.machine = host0
    psu_b.full_clean()  # once the cycle is over, the wiring can be fixed
