"""The outage the public reads about: dom0 at Harbor Colo is down (tests/scene.py) and the mail
with it. Ines, a volunteer, works on it: notes for members, Switchboard's own notes, and what
she writes for the public under the title "Mail is down"."""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model

from incidents import policy
from incidents.models import Incident, TimelineEntry
from tests.scene import NOOR_PHONE, PRIVATE_NOTE, Scene, build_scene

PUBLIC_TITLE = "Mail is down"
PUBLIC_SUMMARY = "Incoming mail waits in a queue until the server is back; nothing is lost."
PUBLIC_UPDATE = "We are replacing a failed disk; mail should flow again within the hour."
PRIVATE_UPDATE = f"Called Noor at {NOOR_PHONE}: {PRIVATE_NOTE}."
SWITCHBOARD_NOTE = "Ping to dom0.harbor.example.org (198.51.100.5) failed 3 times."

# What an address of a public page is, by URL name: every public response the tests read.
PUBLIC_PAGES = {
    "status": lambda incident: "/status/",
    "public_incident": lambda incident: incident.get_public_url(),
    "status_feed": lambda incident: "/status/feed.atom",
    "public_incident_feed": lambda incident: f"{incident.get_public_url()}feed.atom",
    "status_json": lambda incident: "/status/status.json",
    "status_badge": lambda incident: "/status/badge.svg",
}


@dataclass
class Outage:
    scene: Scene
    incident: Incident
    ines: object  # the volunteer's login


@pytest.fixture
def outage(db):
    """The mail outage, published, with one public update among private and Switchboard notes."""
    scene = build_scene()
    ines = get_user_model().objects.create_user("ines", "ines@example.org", first_name="Ines", last_name="Navarro")
    incident = policy.open_by_person(
        title="dom0.harbor.example.org down, mail queueing", by=ines, machines=[scene.machine]
    )
    incident.add_affected(by=ines, guests=[scene.wiki])
    incident.take_lead(by=ines)
    incident.post_update(PRIVATE_UPDATE, by=ines)
    incident.add_action_item("Replace the second disk too", by=ines, owner=scene.noor)
    # Switchboard's own note, marked public by a careless script: still never shown.
    entry = incident.note(SWITCHBOARD_NOTE, kind=TimelineEntry.Kind.CHECK_FAILED)
    TimelineEntry.objects.filter(pk=entry.pk).update(is_public=True)
    incident.publish(by=ines, title=PUBLIC_TITLE)
    incident.summary = PUBLIC_SUMMARY
    incident.save(update_fields=["summary"])
    incident.post_update(PUBLIC_UPDATE, by=ines, public=True)
    return Outage(scene, incident, ines)
