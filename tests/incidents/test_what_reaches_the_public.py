"""Every box whose words the public reads is checked before they go out: an update, a status change's
reason, the resolve summary, the postmortem. A hostname, an address, a phone number or a person's
name comes back asking, once, to be confirmed; however it is written."""

import pytest
from django.test import Client

from incidents.forms import names_private_things

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db

PRIVATE = "xen1 at 198.51.100.5: call Noor Example on +1 555 0142 or ops@wiki.example.org"


@pytest.fixture
def public_incident(scene):
    scene.incident.publish(by=None, title="The wiki is down")
    return scene.incident


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("status", {"status": "identified", "note": PRIVATE}),
        ("resolve", {"summary": PRIVATE}),
        ("update", {"body": PRIVATE, "public": "on"}),
    ],
)
def test_a_public_box_naming_private_things_asks_first(operator_client, public_incident, action, data):
    before = public_incident.timeline.count()
    response = operator_client.post(f"/incidents/{public_incident.pk}/{action}/", data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "The public will read this" in html and "Yes, publish the names" in html
    public_incident.refresh_from_db()
    assert public_incident.timeline.count() == before and public_incident.is_open
    assert PRIVATE not in Client().get(public_incident.get_public_url()).content.decode()

    confirmed = operator_client.post(f"/incidents/{public_incident.pk}/{action}/", {**data, "names_are_public": "on"})
    assert confirmed.status_code == 302  # marked public by the operator: it goes out as written


def test_a_postmortem_pasted_from_the_members_export_is_stopped(operator_client, public_incident, scene):
    public_incident.resolve(note="Resolved.")
    export = operator_client.get(f"/incidents/{public_incident.pk}/postmortem.md").content.decode()
    response = operator_client.post(f"/incidents/{public_incident.pk}/postmortem/", {"postmortem": export})
    assert response.status_code == 400 and "The public will read this" in response.content.decode()
    public_incident.refresh_from_db()
    assert public_incident.postmortem_published_at is None


def test_the_postmortem_box_starts_from_what_the_public_already_read(operator_client, public_incident):
    public_incident.post_update("Restoring from last night's backup.", by=None, public=False)
    public_incident.resolve(note="Resolved.", summary="The disk failed; we restored it.")
    html = operator_client.get(f"/incidents/{public_incident.pk}/").content.decode()
    start = html.index('name="postmortem"')
    box = html[start : html.index("</textarea>", start)]
    assert "The disk failed; we restored it." in box
    assert "Texted Noor" not in box and "Restoring from last night" not in box  # members' words stay out


def test_a_status_change_without_a_reason_stays_off_the_public_timeline(operator_client, public_incident):
    operator_client.post(f"/incidents/{public_incident.pk}/status/", {"status": "identified"})
    entry = public_incident.timeline.latest("at", "pk")
    assert entry.body == "Status: Investigating → Identified." and not entry.is_public


@pytest.mark.parametrize(
    "text",
    [
        "see https://dom0.harbor.example.org/status",
        "dom0's disk",
        "dom0/dom1 both",
        "dom0.harbor.example.org:22 refuses",
        "on 2001:db8::",
        "the range 2001:db8::/32",
        "Noor Example is driving there",
    ],
)
def test_the_guard_sees_private_things_however_they_are_written(scene, text):
    assert names_private_things(text)


@pytest.mark.parametrize("text", ["The wiki is down since 03:12", "Back at 2026-12-02 04:00", "About 1,000 users"])
def test_the_guard_leaves_plain_words_alone(scene, text):
    assert names_private_things(text) == []


def test_a_public_title_offered_never_names_the_host(operator_client, scene):
    scene.incident.unpublish(by=None)
    scene.incident.retitle(f"{scene.machine.hostname} is down")
    html = operator_client.get(f"/incidents/{scene.incident.pk}/").content.decode()
    start = html.index('id="public_title"')
    assert scene.machine.hostname not in html[start : html.index(">", start)]


def test_a_title_pasted_with_a_line_break_becomes_one_line(operator_client, scene):
    scene.incident.unpublish(by=None)
    operator_client.post(f"/incidents/{scene.incident.pk}/publish/", {"title": "The wiki\nis down"})
    scene.incident.refresh_from_db()
    assert scene.incident.title == "The wiki is down"
