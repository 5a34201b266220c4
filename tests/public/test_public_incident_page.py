"""/status/incidents/<slug>/: one incident as the public reads it, at the address it got when a
person published it; nothing at all for an incident that is not public."""

import pytest
from django.core.cache import cache

from hosts.models import Monitor
from incidents import policy
from incidents.models import Incident, TimelineEntry
from tests.factories import make_machine

from .conftest import PUBLIC_SUMMARY, PUBLIC_TITLE, PUBLIC_UPDATE

pytestmark = pytest.mark.django_db


def page(client, incident):
    response = client.get(incident.get_public_url())
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_title_status_severity_times_and_summary(client, outage):
    html = page(client, outage.incident)

    assert f"<title>{PUBLIC_TITLE} · Switchboard</title>" in html
    assert f"<h1>{PUBLIC_TITLE}</h1>" in html
    assert '<span class="badge red">Investigating</span>' in html
    assert "Major: partly down" in html
    assert "Started " in html and "resolved" not in html
    assert PUBLIC_SUMMARY in html


def test_updates_are_listed_newest_first(client, outage):
    outage.incident.post_update("Disk replaced; mail is flowing again.", by=outage.ines, public=True)

    html = page(client, outage.incident)

    assert "Updates, newest first" in html
    assert html.index("Disk replaced") < html.index(PUBLIC_UPDATE)


def test_the_status_page_links_each_incident_to_its_own_page(client, outage):
    html = client.get("/status/").content.decode()

    assert f'<a href="{outage.incident.get_public_url()}">{PUBLIC_TITLE}</a>' in html


def test_its_address_is_the_one_publishing_gave_it(client, outage):
    url = outage.incident.get_public_url()

    assert url == f"/status/incidents/{outage.incident.public_slug}/"
    assert outage.incident.public_slug.endswith("-mail-is-down")


def test_an_unknown_address_is_not_found(client, outage):
    assert client.get("/status/incidents/no-such-incident/").status_code == 404
    assert client.get("/status/incidents/no-such-incident/feed.atom").status_code == 404


def test_an_incident_taken_off_the_status_page_is_not_found_any_more(client, outage):
    url = outage.incident.get_public_url()
    outage.incident.unpublish(by=outage.ines)
    cache.clear()  # what was kept ages out within seconds; here, at once

    assert client.get(url).status_code == 404
    assert client.get(f"{url}feed.atom").status_code == 404
    assert PUBLIC_TITLE not in client.get("/status/feed.atom").content.decode()


def test_an_incident_whose_title_switchboard_wrote_is_never_public(client, outage):
    # A monitor opened it with a title naming the host; someone ticked "public" by hand (not through
    # publish(), which refuses), and a script gave it an address.
    machine = make_machine(hostname="mx1.harbor.example.org")
    Monitor.objects.create(machine=machine, kind="ping", target="198.51.100.77", state=Monitor.State.DOWN)
    incident, _ = policy.report(
        Incident.Cause.OUTAGE,
        policy.outage_key(machine),
        title="mx1.harbor.example.org does not answer",
        note="Ping to 198.51.100.77 failed.",
        kind=TimelineEntry.Kind.CHECK_FAILED,
        machines=[machine],
    )
    assert incident.title_by_switchboard
    Incident.objects.filter(pk=incident.pk).update(is_public=True, public_slug="mx1-down")

    assert client.get("/status/incidents/mx1-down/").status_code == 404
    assert client.get("/status/incidents/mx1-down/feed.atom").status_code == 404
    for path in ("/status/", "/status/feed.atom", "/status/status.json"):
        text = client.get(path).content.decode()
        assert "mx1" not in text, path
    assert PUBLIC_TITLE in client.get("/status/status.json").content.decode()  # the other one is still listed
