"""The power form on a phone at 3 a.m.: for xen1 with two PSUs the default is all of its outlets, one tap away;
for a machine on one outlet there is nothing to choose. What cannot be right is refused clearly, and nothing moves."""

import pytest
from django.urls import reverse

from incidents.models import TimelineEntry
from power.forms import ALL_OUTLETS, PowerRequestForm
from power.models import PowerAction, PowerController, PowerOutlet

from .conftest import power_form


@pytest.fixture(autouse=True)
def _short_wait(settings):
    settings.POWER_ALL_OFF_SECONDS = 7


@pytest.fixture
def psu_b(scene):
    return PowerOutlet.objects.create(controller=scene.controller, number=6, machine=scene.machine, label="PSU B")


def _url(scene):
    return reverse("power_request", args=[scene.machine.hostname])


def _typed(scene, **extra):
    """Only the two typed fields: what a phone user fills in, leaving the radio buttons at their defaults."""
    form = {"reason": "dom0 frozen, no ping", "confirm_hostname": scene.machine.hostname}
    form.update({"operation": "cycle", **extra})  # a browser posts the checked default radio
    return form


@pytest.mark.django_db
def test_for_two_outlets_the_default_is_all_of_them_as_radio_buttons(scene, psu_b, operator_client):
    page = operator_client.get(_url(scene)).content.decode()

    assert "<select" not in page
    assert f'type="radio" name="outlet" value="{ALL_OUTLETS}"' in page
    assert f"All outlets of {scene.machine.hostname} (PSU A, PSU B) — off, wait 7 s, on" in page
    assert _checked(page, "outlet", ALL_OUTLETS)
    assert f'value="{psu_b.pk}"' in page and "Only pdu-sf-1 outlet 6 (PSU B)" in page
    assert _checked(page, "operation", "cycle")


def _checked(page, name, value):
    import re

    radio = re.search(rf'<input type="radio" name="{name}" value="{value}"[^>]*>', page)
    return radio is not None and "checked" in radio.group(0)


@pytest.mark.django_db
def test_the_button_comes_right_after_the_two_typed_fields_and_who_goes_down_after_it(scene, psu_b, operator_client):
    page = operator_client.get(_url(scene)).content.decode()
    hostname, button, down = (
        page.index('name="confirm_hostname"'),
        page.index("Switch it</button>"),
        page.index("This takes down"),
    )
    assert page.index('name="reason"') < hostname < button < down
    # Nothing to fill in between the hostname and the button.
    assert "<input" not in page[hostname + 30 : button] and "<textarea" not in page[hostname:button]


@pytest.mark.django_db
def test_a_phone_user_types_two_fields_and_taps_submit_to_cycle_both_psus(scene, psu_b, operator_client):
    response = operator_client.post(_url(scene), _typed(scene, outlet=ALL_OUTLETS))

    assert response.status_code == 302
    action = PowerAction.objects.get()
    assert action.scope == PowerAction.Scope.MACHINE and action.outlet is None and action.controller is None
    assert [(s.outlet.number, s.operation) for s in action.steps.order_by("position")] == [
        (4, "off"),
        (6, "off"),
        (4, "on"),
        (6, "on"),
    ]
    assert response.url == reverse("power_action", args=[scene.machine.hostname, action.pk])
    assert scene.incident.timeline.filter(kind=TimelineEntry.Kind.POWER_REQUESTED).count() == 1


@pytest.mark.django_db
def test_one_outlet_can_still_be_chosen_on_its_own(scene, psu_b, operator_client):
    response = operator_client.post(_url(scene), _typed(scene, outlet=psu_b.pk))

    assert response.status_code == 302
    action = PowerAction.objects.get()
    assert action.scope == PowerAction.Scope.OUTLET and action.outlet == psu_b and not action.steps.exists()


@pytest.mark.django_db
def test_for_one_outlet_there_is_nothing_to_choose(scene, operator_client):
    page = operator_client.get(_url(scene)).content.decode()

    assert 'type="radio" name="outlet"' not in page and f'value="{ALL_OUTLETS}"' not in page
    assert "Switches pdu-sf-1 outlet 4 (PSU A)." in page
    # The two typed fields are enough: the one outlet goes with the form.
    response = operator_client.post(_url(scene), _typed(scene))
    assert response.status_code == 302
    assert PowerAction.objects.get().outlet == scene.outlet


@pytest.mark.django_db
def test_an_outlet_of_another_machine_is_refused_and_nothing_happens(scene, psu_b, operator_client):
    neighbour = PowerOutlet.objects.exclude(machine=scene.machine).exclude(machine=None).first()

    response = operator_client.post(_url(scene), power_form(scene, outlet=neighbour.pk))

    assert response.status_code == 400
    assert "Choose all outlets of this machine or one of its own outlets." in response.content.decode()
    assert not PowerAction.objects.exists()


@pytest.mark.django_db
def test_an_outlet_of_another_machine_is_refused_for_a_machine_on_one_outlet_too(scene, operator_client):
    neighbour = PowerOutlet.objects.exclude(machine=scene.machine).exclude(machine=None).first()

    response = operator_client.post(_url(scene), power_form(scene, outlet=neighbour.pk))

    assert response.status_code == 400
    assert "Choose all outlets of this machine or one of its own outlets." in response.content.decode()
    assert not PowerAction.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [{"outlet": "everything"}, {"operation": "explode"}, {"operation": ""}])
def test_a_bogus_choice_gives_a_clear_error_and_changes_nothing(scene, psu_b, operator_client, bad):
    response = operator_client.post(_url(scene), _typed(scene, **{"outlet": ALL_OUTLETS, **bad}))

    assert response.status_code == 400
    page = response.content.decode()
    assert (
        "Choose all outlets of this machine" in page
        or "Choose power-cycle, power on or power off." in page
        or ("Choose one." in page)
    )
    assert not PowerAction.objects.exists()


@pytest.mark.django_db
def test_a_busy_outlet_refuses_the_whole_machine_on_the_form(scene, psu_b, operator, operator_client):
    PowerAction.request(outlet=psu_b, operation="cycle", reason="PSU B only", by=operator)

    response = operator_client.post(_url(scene), _typed(scene, outlet=ALL_OUTLETS))

    assert response.status_code == 400
    assert "wait for it to finish before switching all outlets" in response.content.decode()
    assert PowerAction.objects.count() == 1


@pytest.mark.django_db
def test_what_was_typed_before_a_detour_comes_back_through_initial(scene, psu_b):
    form = PowerRequestForm(
        initial={"outlet": str(psu_b.pk), "operation": "off", "reason": "PSU B smokes"}, machine=scene.machine
    )
    html = str(form["outlet"]) + str(form["operation"]) + str(form["reason"])
    assert _checked(html, "outlet", psu_b.pk) and _checked(html, "operation", "off")
    assert not _checked(html, "outlet", ALL_OUTLETS)
    assert "PSU B smokes" in html


@pytest.mark.django_db
def test_a_manual_outlet_makes_the_whole_machine_a_job_for_someone_on_site(scene, operator_client, operator):
    hands = PowerController.objects.create(name="by-hand-sf", site=scene.controller.site, driver="manual")
    PowerOutlet.objects.create(controller=hands, number=1, machine=scene.machine, label="PSU B")
    operator_client.post(_url(scene), _typed(scene, outlet=ALL_OUTLETS))
    action = PowerAction.objects.get()

    from power.tasks import run_power_action

    run_power_action(action.pk)
    page = operator_client.get(reverse("power_action", args=[scene.machine.hostname, action.pk])).content.decode()
    assert "Switch off by-hand-sf outlet 1 (PSU B), then pdu-sf-1 outlet 4 (PSU A)." in page
    assert "Wait 7 seconds with all of them off." in page
    assert "Done: I switched it" in page

    done = operator_client.post(reverse("power_action_done", args=[scene.machine.hostname, action.pk]))
    assert done.status_code == 302
    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED and action.performed_by == operator
