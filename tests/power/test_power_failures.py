"""When the PDU does not answer or refuses us, the volunteer reads a clear failure, without the community in it."""

import pytest

from power.models import PowerAction
from power.tasks import run_power_action

from .conftest import COMMUNITY


@pytest.mark.django_db
def test_wrong_community_fails_clearly_and_sends_nothing(scene, pdu, operator):
    scene.controller.secret = "not-the-community"
    scene.controller.save()
    action, _ = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="dom0 frozen", by=operator)

    run_power_action(action.pk)

    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED
    assert f"PDU 127.0.0.1:{pdu.port} did not answer SNMP within 0.3 s, 3 tries" in action.error
    assert "community" in action.error
    assert "not-the-community" not in action.error and COMMUNITY not in action.error
    assert pdu.sets == []


@pytest.mark.django_db
def test_a_pdu_that_stops_answering_fails_without_a_second_reboot(scene, pdu, operator, monkeypatch):
    from power.drivers import snmp

    action, _ = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="dom0 frozen", by=operator)
    real_set = snmp.APCSNMPDriver._set

    def set_then_go_silent(driver, outlet, value, tries):
        real_set(driver, outlet, value, tries)
        pdu.silent = True  # the answer to the SET and every read after it are lost

    monkeypatch.setattr(snmp.APCSNMPDriver, "_set", set_then_go_silent)
    # The reply is never seen: simulate by raising as the real driver would after the timeout.
    run_power_action(action.pk)

    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED
    assert "did not read on" in action.error
    assert len(pdu.sets_for(4)) == 1


@pytest.mark.django_db
def test_an_outlet_the_pdu_does_not_have_is_a_configuration_error(scene, pdu, operator):
    scene.outlet.number = 42
    scene.outlet.save()
    action, _ = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="dom0 frozen", by=operator)
    run_power_action(action.pk)
    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED and "no outlet 42" in action.error


@pytest.mark.django_db
def test_an_unreachable_pdu_is_retried_then_fails(scene, pdu, operator, settings):
    pdu.silent = True
    action, _ = PowerAction.request(outlet=scene.outlet, operation="on", reason="dom0 off", by=operator)
    run_power_action(action.pk)
    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED
    assert "did not answer SNMP" in action.error and action.command_sent_at is None
