"""Mira makes a token on the API tokens page, copies it once, uses it, and revokes it."""

import pytest

from api.models import ApiToken
from tests.power.conftest import pass_mfa

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


def test_a_member_makes_a_read_token_sees_it_once_and_revokes_it(member_client, member):
    made = member_client.post("/tokens/", {"name": "inventory sync", "scope": "read", "lifetime": "30d"})

    assert made.status_code == 201
    token = ApiToken.objects.get(user=member)
    html = made.content.decode()
    text = html.split('<code class="token">')[1].split("</code>")[0]
    assert ApiToken.find(text) == token
    assert "no-store" in made.headers["Cache-Control"] or "no-cache" in made.headers["Cache-Control"]
    assert text not in member_client.get("/tokens/").content.decode()  # shown only that once

    member_client.post(f"/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert member_client.get("/api/v1/machines/", HTTP_AUTHORIZATION=f"Bearer {text}").status_code == 401


def test_a_member_cannot_make_a_power_token(member_client):
    response = member_client.post("/tokens/", {"name": "reboot", "scope": "power", "lifetime": "1h"})

    assert response.status_code == 400 and "Only operators" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_an_operator_needs_a_fresh_code_for_a_power_token(client, operator):
    pass_mfa(client, operator, ago=700)
    stale = client.post("/tokens/", {"name": "reboot", "scope": "power", "lifetime": "1h"})
    assert stale.status_code == 302 and "reauthenticate" in stale.url
    assert not ApiToken.objects.exists()

    pass_mfa(client, operator)
    fresh = client.post("/tokens/", {"name": "reboot", "scope": "power", "lifetime": "8h"})
    assert fresh.status_code == 201
    too_long = client.post("/tokens/", {"name": "reboot", "scope": "power", "lifetime": "30d"})
    assert too_long.status_code == 400 and "at most 8 hours" in too_long.content.decode()
    assert ApiToken.objects.filter(scope="power").count() == 1
