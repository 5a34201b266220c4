"""A volunteer's script uses a personal token: kept hashed, refused with a reason once expired or revoked."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from api.models import ApiToken
from core.access import MEMBERS
from tests.scene import build_scene

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


def get(client, text, path="/api/v1/machines/"):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {text}")


def test_the_token_itself_is_never_stored(member):
    token, text = ApiToken.issue(user=member, name="inventory sync", scope="read", lifetime=timedelta(days=30))

    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert text.startswith("sb_") and len(text) > 40
    assert text not in json.dumps(stored, default=str)
    assert ApiToken.find(text) == token
    assert ApiToken.find(text[:-1] + ("A" if text[-1] != "A" else "B")) is None


def test_a_read_token_lists_machines_and_its_use_is_noted(client, member):
    build_scene()
    token, text = ApiToken.issue(user=member, name="inventory sync", scope="read", lifetime=timedelta(days=30))

    response = get(client, text)

    assert response.status_code == 200
    assert "dom0.harbor.example.org" in {machine["hostname"] for machine in response.json()["results"]}
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda token: token.revoke(), "revoked"),
        (lambda token: ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now()), "expired"),
    ],
)
def test_a_revoked_or_expired_token_is_refused_with_the_reason(client, member, spoil, message):
    token, text = ApiToken.issue(user=member, name="old script", scope="read", lifetime=timedelta(days=1))
    spoil(token)

    response = get(client, text)

    assert response.status_code == 401
    assert message in response.json()["message"]


def test_a_token_that_is_not_switchboards_is_refused(client):
    response = get(client, "sb_0123456789ab_notarealtoken")

    assert response.status_code == 401 and response.json()["error"] == "authentication_failed"


def test_a_token_stops_working_when_its_owner_leaves_the_members(client, member):
    _, text = ApiToken.issue(user=member, name="sync", scope="read", lifetime=timedelta(days=1))
    member.groups.remove(Group.objects.get(name=MEMBERS))

    assert get(client, text).status_code == 403


def test_no_token_lasts_more_than_a_year(member):
    with pytest.raises(Exception, match="365 days"):
        ApiToken.issue(user=member, name="forever", scope="read", lifetime=timedelta(days=400))
