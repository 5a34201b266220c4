"""A BMC over Redfish (sushy-emulator, HTTPS with a self-signed certificate)."""

from datetime import timedelta

import pytest

from power.drivers import get_driver
from power.models import PowerAction, PowerController, PowerOutlet
from power.tasks import run_power_action

from .conftest import REDFISH_PASSWORD, REDFISH_USER

pytestmark = pytest.mark.xdist_group("redfish")


@pytest.fixture
def redfish_outlet(scene, redfish_bmc):
    controller = PowerController.objects.create(
        name="dom0-redfish",
        site=scene.site,
        driver=PowerController.Driver.REDFISH,
        host="127.0.0.1",
        port=redfish_bmc,
        username=REDFISH_USER,
        secret=REDFISH_PASSWORD,
        verify_tls=False,  # the emulator's certificate is self-signed, like most BMCs'
        timeout=timedelta(seconds=2),
    )
    scene.outlet.delete()
    return PowerOutlet.objects.create(controller=controller, number=1, machine=scene.machine)


@pytest.mark.django_db
def test_redfish_cycle_uses_an_advertised_reset_type(scene, redfish_outlet, operator, settings):
    # The emulator's fake driver applies power changes after 1-11 s; a cycle ends "on" either way.
    settings.POWER_CYCLE_SEEN_OFF_SECONDS = 0
    settings.POWER_VERIFY_SECONDS = 15  # only waited for when the emulator's system happens to be off
    action, _ = PowerAction.request(outlet=redfish_outlet, operation="cycle", reason="dom0 frozen", by=operator)

    run_power_action(action.pk)

    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error
    assert "ComputerSystem.Reset" in action.result and action.state_after == "on"
    assert REDFISH_PASSWORD not in action.result


@pytest.mark.django_db
def test_redfish_certificate_is_checked_by_default(scene, redfish_outlet):
    from power.drivers import ConfigError

    controller = redfish_outlet.controller
    controller.verify_tls = True
    with pytest.raises(ConfigError, match="certificate that cannot be verified"):
        get_driver(controller).state(1)


@pytest.mark.django_db
def test_wrong_redfish_password_fails_clearly(scene, redfish_outlet, operator):
    controller = redfish_outlet.controller
    controller.secret = "not-the-password"
    controller.save()
    action, _ = PowerAction.request(outlet=redfish_outlet, operation="cycle", reason="dom0 frozen", by=operator)
    run_power_action(action.pk)
    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED
    assert "refused the Redfish user or password (HTTP 401)" in action.error


@pytest.mark.django_db
def test_redfish_reads_the_power_state(scene, redfish_outlet):
    assert get_driver(redfish_outlet.controller).state(1) in ("on", "off")
