"""A driver error nobody foresaw never leaves an action running: it fails with words a volunteer
understands (never the exception's text, which may hold a secret), and the outlet is free again."""

from datetime import timedelta

import pytest
import requests

from power.drivers.snmp import REBOOT
from power.models import PowerAction, PowerController, PowerOutlet
from power.tasks import run_power_action, sweep_power_actions

from .conftest import COMMUNITY


@pytest.mark.django_db
def test_an_unresolvable_pdu_hostname_fails_clearly_instead_of_staying_running(scene, pdu, operator):
    scene.controller.host = "no-such-pdu.invalid"
    scene.controller.save()
    action, _ = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="dom0 frozen", by=operator)

    run_power_action(action.pk)

    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED
    assert "no-such-pdu.invalid" in action.error and "cannot be resolved" in action.error
    assert COMMUNITY not in action.error
    assert not PowerAction.objects.filter(outlet=scene.outlet, state__in=PowerAction.ACTIVE_STATES).exists()


@pytest.mark.django_db
def test_an_unexpected_error_after_the_reboot_went_out_reads_the_outlet_back_and_fails(
    scene, pdu, operator, monkeypatch
):
    from power.drivers import snmp

    action, _ = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="dom0 frozen", by=operator)
    real_set = snmp.APCSNMPDriver._set

    def set_then_break(driver, outlet, value, tries):
        real_set(driver, outlet, value, tries)
        raise KeyError(f"internal detail {COMMUNITY}")

    monkeypatch.setattr(snmp.APCSNMPDriver, "_set", set_then_break)
    run_power_action(action.pk)

    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED
    assert "unexpected error (KeyError)" in action.error and "already gone out" in action.error
    assert action.state_after in ("on", "off")  # read back from the real agent
    assert COMMUNITY not in action.error
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, REBOOT)]  # never sent twice


@pytest.mark.django_db
def test_a_bmc_that_answers_html_fails_clearly(scene, operator, monkeypatch):
    bmc = PowerController.objects.create(
        name="bmc-html", site=scene.controller.site, driver="redfish", host="127.0.0.1", secret="pw"
    )
    outlet = PowerOutlet.objects.create(controller=bmc, number=1, machine=scene.machine)

    def html_page(session, method, url, **kwargs):
        response = requests.Response()
        response.status_code, response._content = 200, b"<html>Login</html>"
        return response

    monkeypatch.setattr(requests.Session, "request", html_page)
    action, _ = PowerAction.request(outlet=outlet, operation="cycle", reason="dom0 frozen", by=operator)
    run_power_action(action.pk)

    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED and "not Redfish JSON" in action.error


@pytest.mark.django_db
def test_the_sweep_gives_up_on_an_action_sent_too_many_times(scene, operator, settings):
    settings.POWER_MAX_DISPATCHES = 3
    action, _ = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="dom0 frozen", by=operator)
    PowerAction.objects.filter(pk=action.pk).update(
        state=PowerAction.State.QUEUED, dispatch_count=3, dispatched_at=action.requested_at - timedelta(hours=1)
    )

    assert sweep_power_actions() == 0

    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED
    assert "Sent to a worker 3 times without an outcome" in action.error
