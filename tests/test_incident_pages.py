"""Incident pages for members: the open ones first, and one incident's whole story."""

import pytest

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


def test_the_list_shows_open_incidents_by_default(member_client, scene):
    scene.incident.resolve(note="Back on the new host.")
    html = member_client.get("/incidents/").content.decode()
    assert "dom0 down: wiki offline" not in html
    assert "host0 flapping" in html
    resolved = member_client.get("/incidents/", {"status": "resolved"}).content.decode()
    assert "dom0 down: wiki offline" in resolved


def test_an_incident_shows_affected_guests_owners_and_the_whole_timeline(member_client, scene):
    html = member_client.get(f"/incidents/{scene.incident.pk}/").content.decode()
    assert 'href="/guests/wiki.example.org/"' in html
    assert 'href="/organizations/wiki-project/"' in html  # an owner to tell
    assert "The wiki is offline; we are working on it." in html
    assert "Texted Noor" in html  # members see the private entries too
    assert "Follow-up 0" in html  # still to do


def test_a_long_timeline_opens_at_now_with_earlier_entries_a_page_away(member_client, scene):
    for n in range(120):
        scene.incident.note(f"entry {n}")
    html = member_client.get(f"/incidents/{scene.incident.pk}/").content.decode()
    assert "entry 119" in html and "entry 5<" not in html  # the newest page: what is happening now
    assert "Earlier entries" in html
    earlier = member_client.get(f"/incidents/{scene.incident.pk}/", {"page": 1}).content.decode()
    assert "entry 5<" in earlier and "Jump to now" in earlier
    partial = member_client.get(f"/incidents/{scene.incident.pk}/", {"page": 2}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and "entry 119" in partial.content.decode()
