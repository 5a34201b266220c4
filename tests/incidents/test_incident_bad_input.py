"""Bad input on the incident page: a clear message, what was typed kept, and nothing changed."""

from datetime import timedelta

import pytest
from django.test import Client

from incidents.models import UPDATE_MAX_LENGTH, ActionItem

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


def _entries(incident):
    return incident.timeline.count()


def test_an_empty_update_is_refused(operator_client, scene):
    before = _entries(scene.incident)
    response = operator_client.post(f"/incidents/{scene.incident.pk}/update/", {"body": "   "})
    assert response.status_code == 400
    assert "the update is empty" in response.content.decode()
    assert _entries(scene.incident) == before


def test_an_update_over_the_length_limit_is_refused_and_kept_in_the_box(operator_client, scene):
    before = _entries(scene.incident)
    text = "x" * (UPDATE_MAX_LENGTH + 1)
    response = operator_client.post(f"/incidents/{scene.incident.pk}/update/", {"body": text})
    html = response.content.decode()
    assert response.status_code == 400
    assert f"under {UPDATE_MAX_LENGTH:,} characters" in html and text in html
    assert _entries(scene.incident) == before


def test_an_action_item_due_before_the_incident_started_is_refused(operator_client, scene):
    before = _entries(scene.incident)
    started = scene.incident.started_at.date()
    response = operator_client.post(
        f"/incidents/{scene.incident.pk}/actions/", {"title": "Spare PSU", "due_on": started - timedelta(days=3)}
    )
    assert response.status_code == 400
    assert "cannot be due before the incident started" in response.content.decode()
    assert not ActionItem.objects.filter(title="Spare PSU").exists()
    assert _entries(scene.incident) == before


def test_an_unknown_machine_or_guest_adds_nothing(operator_client, scene):
    count = scene.incident.machines.count()
    response = operator_client.post(
        f"/incidents/{scene.incident.pk}/affected/", {"names": f"{scene.wiki.name} no-such-host.example.org"}
    )
    assert response.status_code == 400
    assert "No machine or guest is called no-such-host.example.org" in response.content.decode()
    assert scene.incident.machines.count() == count


def test_a_public_title_naming_a_host_is_refused(operator_client, scene):
    scene.incident.unpublish(by=None)
    response = operator_client.post(
        f"/incidents/{scene.incident.pk}/publish/", {"title": f"{scene.machine.hostname} is down"}
    )
    assert response.status_code == 400
    assert "write it for the public" in response.content.decode()
    scene.incident.refresh_from_db()
    assert not scene.incident.is_public


def test_an_unknown_status_is_refused(operator_client, scene):
    response = operator_client.post(f"/incidents/{scene.incident.pk}/status/", {"status": "exploded"})
    assert response.status_code == 400
    scene.incident.refresh_from_db()
    assert scene.incident.status == "investigating"


def test_a_postmortem_on_an_open_incident_is_refused(operator_client, scene):
    response = operator_client.post(f"/incidents/{scene.incident.pk}/postmortem/", {"postmortem": "# What happened"})
    assert response.status_code == 400
    assert "Resolve the incident before publishing its postmortem" in response.content.decode()
    scene.incident.refresh_from_db()
    assert scene.incident.postmortem == ""


def test_a_forged_post_without_the_csrf_token_changes_nothing(operator, scene):
    from tests.conftest import log_in_with_second_factor

    browser = log_in_with_second_factor(Client(enforce_csrf_checks=True), operator)
    before = _entries(scene.incident)
    for action, data in [("update", {"body": "forged"}), ("status", {"status": "resolved"}), ("resolve", {})]:
        response = browser.post(f"/incidents/{scene.incident.pk}/{action}/", data)
        assert response.status_code == 403
    scene.incident.refresh_from_db()
    assert scene.incident.is_open and _entries(scene.incident) == before
