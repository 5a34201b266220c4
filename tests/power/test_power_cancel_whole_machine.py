"""Otto cycles all of dom0's outlets, sees PSU A go off and cancels: wrong machine. The cancelled run turns PSU A
back on. Until it has, nobody else gets PSU A (their command would be undone under them), the timeline says what
the run did after the cancel, and if the worker dies half-way the sweep frees the outlets: never blocked for good."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import TimelineEntry
from power.drivers import snmp
from power.drivers.snmp import OFF, ON
from power.models import PowerAction, PowerActionRefused, PowerController, PowerOutlet, PowerStep
from power.tasks import run_power_action, sweep_power_actions

from .test_power_cycle_whole_machine import ask_all


@pytest.fixture(autouse=True)
def _short_wait(settings):
    settings.POWER_ALL_OFF_SECONDS = 0.3


@pytest.fixture
def psu_b(scene):
    """dom0's second power supply, on outlet 6 of the same PDU (outlet 4 is PSU A)."""
    return PowerOutlet.objects.create(controller=scene.controller, number=6, machine=scene.machine, label="PSU B")


def cancel_after_the_first_off(monkeypatch, pdu, action, operator, then=None):
    """Otto cancels as soon as PSU A's off reached the PDU; `then` runs right after (someone else's request)."""
    real_set = snmp.APCSNMPDriver._set
    seen = {}

    def set_then_cancel(driver, outlet, value, tries):
        real_set(driver, outlet, value, tries)
        if len(pdu.sets) == 1:
            seen["cancelled"] = PowerAction.objects.get(pk=action.pk).cancel(by=operator, reason="wrong machine!")
            if then is not None:
                seen["then"] = then()

    monkeypatch.setattr(snmp.APCSNMPDriver, "_set", set_then_cancel)
    return seen


@pytest.mark.django_db
def test_nobody_gets_an_outlet_a_cancelled_cycle_is_still_switching_back_on(
    scene, psu_b, pdu, operator, admin, monkeypatch
):
    action = ask_all(scene, operator)

    def ask_for_psu_a():
        try:
            return PowerAction.request(
                outlet=scene.outlet, operation="off", reason="keep it off", by=admin, cooldown_override="outage"
            )
        except PowerActionRefused as refusal:
            return str(refusal)

    seen = cancel_after_the_first_off(monkeypatch, pdu, action, operator, then=ask_for_psu_a)
    run_power_action(action.pk)

    assert seen["cancelled"]
    assert "is still being switched back on after a cancel" in seen["then"] and "wait a moment" in seen["then"]
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, OFF), (4, ON)]
    # Once the run has turned PSU A back on, the outlets are free again.
    assert not PowerStep.objects.filter(holds_outlet=True).exists()
    monkeypatch.undo()
    again, created = PowerAction.request(
        outlet=scene.outlet, operation="off", reason="keep it off", by=admin, cooldown_override="outage"
    )
    assert created


@pytest.mark.django_db
def test_the_timeline_says_what_the_cancelled_run_did_after_the_cancel(scene, psu_b, pdu, operator, monkeypatch):
    action = ask_all(scene, operator)
    cancel_after_the_first_off(monkeypatch, pdu, action, operator)

    run_power_action(action.pk)
    run_power_action(action.pk)  # delivered again: nothing more moves, nothing more is said

    done = list(
        scene.incident.timeline.filter(kind=TimelineEntry.Kind.POWER_DONE).order_by("pk").values_list("body", flat=True)
    )
    assert len(done) == 2, done
    cancelled, afterwards = done
    assert "wrong machine!" in cancelled
    assert "after it was stopped" in afterwards
    assert "pdu-sf-1 outlet 4 (PSU A): switched off, switched on" in afterwards
    assert "pdu-sf-1 outlet 6 (PSU B): off not sent" in afterwards
    assert "pdu-sf-1 outlet 4 (PSU A) reads on" in afterwards
    # The cancel's own outcome is kept as it was written.
    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED and action.error.startswith("Cancelled by")


@pytest.mark.django_db
def test_the_sweep_frees_the_outlets_of_a_cancelled_run_whose_worker_died(
    scene, psu_b, pdu, operator, second_operator, monkeypatch, settings
):
    class WorkerDied(BaseException):
        """What SIGKILL looks like from inside: nothing after it runs."""

    settings.POWER_LOCK_SECONDS = 1
    action = ask_all(scene, operator)
    real_set = snmp.APCSNMPDriver._set

    def cancel_then_die_on_the_way_back(driver, outlet, value, tries):
        real_set(driver, outlet, value, tries)
        if len(pdu.sets) == 1:
            PowerAction.objects.get(pk=action.pk).cancel(by=operator, reason="wrong machine!")
        elif value == ON:
            raise WorkerDied  # PSU A's on reached the PDU; the worker never read it back

    monkeypatch.setattr(snmp.APCSNMPDriver, "_set", cancel_then_die_on_the_way_back)
    with pytest.raises(WorkerDied):
        run_power_action(action.pk)
    monkeypatch.undo()

    # A live-looking run (its lease, a cancel just now) is left alone: its outlets stay held.
    sweep_power_actions()
    assert PowerStep.objects.filter(action=action, holds_outlet=True).exists()

    # A lease later, nobody renewed it: the worker is gone.
    PowerController.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    PowerAction.objects.filter(pk=action.pk).update(finished_at=timezone.now() - timedelta(seconds=5))
    sweep_power_actions()

    assert not PowerStep.objects.filter(holds_outlet=True).exists()
    on_a = action.steps.get(position=3)
    assert on_a.outcome == PowerStep.Outcome.FAILED
    assert "had gone out" in on_a.error and "check the outlet" in on_a.error
    assert action.steps.get(position=4).outcome == PowerStep.Outcome.SKIPPED
    afterwards = scene.incident.timeline.filter(kind=TimelineEntry.Kind.POWER_DONE).order_by("pk").last()
    assert "pdu-sf-1 outlet 4 (PSU A): switched off, on FAILED" in afterwards.body
    sweep_power_actions()  # said once
    assert scene.incident.timeline.filter(kind=TimelineEntry.Kind.POWER_DONE).count() == 2
    # Nothing was sent by the sweep, and PSU A is Oona's to ask for again (past its cooldown).
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, OFF), (4, ON)]
    PowerStep.objects.update(command_sent_at=timezone.now() - timedelta(hours=1))
    assert PowerAction.request(outlet=scene.outlet, operation="on", reason="is it on?", by=second_operator)[1]
