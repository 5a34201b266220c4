"""The incident page is live: an open incident's newest page asks for what came after its last
entry, and stops asking once the incident is resolved. The timeline filters, and a timeline of
30,000 entries opens at now without reading them all."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import TimelineEntry

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


def _poll_url(html):
    start = html.index('id="timeline-poll"')
    href = html.index('hx-get="', start) + len('hx-get="')
    return html[href : html.index('"', href)].replace("&amp;", "&")


def test_new_entries_arrive_without_a_reload_until_it_is_resolved(member_client, scene):
    html = member_client.get(f"/incidents/{scene.incident.pk}/").content.decode()
    poll = _poll_url(html)
    assert 'hx-trigger="every 5s"' in html

    nothing_yet = member_client.get(poll, HTTP_HX_REQUEST="true").content.decode()
    assert '<li id="entry-' not in nothing_yet and 'id="timeline-poll"' in nothing_yet

    scene.incident.note("Check recovered on dom0", kind=TimelineEntry.Kind.CHECK_RECOVERED)
    arrived = member_client.get(poll, HTTP_HX_REQUEST="true").content.decode()
    assert "Check recovered on dom0" in arrived
    assert 'hx-swap-oob="true"' in arrived  # the status badges follow
    poll = _poll_url(arrived)  # the next poll asks for what came after it

    scene.incident.resolve(note="Back.")
    last = member_client.get(poll, HTTP_HX_REQUEST="true")
    assert last.status_code == 286  # htmx: stop polling
    assert "Back." in last.content.decode() and "timeline-poll" not in last.content.decode()
    resolved_page = member_client.get(f"/incidents/{scene.incident.pk}/").content.decode()
    assert "timeline-poll" not in resolved_page


def test_the_timeline_filters_people_switchboard_and_public(member_client, scene):
    scene.incident.note("Check failed on dom0", kind=TimelineEntry.Kind.CHECK_FAILED)
    url = f"/incidents/{scene.incident.pk}/"
    people = member_client.get(url, {"show": "people"}).content.decode()
    system = member_client.get(url, {"show": "system"}).content.decode()
    public = member_client.get(url, {"show": "public"}).content.decode()
    assert "The wiki is offline; we are working on it." in people and "Check failed on dom0" not in people
    assert "Check failed on dom0" in system and "The wiki is offline; we are working on it." not in system
    assert "The wiki is offline; we are working on it." in public and "Texted Noor" not in public


def test_times_are_in_the_viewers_zone_with_the_absolute_time_on_hover(member_client, member, scene):
    from coop.models import Person

    Person.objects.create(name="Mo Member", user=member, timezone="Asia/Tokyo")
    html = member_client.get(f"/incidents/{scene.incident.pk}/").content.decode()
    assert 'class="when" title="' in html and " JST" in html


def test_thirty_thousand_entries_open_at_now_in_a_few_queries(member_client, scene):
    TimelineEntry.objects.bulk_create(
        TimelineEntry(incident=scene.incident, body=f"tick {n}", kind=TimelineEntry.Kind.CHECK_FAILED)
        for n in range(30_000)
    )
    with CaptureQueriesContext(connection) as queries:
        html = member_client.get(f"/incidents/{scene.incident.pk}/").content.decode()
    assert "tick 29999" in html and "tick 29899<" not in html  # only the newest page
    assert "Earlier entries" in html
    assert len(queries) < 40
    assert all("tick" not in q["sql"] for q in queries.captured_queries)  # no search through the bodies
