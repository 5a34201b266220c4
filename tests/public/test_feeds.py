"""Atom feeds for people who follow the co-op's incidents in a feed reader: /status/feed.atom
(public incidents, newest first) and /status/incidents/<slug>/feed.atom (one incident's public
updates). Entries link to the incident's public page; times are those of the last public change."""

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from incidents.models import TimelineEntry

from .conftest import PUBLIC_TITLE, PUBLIC_UPDATE

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITE_URL = "https://status.example.coop"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE_URL


def feed(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return ET.fromstring(response.content)  # noqa: S314 - our own response, not untrusted input


def entries(root):
    return root.findall(f"{ATOM}entry")


def when(element, name):
    return datetime.fromisoformat(element.find(f"{ATOM}{name}").text)


def test_the_incidents_feed_lists_public_incidents_newest_first(client, outage):
    root = feed(client, "/status/feed.atom")

    titles = [entry.find(f"{ATOM}title").text for entry in entries(root)]
    assert titles == [f"{PUBLIC_TITLE} (Investigating)", "dom0 down: wiki offline (Investigating)"]
    first = entries(root)[0]
    assert first.find(f"{ATOM}link").get("href") == SITE_URL + outage.incident.get_public_url()
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == SITE_URL + "/status/feed.atom"


def test_an_entry_is_updated_at_its_last_public_change_and_the_feed_at_the_latest(client, outage):
    later = timezone.now() + timedelta(minutes=5)
    entry = outage.incident.post_update("Mail flows again.", by=outage.ines, public=True)
    TimelineEntry.objects.filter(pk=entry.pk).update(at=later)
    # A private note made even later changes nothing the public sees.
    private = outage.incident.post_update("Told Noor.", by=outage.ines)
    TimelineEntry.objects.filter(pk=private.pk).update(at=later + timedelta(minutes=5))

    root = feed(client, "/status/feed.atom")

    first = entries(root)[0]
    assert when(first, "updated") == later
    assert when(first, "published") == outage.incident.started_at
    assert when(root, "updated") == later


def test_an_incidents_feed_holds_its_public_updates_only(client, outage):
    root = feed(client, f"{outage.incident.get_public_url()}feed.atom")

    bodies = [entry.find(f"{ATOM}summary").text for entry in entries(root)]
    assert len(bodies) == 1 and PUBLIC_UPDATE in bodies[0]
    (entry,) = entries(root)
    public = outage.incident.timeline.get(body=PUBLIC_UPDATE)
    assert entry.find(f"{ATOM}link").get("href") == f"{SITE_URL}{outage.incident.get_public_url()}#update-{public.pk}"
    assert when(entry, "updated") == public.at
    assert when(root, "updated") == public.at
    assert root.find(f"{ATOM}title").text == f"{PUBLIC_TITLE}: updates"


def test_the_feeds_name_no_person_as_author(client, outage):
    for path in ("/status/feed.atom", f"{outage.incident.get_public_url()}feed.atom"):
        root = feed(client, path)
        authors = [name.text for name in root.iter(f"{ATOM}name")]
        assert authors == ["status.example.coop"], path
        assert not list(root.iter(f"{ATOM}email"))
