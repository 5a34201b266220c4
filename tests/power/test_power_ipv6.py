"""Controllers with an IPv6 address work: SNMP over UDP6, Redfish URLs with the address in brackets."""

import pytest

from demo.pdu_simulator import PDUSimulator
from power.drivers.redfish import base_url
from power.drivers.snmp import REBOOT
from power.models import PowerAction
from power.tasks import run_power_action

from .conftest import COMMUNITY


@pytest.fixture
def pdu_on_ipv6():
    agent = PDUSimulator(community=COMMUNITY, outlets=8, reboot_seconds=0.3, host="::1").start()
    yield agent
    agent.stop()


@pytest.mark.django_db
def test_a_pdu_on_ipv6_is_cycled_over_snmp(scene, pdu_on_ipv6, operator):
    scene.controller.host, scene.controller.port = "::1", pdu_on_ipv6.port
    scene.controller.full_clean()
    scene.controller.save()
    action, _ = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="dom0 frozen", by=operator)

    run_power_action(action.pk)

    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error
    assert [(record.outlet, record.value) for record in pdu_on_ipv6.sets] == [(4, REBOOT)]


def test_a_redfish_bmc_on_ipv6_gets_its_address_in_brackets():
    # Tested on the URL: the sushy-emulator fixture listens on 127.0.0.1 only.
    assert base_url("2001:db8::5", 8443) == "https://[2001:db8::5]:8443"
    assert base_url("2001:db8::5") == "https://[2001:db8::5]"
    assert base_url("bmc.example.org", 443) == "https://bmc.example.org"
