"""Bad input through the API gets a 4xx with a body a script can read, and changes nothing."""

import json
from datetime import timedelta

import pytest

from api.models import ApiToken
from coop.models import Site
from hosts.models import Machine
from tests.scene import build_scene

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_token(admin):
    build_scene()
    return ApiToken.issue(user=admin, name="sync", scope="write", lifetime=timedelta(hours=1))[1]


def send(client, method, path, body, token):
    if method == "get":
        return client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
    data = body if isinstance(body, str) else json.dumps(body)
    return getattr(client, method)(path, data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


GOOD_MACHINE = {"hostname": "new1.harbor.example.org", "site": "harbor-colo"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GOOD_MACHINE, "rack": "x" * 51}, "rack"),  # over-long
        ({**GOOD_MACHINE, "reboot_safe": "perhaps"}, "reboot_safe"),  # wrong type
        ({**GOOD_MACHINE, "site": "no-such-site"}, "site"),  # dangling reference
        ({**GOOD_MACHINE, "colour": "blue"}, "colour"),  # unknown field
        ({**GOOD_MACHINE, "hostname": "not a hostname!"}, "hostname"),
        ({**GOOD_MACHINE, "management_address": "999.1.1.1"}, "management_address"),
        ({"site": "harbor-colo"}, "hostname"),  # missing
    ],
)
def test_a_bad_machine_names_the_field_and_creates_nothing(client, admin_token, body, field):
    before = Machine.objects.count()

    response = send(client, "post", "/api/v1/machines/", body, admin_token)

    assert response.status_code == 400, response.content
    error = response.json()
    assert error["error"] == "invalid" and field in error["fields"], error
    assert Machine.objects.count() == before


def test_malformed_json_is_a_parse_error(client, admin_token):
    response = send(client, "post", "/api/v1/sites/", '{"name": "Half', admin_token)

    assert response.status_code == 400 and response.json()["error"] == "parse_error"
    assert not Site.objects.filter(name="Half").exists()


def test_deleting_a_site_that_still_has_machines_says_what_holds_it(client, admin_token):
    response = send(client, "delete", "/api/v1/sites/harbor-colo/", "", admin_token)

    assert response.status_code == 409
    assert "dom0.harbor.example.org" in response.json()["message"]
    assert Site.objects.filter(slug="harbor-colo").exists()


def test_a_secret_is_written_but_never_read_back(client, admin_token):
    person = send(client, "get", "/api/v1/people/", None, admin_token).json()["results"][0]["id"]
    url = "ntfys://ntfy.example.org/secret-topic-123"
    created = send(
        client,
        "post",
        "/api/v1/contact-methods/",
        {"person": person, "kind": "email", "value": "x@example.org", "alert_url": url},
        admin_token,
    )

    assert created.status_code == 201, created.content
    assert created.json()["alert_url_set"] is True and "alert_url" not in created.json()
    listing = send(client, "get", "/api/v1/contact-methods/?limit=200", None, admin_token)
    assert url not in listing.content.decode()


def test_the_inventory_rules_of_the_admin_hold_here_too(client, admin_token):
    response = send(client, "post", "/api/v1/dns-names/", {"name": "orphan.example.org"}, admin_token)

    assert response.status_code == 400
    assert "exactly one machine or one guest" in response.json()["message"]
