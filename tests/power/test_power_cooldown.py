"""The same outlet cannot be switched again within its cooldown, unless an admin says why."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from power.models import PowerAction, PowerActionRefused
from power.tasks import run_power_action

from .conftest import power_form


@pytest.fixture
def cycled(scene, operator):
    action, _ = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="dom0 frozen", by=operator)
    run_power_action(action.pk)
    return action


@pytest.mark.django_db
def test_operator_cannot_cycle_again_within_the_cooldown(scene, cycled, second_operator):
    with pytest.raises(PowerActionRefused, match="cooldown of 5 min 0 s ends in"):
        PowerAction.request(outlet=scene.outlet, operation="cycle", reason="still frozen", by=second_operator)


@pytest.mark.django_db
def test_operator_cannot_override_the_cooldown(scene, cycled, second_operator):
    with pytest.raises(PowerActionRefused, match="Only an admin"):
        PowerAction.request(
            outlet=scene.outlet, operation="cycle", reason="still", by=second_operator, cooldown_override="please"
        )


@pytest.mark.django_db
def test_the_cooldown_form_error_is_shown_to_the_operator(scene, cycled, operator_client):
    response = operator_client.post(reverse("power_request", args=[scene.machine.hostname]), power_form(scene))
    assert response.status_code == 400
    assert "Only an admin can override it" in response.content.decode()


@pytest.mark.django_db
def test_the_form_says_the_outlet_is_cooling_down_before_anything_is_typed(scene, cycled, operator_client):
    page = operator_client.get(reverse("power_request", args=[scene.machine.hostname])).content.decode()
    notice = page[page.index('class="form-errors cooldown"') : page.index("</div>", page.index("form-errors cooldown"))]
    assert f"{scene.outlet} was switched" in notice and "ends in" in notice


@pytest.mark.django_db
def test_admin_overrides_the_cooldown_with_a_reason(scene, cycled, pdu, admin_mfa_client):
    form = power_form(scene, cooldown_override="BIOS hung again right after boot")
    response = admin_mfa_client.post(reverse("power_request", args=[scene.machine.hostname]), form)
    assert response.status_code == 302
    action = PowerAction.objects.exclude(pk=cycled.pk).get()
    assert action.cooldown_override_reason == "BIOS hung again right after boot"
    assert "Cooldown overridden" in scene.incident.timeline.filter(kind="power_requested").last().body


@pytest.mark.django_db
def test_after_the_cooldown_the_outlet_can_be_cycled_again(scene, cycled, second_operator):
    PowerAction.objects.filter(pk=cycled.pk).update(command_sent_at=timezone.now() - timedelta(minutes=6))
    _, created = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="again", by=second_operator)
    assert created
