"""Once an action has ended, the live panel's last poll takes away what no longer applies (the cancel form,
"Done: I switched it") and stops polling, without a page reload."""

import pytest
from django.urls import reverse

from power.models import PowerAction, PowerController, PowerOutlet
from power.tasks import run_power_action


@pytest.fixture
def manual_outlet(scene):
    controller = PowerController.objects.create(name="by-hand-sf", site=scene.controller.site, driver="manual")
    return PowerOutlet.objects.create(controller=controller, number=1, machine=scene.machine)


def _poll(client, scene, action):
    """What htmx fetches every second from the action's page."""
    page = reverse("power_action", args=[scene.machine.hostname, action.pk])
    return client.get(page, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=f"http://testserver{page}").content.decode()


@pytest.mark.django_db
def test_while_it_runs_the_fragment_polls_and_the_page_offers_cancel(scene, manual_outlet, operator, operator_client):
    action, _ = PowerAction.request(outlet=manual_outlet, operation="cycle", reason="dom0 frozen", by=operator)
    page = operator_client.get(reverse("power_action", args=[scene.machine.hostname, action.pk])).content.decode()
    assert f'id="power-action-controls-{action.pk}"' in page and "Cancel the action" in page

    fragment = _poll(operator_client, scene, action)
    assert 'hx-trigger="every 1s"' in fragment and "Done: I switched it" in fragment
    assert "hx-swap-oob" not in fragment


@pytest.mark.django_db
def test_the_last_poll_after_it_ended_removes_cancel_and_done_and_stops_polling(
    scene, manual_outlet, operator, operator_client
):
    action, _ = PowerAction.request(outlet=manual_outlet, operation="cycle", reason="dom0 frozen", by=operator)
    action.mark_done_on_site(by=operator)

    fragment = _poll(operator_client, scene, action)

    assert "hx-trigger" not in fragment and "hx-get" not in fragment
    assert "Cancel the action" not in fragment and "cancel" not in fragment.lower().replace("cancelled", "")
    assert "Done: I switched it" not in fragment
    # The cancel form lives outside the fragment (so polling never wipes a half-typed reason): an out-of-band
    # swap empties its container.
    assert f'<div id="power-action-controls-{action.pk}" hx-swap-oob="true"></div>' in fragment


@pytest.mark.django_db
def test_a_finished_whole_machine_cycle_shows_each_outlet_and_no_controls(
    scene, pdu, operator, operator_client, settings
):
    settings.POWER_ALL_OFF_SECONDS = 0
    PowerOutlet.objects.create(controller=scene.controller, number=6, machine=scene.machine, label="PSU B")
    action, _ = PowerAction.request_all_outlets(machine=scene.machine, operation="cycle", reason="frozen", by=operator)
    run_power_action(action.pk)

    fragment = _poll(operator_client, scene, action)

    assert "hx-trigger" not in fragment and "Cancel the action" not in fragment
    assert "of all outlets of" in fragment and "(PSU A, PSU B)" in fragment
    assert fragment.count('class="badge green">Done<') == 4
    page = operator_client.get(reverse("power_action", args=[scene.machine.hostname, action.pk])).content.decode()
    assert "Cancel the action" not in page


@pytest.mark.django_db
def test_the_machine_pages_panel_polls_without_an_out_of_band_swap(scene, manual_outlet, operator, operator_client):
    action, _ = PowerAction.request(outlet=manual_outlet, operation="cycle", reason="dom0 frozen", by=operator)
    action.mark_done_on_site(by=operator)
    machine_page = reverse("machine_detail", args=[scene.machine.hostname])
    fragment = operator_client.get(
        reverse("power_action", args=[scene.machine.hostname, action.pk]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{machine_page}",
    ).content.decode()
    # The machine page has no such container: an out-of-band swap there would only be an htmx error.
    assert "hx-swap-oob" not in fragment and "hx-trigger" not in fragment
