"""A BMC over IPMI (Debian's ipmi_sim): status, cycle, and a wrong password that fails clearly."""

from datetime import timedelta

import pytest

from power.models import PowerAction, PowerController, PowerOutlet
from power.tasks import run_power_action

from .conftest import IPMI_PASSWORD, IPMI_USER

pytestmark = pytest.mark.xdist_group("ipmi")  # one ipmi_sim, one session at a time


@pytest.fixture
def bmc_outlet(scene, ipmi_bmc):
    port, state = ipmi_bmc
    state.write_text("1\n")
    log = state.with_suffix(".log")
    log.write_text("")
    controller = PowerController.objects.create(
        name="dom0-bmc",
        site=scene.site,
        driver=PowerController.Driver.IPMI,
        host="127.0.0.1",
        port=port,
        username=IPMI_USER,
        secret=IPMI_PASSWORD,
        timeout=timedelta(seconds=1),
    )
    scene.outlet.delete()
    return PowerOutlet.objects.create(controller=controller, number=1, machine=scene.machine), log


@pytest.mark.django_db
def test_ipmi_cycle_is_sent_once_and_reads_on_again(scene, bmc_outlet, operator):
    outlet, log = bmc_outlet
    action, _ = PowerAction.request(outlet=outlet, operation="cycle", reason="dom0 frozen", by=operator)

    run_power_action(action.pk)
    run_power_action(action.pk)

    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error
    assert "chassis power cycle" in action.result
    assert action.state_after == "on"
    assert IPMI_PASSWORD not in action.result


@pytest.mark.django_db
def test_ipmi_power_off(scene, bmc_outlet, operator):
    outlet, log = bmc_outlet
    action, _ = PowerAction.request(outlet=outlet, operation="off", reason="disk smoking", by=operator)
    run_power_action(action.pk)
    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error
    assert action.state_after == "off"
    assert [line.split()[1] for line in log.read_text().splitlines()] == ["0"]


@pytest.mark.django_db
def test_wrong_ipmi_password_fails_clearly(scene, bmc_outlet, operator):
    outlet, log = bmc_outlet
    outlet.controller.secret = "not-the-password"
    outlet.controller.save()
    action, _ = PowerAction.request(outlet=outlet, operation="cycle", reason="dom0 frozen", by=operator)

    run_power_action(action.pk)

    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED
    assert "refused the IPMI user or password" in action.error
    assert "not-the-password" not in action.error
    assert log.read_text() == ""
