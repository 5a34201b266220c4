"""Wen, on her phone at 3 a.m., power-cycles dom0, a machine with two power supplies, from its page.

The count the issue asks for, made by the test itself: every press of a link or button goes through
`tap()`, every typed field through `type_into()` (tapping into a field to type in it is part of
typing it). From the machine page with a fresh code: 2 taps and 2 typed fields, and both outlets go
off, then on, each switched exactly once on the real PDU agent (demo.pdu_simulator over SNMP).
"""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from demo.pdu_simulator import PDUSimulator
from power.drivers.snmp import OFF, ON
from power.models import PowerAction, PowerController, PowerOutlet
from power.tasks import run_power_action
from tests.browser.conftest import PHONE
from tests.scene import build_scene

COMMUNITY = "harbor-private-7"
HEIGHT = PHONE["viewport"]["height"]


@pytest.fixture
def pdu():
    agent = PDUSimulator(community=COMMUNITY, outlets=8, reboot_seconds=0.3).start()
    yield agent
    agent.stop()


@pytest.fixture
def dual_psu_scene(pdu, settings):
    """dom0 fed by PSU A on outlet 4 and PSU B on outlet 6 of a PDU that is a real SNMP agent on 127.0.0.1."""
    settings.POWER_ALL_OFF_SECONDS = 0.3
    settings.POWER_POLL_INTERVAL = 0.02
    settings.POWER_VERIFY_SECONDS = 3
    scene = build_scene()
    controller = PowerController.objects.get(name="pdu-sf-1")
    controller.host, controller.port, controller.secret = "127.0.0.1", pdu.port, COMMUNITY
    controller.timeout = timedelta(seconds=0.3)
    controller.save()
    scene.machine.outlets.update(label="PSU A")
    PowerOutlet.objects.create(controller=controller, number=6, machine=scene.machine, label="PSU B")
    return scene


class Thumb:
    """Counts what the volunteer does with the phone."""

    def __init__(self):
        self.taps, self.typed = 0, 0

    def tap(self, locator):
        self.taps += 1
        locator.tap()

    def type_into(self, locator, text):
        self.typed += 1
        locator.fill(text)


def _on_first_screen(locator):
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT


def test_a_dual_psu_machine_is_power_cycled_in_two_taps_and_two_typed_fields(
    logged_in_operator_page, dual_psu_scene, pdu, screenshot
):
    page, thumb, machine = logged_in_operator_page, Thumb(), dual_psu_scene.machine
    page.goto(f"/machines/{machine.hostname}/")
    power = page.get_by_role("link", name="Power-cycle…").first
    call = page.locator("a[href^='tel:']").first
    assert _on_first_screen(power), "the power button is below the first screen"
    assert _on_first_screen(call), "the first Call button is below the first screen"
    screenshot(page, "1-machine-page")

    thumb.tap(power)
    expect(page.get_by_label(f"All outlets of {machine.hostname}", exact=False)).to_be_checked()
    thumb.type_into(page.get_by_label("Reason"), "dom0 frozen, no ping, console dead")
    thumb.type_into(page.get_by_label("Type the machine's name to confirm"), machine.hostname.split(".")[0])
    submit = page.get_by_role("button", name="Switch it")
    assert _on_first_screen(submit), "the button that switches it is below the first screen"
    screenshot(page, "2-form-filled")
    thumb.tap(submit)

    page.wait_for_url(f"**/machines/{machine.hostname}/power/*/")
    action = PowerAction.objects.get()
    assert action.scope == PowerAction.Scope.MACHINE
    run_power_action(action.pk)  # what the worker does (tests/power covers it through a real worker)

    expect(page.get_by_text("Succeeded").first).to_be_visible(timeout=10_000)
    expect(page.get_by_role("button", name="Cancel the action")).to_have_count(0)
    screenshot(page, "3-done")
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, OFF), (6, OFF), (4, ON), (6, ON)]
    assert (thumb.taps, thumb.typed) == (2, 2)
