"""Story 000, told again with Switchboard: a host with ten guests of three member projects dies.
The owners heard of it weeks later, from a blog post. Here an operator opens the incident from the
machine's page, puts it on the status page, tells every owner in one press (a real SMTP server on
127.0.0.1 receives one email per owner, with the public link), keeps the public updated and
resolves it; the owners get the resolution; the public page and its feed tell the story with
nothing private in it."""

import re

import pytest
from django.test import Client

from coop.models import ContactMethod, Person
from hosts.models import Guest
from incidents.models import Incident

from ..factories import make_machine, make_org

pytest_plugins = ["tests.cast"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sends_run_at_once")]

PRIVATE_NOTE = "Called Sam on +1 555 0177: the spare PSU is in the blue box"
OWNERS = {
    "Atlas Wiki": "ops@atlas.example.org",
    "Field Notes": "team@fieldnotes.example.org",
    "Gull Mail": "admin@gull.example.org",
}


@pytest.fixture
def vz1():
    """vz1.harbor.example.org with ten guests: four, three and three of three member projects."""
    machine = make_machine(hostname="vz1.harbor.example.org")
    orgs = [make_org(name=name, email=email) for name, email in OWNERS.items()]
    for n in range(10):
        Guest.objects.create(name=f"vps{n}.example.org", machine=machine, owner=orgs[0 if n < 4 else 1 if n < 7 else 2])
    sam = Person.objects.create(name="Sam Example", organization=orgs[0])
    ContactMethod.objects.create(person=sam, kind="phone", value="+1 555 0177")
    return machine


def _post(client, path, data=None):
    response = client.post(path, data or {})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def test_story_000_owners_are_told_in_minutes_not_weeks(
    operator_client, vz1, mailbox, django_capture_on_commit_callbacks
):
    page = operator_client.get(f"/machines/{vz1.hostname}/").content.decode()
    assert f"/incidents/new/?machine={vz1.hostname}" in page
    _post(operator_client, "/incidents/new/", {"title": "vz1 dead", "severity": "critical", "affected": vz1.hostname})
    incident = Incident.objects.get(title="vz1 dead")
    url = f"/incidents/{incident.pk}"
    assert incident.affected_guest_count() == 10

    _post(operator_client, f"{url}/update/", {"body": PRIVATE_NOTE})
    _post(operator_client, f"{url}/publish/", {"title": "Ten member sites are down"})
    _post(
        operator_client,
        f"{url}/update/",
        {"body": "A server stopped; we are replacing its power supply.", "public": "on"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        _post(operator_client, f"{url}/notify-owners/")
    mailbox.wait_for(3)
    incident.refresh_from_db()
    public_link = f"https://switchboard.example.org/status/incidents/{incident.public_slug}/"
    assert sorted(to for m in mailbox.messages for to in m["to"]) == sorted(OWNERS.values())  # one per owner
    for message in mailbox.messages:
        assert public_link in message["body"]
        assert "replacing its power supply" in message["body"]
        assert PRIVATE_NOTE not in message["body"] and "vz1" not in message["body"]

    with django_capture_on_commit_callbacks(execute=True):
        _post(operator_client, f"{url}/notify-owners/")  # a second press
    assert len(mailbox.messages) == 3  # nobody is emailed twice about one update

    _post(
        operator_client, f"{url}/update/", {"body": "Power supply replaced; the sites are coming back.", "public": "on"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        _post(
            operator_client, f"{url}/resolve/", {"summary": "A power supply failed; we replaced it. No data was lost."}
        )
    mailbox.wait_for(6)
    resolutions = mailbox.messages[3:]
    assert sorted(to for m in resolutions for to in m["to"]) == sorted(OWNERS.values())
    assert all("No data was lost" in m["body"] and public_link in m["body"] for m in resolutions)

    anonymous = Client()
    public_page = anonymous.get(incident.get_public_url()).content.decode()
    feed = anonymous.get(incident.get_public_url() + "feed.atom").content.decode()
    status = anonymous.get("/status/").content.decode()
    for text in (public_page, feed):
        assert "replacing its power supply" in text and "Power supply replaced" in text
    assert "Ten member sites are down" in status
    for text in (public_page, feed, status):
        assert "vz1" not in text and "vps0" not in text  # no internal hostname
        assert PRIVATE_NOTE not in text and "555 0177" not in text and "Sam Example" not in text
        assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.-]+", text), "an email address reached the public"
        assert "Otto" not in text  # the operator's name is theirs, not the public's
