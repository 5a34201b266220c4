"""An operator power-cycles dom0: the PDU gets exactly one reboot, on the right outlet, and the page says so."""

import threading

import pytest
from django.db import connection

from incidents.models import TimelineEntry
from power.drivers.snmp import REBOOT
from power.models import PowerAction, PowerState
from power.tasks import run_power_action


def ask(scene, user, operation="cycle", reason="dom0 frozen, no ping"):
    action, created = PowerAction.request(outlet=scene.outlet, operation=operation, reason=reason, by=user)
    assert created
    return action


@pytest.mark.django_db
def test_cycle_reboots_the_right_outlet_and_only_it(scene, pdu, operator):
    action = ask(scene, operator)

    run_power_action(action.pk)

    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, REBOOT)]
    assert action.state_before == PowerState.ON and action.state_after == PowerState.ON
    assert "off → on" in action.result  # the page saw it go off and come back
    assert all(pdu.state(number) == 1 for number in range(1, 9))


@pytest.mark.django_db
def test_cycle_is_on_the_machines_incident_timeline(scene, operator):
    action = ask(scene, operator)
    run_power_action(action.pk)

    kinds = list(scene.incident.timeline.values_list("kind", flat=True))
    assert TimelineEntry.Kind.POWER_REQUESTED in kinds and TimelineEntry.Kind.POWER_DONE in kinds
    done = scene.incident.timeline.get(kind=TimelineEntry.Kind.POWER_DONE)
    assert "done" in done.body and "outlet 4" in done.body


@pytest.mark.django_db
def test_a_task_run_twice_in_sequence_cycles_once(scene, pdu, operator):
    action = ask(scene, operator)

    run_power_action(action.pk)
    run_power_action(action.pk)

    assert len(pdu.sets_for(4)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_task_run_twice_at_once_cycles_once(scene, pdu, operator):
    action = ask(scene, operator)
    errors = []

    def run():
        try:
            run_power_action(action.pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert not errors
    assert len(pdu.sets_for(4)) == 1
    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED


@pytest.mark.django_db
def test_asking_again_while_it_runs_joins_the_running_action(scene, operator, second_operator):
    first = ask(scene, operator)
    again, created = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="me too", by=second_operator)
    assert not created and again.pk == first.pk


@pytest.mark.django_db
def test_power_off_while_a_cycle_runs_is_refused(scene, operator, second_operator):
    from power.models import PowerActionRefused

    ask(scene, operator)
    with pytest.raises(PowerActionRefused, match="wait for it to finish"):
        PowerAction.request(outlet=scene.outlet, operation="off", reason="pull the plug", by=second_operator)


@pytest.mark.django_db
def test_power_on_of_an_outlet_that_is_off_only_switches_it_on(scene, pdu, operator):
    pdu.outlets[4] = 2
    action = ask(scene, operator, operation="on")
    run_power_action(action.pk)
    assert [record.value for record in pdu.sets_for(4)] == [1]


@pytest.mark.django_db
def test_power_off_reads_off_afterwards(scene, pdu, operator):
    action = ask(scene, operator, operation="off")
    run_power_action(action.pk)
    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED and pdu.state(4) == 2
