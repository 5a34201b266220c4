"""For the co-op's own website: /status/badge.svg ("status | all up") and /status/status.json
(the overall state, public services, open public incidents), both fetchable from any site."""

import json
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from hosts.models import Monitor
from incidents.models import Incident
from monitors.models import CheckerClock

from .conftest import PUBLIC_TITLE

pytestmark = pytest.mark.django_db


def status_json(client):
    response = client.get("/status/status.json")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    return json.loads(response.content)


def badge(client):
    response = client.get("/status/badge.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert response["Access-Control-Allow-Origin"] == "*"
    return response.content.decode()


def all_up():
    Monitor.objects.update(state=Monitor.State.UP)
    Incident.objects.update(status=Incident.Status.RESOLVED, resolved_at=F("started_at"))
    CheckerClock.tick(timezone.now())  # the checker is running


def test_with_a_public_service_down_both_say_how_many(client, outage):
    data = status_json(client)

    assert data["state"] == "down"
    assert data["description"] == "1 service down"
    assert data["components"] == [{"name": "Community Wiki", "url": "https://wiki.example.org/", "state": "down"}]
    assert data["components_count"] == {"total": 1, "down": 1, "up": 0, "unknown": 0}
    assert ">1 down</text>" in badge(client)
    assert 'fill="#b42318"' in badge(client)  # red


def test_json_lists_open_public_incidents_with_their_public_address(client, outage, settings):
    settings.SITE_URL = "https://status.example.coop"

    incidents = status_json(client)["incidents"]

    mail = next(i for i in incidents if i["title"] == PUBLIC_TITLE)
    assert mail["status"] == "investigating"
    assert mail["url"] == "https://status.example.coop" + outage.incident.get_public_url()


def test_an_open_incident_with_every_service_up_is_amber(client, outage):
    Monitor.objects.update(state=Monitor.State.UP)

    assert status_json(client)["state"] == "incident"
    svg = badge(client)
    assert ">incident</text>" in svg and 'fill="#b54708"' in svg


def test_all_up_is_green(client, outage):
    all_up()

    data = status_json(client)
    assert data["state"] == "up" and data["incidents"] == []
    svg = badge(client)
    assert ">all up</text>" in svg and 'fill="#067647"' in svg


def test_services_nobody_checked_are_not_called_up(client, outage):
    all_up()
    Monitor.objects.update(state=Monitor.State.UNKNOWN)

    assert status_json(client)["state"] == "unknown"
    assert ">unknown</text>" in badge(client)


def test_when_the_checks_stopped_it_does_not_claim_all_up(client, outage):
    all_up()
    CheckerClock.objects.update(last_round_at=timezone.now() - timedelta(hours=1))

    assert status_json(client)["state"] == "unknown"


def test_the_badge_runs_nothing_when_opened_on_its_own(client, outage):
    response = client.get("/status/badge.svg")

    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert "<script" not in response.content.decode()
