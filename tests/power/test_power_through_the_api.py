"""A script power-cycles dom0 through the API: only with a power token (or a fresh code), exactly one reboot."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from api.models import ApiToken
from power.drivers.snmp import REBOOT
from power.models import PowerAction
from power.tasks import run_power_action

from .conftest import pass_mfa

pytestmark = pytest.mark.django_db

CYCLE_DOM0 = {"machine": "dom0.harbor.example.org", "operation": "cycle", "reason": "dom0 frozen, no ping"}


def post(client, body, token=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post("/api/v1/power-actions/", json.dumps(body), content_type="application/json", **headers)


def token(user, scope, lifetime=timedelta(hours=1)):
    return ApiToken.issue(user=user, name="reboot script", scope=scope, lifetime=lifetime)[1]


@pytest.mark.parametrize("scope", ["read", "write"])
def test_a_token_without_the_power_scope_cannot_cycle_anything(scene, pdu, operator, client, scope):
    response = post(client, CYCLE_DOM0, token(operator, scope))

    assert response.status_code == 403
    assert "power token" in response.json()["message"]
    assert not PowerAction.objects.exists() and pdu.sets == []


def test_a_power_token_cycles_dom0_exactly_once(scene, pdu, operator, client):
    power = token(operator, "power")

    response = post(client, CYCLE_DOM0, power)
    assert response.status_code == 202, response.content
    action = PowerAction.objects.get(pk=response.json()["id"])
    again = post(client, CYCLE_DOM0, power)  # the script retried: it follows the same action
    run_power_action(action.pk)
    run_power_action(action.pk)  # and the task was delivered twice

    assert again.status_code == 200 and again.json()["id"] == action.pk
    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, REBOOT)]
    assert action.requested_by == operator and action.reason == "dom0 frozen, no ping"
    assert client.get(f"/api/v1/power-actions/{action.pk}/", HTTP_AUTHORIZATION=f"Bearer {power}").json()["state"] == (
        "succeeded"
    )


def test_the_cooldown_refuses_a_second_cycle_through_the_api_as_on_the_page(scene, pdu, operator, client):
    power = token(operator, "power")
    first = post(client, CYCLE_DOM0, power).json()["id"]
    run_power_action(first)

    response = post(client, {**CYCLE_DOM0, "reason": "still frozen"}, power)

    assert response.status_code == 409
    assert response.json()["error"] == "refused" and "cooldown" in response.json()["message"].lower()
    assert len(pdu.sets) == 1


def test_a_member_with_a_power_token_is_still_not_an_operator(scene, pdu, member, client):
    response = post(client, CYCLE_DOM0, token(member, "power"))

    assert response.status_code == 403
    assert not PowerAction.objects.exists()


def test_a_session_whose_code_is_older_than_ten_minutes_must_enter_one_again(scene, pdu, operator, client):
    pass_mfa(client, operator, ago=700)

    response = post(client, CYCLE_DOM0)

    assert response.status_code == 403 and "10 minutes" in response.json()["message"]
    assert not PowerAction.objects.exists()


def test_a_power_token_lasts_hours_not_days(operator):
    with pytest.raises(ValidationError, match="8 hours"):
        token(operator, "power", lifetime=timedelta(days=2))
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CYCLE_DOM0, "reason": ""}, "reason"),
        ({**CYCLE_DOM0, "operation": "explode"}, "operation"),
        ({**CYCLE_DOM0, "machine": "nope.example.org"}, "machine"),
        ({**CYCLE_DOM0, "outlet": 99}, "outlet"),
        ({**CYCLE_DOM0, "confirm": True}, "confirm"),
    ],
)
def test_a_bad_request_names_the_field_and_switches_nothing(scene, pdu, operator, client, body, field):
    response = post(client, body, token(operator, "power"))

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not PowerAction.objects.exists() and pdu.sets == []
