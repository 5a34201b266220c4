"""xen1 has two power supplies: cycling one does not reboot it. An operator cycles all of its outlets as one
action: every outlet goes off (one by one), stays off, then comes back on, each command sent exactly once,
one controller command at a time, and the timeline tells the story in two entries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from demo.pdu_simulator import PDUSimulator
from incidents.models import TimelineEntry
from power.drivers import snmp
from power.drivers.snmp import OFF, ON
from power.models import PowerAction, PowerActionRefused, PowerController, PowerOutlet, PowerStep
from power.tasks import run_power_action

from .conftest import COMMUNITY

OFF_SECONDS = 0.3


@pytest.fixture(autouse=True)
def _short_wait(settings):
    settings.POWER_ALL_OFF_SECONDS = OFF_SECONDS


@pytest.fixture
def psu_b(scene):
    """dom0's second power supply, on outlet 6 of the same PDU (outlet 4 is PSU A)."""
    return PowerOutlet.objects.create(controller=scene.controller, number=6, machine=scene.machine, label="PSU B")


@pytest.fixture
def second_pdu(scene):
    """Another PDU agent and its controller: dom0's PSU B is on its outlet 2."""
    agent = PDUSimulator(community=COMMUNITY, outlets=4, reboot_seconds=0.3).start()
    controller = PowerController.objects.create(
        name="pdu-sf-2",
        site=scene.controller.site,
        driver=PowerController.Driver.APC_SNMP,
        snmp_version="2c",
        host="127.0.0.1",
        port=agent.port,
        secret=COMMUNITY,
        timeout=timedelta(seconds=0.3),
    )
    outlet = PowerOutlet.objects.create(controller=controller, number=2, machine=scene.machine, label="PSU B")
    yield agent, outlet
    agent.stop()


def ask_all(scene, user, operation="cycle", reason="dom0 frozen, no ping", **extra):
    action, created = PowerAction.request_all_outlets(
        machine=scene.machine, operation=operation, reason=reason, by=user, **extra
    )
    assert created
    return action


def _power_entries(incident):
    power = (TimelineEntry.Kind.POWER_REQUESTED, TimelineEntry.Kind.POWER_DONE)
    return list(incident.timeline.filter(kind__in=power).order_by("pk").values_list("kind", "body"))


@pytest.mark.django_db
def test_both_psus_go_off_then_on_each_command_sent_once(scene, psu_b, pdu, operator):
    action = ask_all(scene, operator)

    run_power_action(action.pk)

    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error
    # Off one by one, then on one by one: never a reboot, never a command twice.
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, OFF), (6, OFF), (4, ON), (6, ON)]
    on_4, off_6 = pdu.sets[2], pdu.sets[1]
    assert on_4.at - off_6.at >= OFF_SECONDS, "switched back on before every outlet had been off long enough"
    assert pdu.state(4) == ON and pdu.state(6) == ON
    steps = list(action.steps.order_by("position"))
    assert [(s.outlet.number, s.operation, s.outcome) for s in steps] == [
        (4, "off", "done"),
        (6, "off", "done"),
        (4, "on", "done"),
        (6, "on", "done"),
    ]
    assert all(step.command_sent_at for step in steps)


@pytest.mark.django_db
def test_the_timeline_has_one_request_and_one_outcome_saying_what_each_outlet_did(scene, psu_b, pdu, operator):
    action = ask_all(scene, operator)
    run_power_action(action.pk)

    entries = _power_entries(scene.incident)
    assert [kind for kind, _ in entries] == [TimelineEntry.Kind.POWER_REQUESTED, TimelineEntry.Kind.POWER_DONE]
    requested, done = (body for _, body in entries)
    assert "power-cycle of all outlets of" in requested and "(PSU A, PSU B)" in requested
    assert "Reason: dom0 frozen, no ping" in requested
    assert "done" in done
    assert "pdu-sf-1 outlet 4 (PSU A): switched off, switched on" in done
    assert "pdu-sf-1 outlet 6 (PSU B): switched off, switched on" in done
    # It joined the outage people are working on, like a single action.
    assert action.incident == scene.incident


@pytest.mark.django_db
def test_a_worker_that_dies_after_the_first_off_is_not_made_to_send_it_again(scene, psu_b, pdu, operator, monkeypatch):
    class WorkerDied(BaseException):
        """What SIGKILL looks like from inside: nothing after it runs, not even an except clause."""

    action = ask_all(scene, operator)
    real_set = snmp.APCSNMPDriver._set

    def set_then_die(driver, outlet, value, tries):
        real_set(driver, outlet, value, tries)
        raise WorkerDied

    monkeypatch.setattr(snmp.APCSNMPDriver, "_set", set_then_die)
    with pytest.raises(WorkerDied):
        run_power_action(action.pk)
    monkeypatch.undo()

    first = action.steps.get(position=1)
    assert first.command_sent_at is not None and first.finished_at is None
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, OFF)]

    run_power_action(action.pk)  # delivered again

    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, OFF), (6, OFF), (4, ON), (6, ON)]
    first.refresh_from_db()
    assert "not sent again" in first.result and first.outcome == "done"

    run_power_action(action.pk)  # and once more after the end: nothing moves
    assert len(pdu.sets) == 4
    kinds = [kind for kind, _ in _power_entries(scene.incident)]
    assert kinds == [TimelineEntry.Kind.POWER_REQUESTED, TimelineEntry.Kind.POWER_DONE]


@pytest.mark.django_db
def test_the_sweep_leaves_a_live_run_alone_and_takes_up_an_abandoned_one(scene, psu_b, pdu, operator, settings):
    settings.POWER_LOCK_SECONDS = 1
    action = ask_all(scene, operator)
    PowerAction.objects.filter(pk=action.pk).update(
        state=PowerAction.State.RUNNING, started_at=timezone.now() - timedelta(seconds=5)
    )
    scene.controller.acquire_lock("a-live-worker", timedelta(seconds=30))
    assert action not in PowerAction.needing_dispatch()

    scene.controller.release_lock("a-live-worker")
    assert action in PowerAction.needing_dispatch()


@pytest.mark.django_db
def test_outlets_on_two_controllers_are_switched_each_under_its_own_controller(scene, pdu, second_pdu, operator):
    agent, outlet_b = second_pdu
    action = ask_all(scene, operator)

    run_power_action(action.pk)

    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, OFF), (4, ON)]
    assert [(record.outlet, record.value) for record in agent.sets] == [(2, OFF), (2, ON)]
    # Both were off together for the wait: PSU A went back on only after PSU B had been off long enough.
    assert pdu.sets[1].at - agent.sets[0].at >= OFF_SECONDS
    assert agent.sets[0].at < pdu.sets[1].at
    # Every lease was given back.
    assert not PowerController.objects.exclude(locked_until=None).exists()


@pytest.mark.django_db
def test_an_off_that_fails_turns_the_other_back_on_and_says_which_reads_what(scene, pdu, second_pdu, operator):
    agent, outlet_b = second_pdu
    agent.silent = True  # PSU B's PDU is unplugged from the management network
    action = ask_all(scene, operator)

    run_power_action(action.pk)

    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED
    # PSU A went off, PSU B's off never left (its PDU did not answer), so PSU A was switched back on at once.
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, OFF), (4, ON)]
    assert agent.sets == [] and pdu.state(4) == ON
    assert "did not answer SNMP" in action.error and "Nothing was sent to pdu-sf-2 outlet 2 (PSU B)" in action.error
    assert "stopped there and turned back on what it had turned off" in action.error
    assert "pdu-sf-1 outlet 4 (PSU A) reads on" in action.error
    assert "pdu-sf-2 outlet 2 (PSU B) could not be read" in action.error
    steps = {(s.outlet.number, s.controller_name, s.operation): s.outcome for s in _steps(action)}
    assert steps == {
        (4, "pdu-sf-1", "off"): "done",
        (2, "pdu-sf-2", "off"): "failed",
        (4, "pdu-sf-1", "on"): "done",
        (2, "pdu-sf-2", "on"): "skipped",
    }
    done = scene.incident.timeline.get(kind=TimelineEntry.Kind.POWER_DONE)
    assert "FAILED" in done.body and "turned back on" in done.body
    # The outlets are free again: the operator can try again once the PDU answers (as an admin, past the cooldown).
    assert not PowerStep.objects.filter(holds_outlet=True).exists()


def _steps(action):
    steps = list(action.steps.select_related("outlet__controller").order_by("position"))
    for step in steps:
        step.controller_name = step.outlet.controller.name
    return steps


@pytest.mark.django_db
def test_an_off_that_never_reads_off_is_switched_back_on_too(scene, psu_b, pdu, operator, monkeypatch, settings):
    settings.POWER_VERIFY_SECONDS = 0.3
    action = ask_all(scene, operator)
    real_set = snmp.APCSNMPDriver._set

    def outlet_6_ignores_off(driver, outlet, value, tries):
        real_set(driver, outlet, value, tries)
        if outlet == 6 and value == OFF:
            pdu.outlets[6] = ON  # a relay that is stuck closed

    monkeypatch.setattr(snmp.APCSNMPDriver, "_set", outlet_6_ignores_off)
    run_power_action(action.pk)

    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED
    assert "pdu-sf-1 outlet 6 (PSU B) did not read off" in action.error
    # Both offs went out, so both are switched back on where needed: outlet 6 never went off, so it is read,
    # found on, and left alone.
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, OFF), (6, OFF), (4, ON)]
    assert "was already on; nothing was sent" in action.steps.get(position=4).result
    assert "pdu-sf-1 outlet 4 (PSU A) reads on" in action.error and "pdu-sf-1 outlet 6 (PSU B) reads on" in action.error


@pytest.mark.django_db
def test_refused_while_one_of_the_outlets_has_an_action_of_its_own(scene, psu_b, operator, second_operator):
    PowerAction.request(outlet=psu_b, operation="cycle", reason="PSU B fan noise", by=operator)

    with pytest.raises(PowerActionRefused, match="outlet 6 is running|outlet 6 is requested"):
        PowerAction.request_all_outlets(
            machine=scene.machine, operation="cycle", reason="dom0 frozen", by=second_operator
        )
    assert not PowerAction.objects.filter(scope=PowerAction.Scope.MACHINE).exists()


@pytest.mark.django_db
def test_a_single_outlet_is_refused_while_the_whole_machine_is_being_cycled(scene, psu_b, operator, second_operator):
    ask_all(scene, operator)

    with pytest.raises(PowerActionRefused, match="part of a power-cycle of all outlets"):
        PowerAction.request(outlet=psu_b, operation="off", reason="pull PSU B", by=second_operator)
    with pytest.raises(PowerActionRefused, match="part of a power-cycle of all outlets"):
        PowerAction.request(outlet=scene.outlet, operation="cycle", reason="again", by=second_operator)


@pytest.mark.django_db
def test_asking_again_for_the_same_whole_machine_cycle_joins_it(scene, psu_b, operator, second_operator):
    first = ask_all(scene, operator)
    again, created = PowerAction.request_all_outlets(
        machine=scene.machine, operation="cycle", reason="me too", by=second_operator
    )
    assert not created and again.pk == first.pk
    with pytest.raises(PowerActionRefused, match="part of a power-cycle"):
        PowerAction.request_all_outlets(machine=scene.machine, operation="off", reason="off", by=second_operator)


@pytest.mark.django_db
def test_refused_while_one_outlet_is_in_its_cooldown_unless_an_admin_overrides(
    scene, psu_b, pdu, operator, second_operator, admin
):
    single, _ = PowerAction.request(outlet=psu_b, operation="cycle", reason="PSU B only", by=operator)
    run_power_action(single.pk)

    with pytest.raises(PowerActionRefused, match="outlet 6 was switched .* ago; the cooldown"):
        PowerAction.request_all_outlets(machine=scene.machine, operation="cycle", reason="frozen", by=second_operator)
    with pytest.raises(PowerActionRefused, match="Only an admin"):
        PowerAction.request_all_outlets(
            machine=scene.machine, operation="cycle", reason="frozen", by=second_operator, cooldown_override="now"
        )
    action = ask_all(scene, admin, cooldown_override="BIOS hung right after boot")
    assert action.cooldown_override_reason == "BIOS hung right after boot"


@pytest.mark.django_db
def test_a_whole_machine_cycle_puts_its_outlets_in_their_cooldown(scene, psu_b, pdu, operator, second_operator):
    run_power_action(ask_all(scene, operator).pk)

    with pytest.raises(PowerActionRefused, match="cooldown"):
        PowerAction.request(outlet=psu_b, operation="cycle", reason="again", by=second_operator)
    with pytest.raises(PowerActionRefused, match="cooldown"):
        PowerAction.request_all_outlets(machine=scene.machine, operation="cycle", reason="again", by=second_operator)


@pytest.mark.django_db
def test_power_off_of_all_outlets_switches_them_all_off_and_sends_no_on(scene, psu_b, pdu, operator):
    action = ask_all(scene, operator, operation="off", reason="moving it to another rack")
    run_power_action(action.pk)

    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, OFF), (6, OFF)]
    assert action.state_after == "off"


@pytest.mark.django_db
def test_cancelling_a_running_whole_machine_cycle_turns_back_on_what_was_off(scene, psu_b, pdu, operator, monkeypatch):
    action = ask_all(scene, operator)
    real_set = snmp.APCSNMPDriver._set

    def cancel_after_first_off(driver, outlet, value, tries):
        real_set(driver, outlet, value, tries)
        if len(pdu.sets) == 1:
            PowerAction.objects.get(pk=action.pk).cancel(by=operator, reason="wrong machine!")

    monkeypatch.setattr(snmp.APCSNMPDriver, "_set", cancel_after_first_off)
    run_power_action(action.pk)

    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, OFF), (4, ON)]
    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED and "wrong machine!" in action.error
    assert "Some outlets had already been switched" in action.error


@pytest.mark.django_db
def test_cancelling_a_power_off_once_every_outlet_is_off_leaves_it_off(scene, psu_b, pdu, operator, monkeypatch):
    action = ask_all(scene, operator, operation="off", reason="moving it to the other rack")
    real_set = snmp.APCSNMPDriver._set

    def cancel_after_the_last_off(driver, outlet, value, tries):
        real_set(driver, outlet, value, tries)
        if len(pdu.sets) == 2:
            PowerAction.objects.get(pk=action.pk).cancel(by=operator, reason="changed my mind")

    monkeypatch.setattr(snmp.APCSNMPDriver, "_set", cancel_after_the_last_off)
    run_power_action(action.pk)

    # Nothing more is sent: switching it back on would be a new request, not an undo.
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, OFF), (6, OFF)]
