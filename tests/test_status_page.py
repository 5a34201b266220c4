"""The public status page (front.views.public.status): which public services are up, open and recently
resolved public incidents, planned maintenance. No personal data. The incident pages, feeds, badge and
JSON hanging off it, and how it is served to a crowd, are in tests/public/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hosts.models import HostedService, Monitor
from incidents.models import Incident, TimelineEntry

from .scene import NOOR_PHONE, PRIVATE_NOTE, WIKI_IPV4, WIKI_IPV6

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


def status_page(client):
    response = client.get("/status/")
    assert response.status_code == 200
    return response.content.decode()


def test_anyone_can_read_it_without_logging_in(client, scene):
    html = status_page(client)
    assert "Community Wiki" in html


def test_a_public_service_on_a_down_host_shows_down(client, scene):
    html = status_page(client)
    line = html[html.index("<strong>Community Wiki</strong>") - 60 :]
    assert '<span class="badge red">Down</span> <strong>Community Wiki</strong>' in line
    assert "1 service down." in html


def test_a_service_shows_up_when_its_guest_and_host_are_up(client, scene):
    Monitor.objects.filter(machine=scene.machine).update(state=Monitor.State.UP)
    Monitor.objects.filter(guest=scene.wiki).update(state=Monitor.State.UP)
    html = status_page(client)
    assert '<span class="badge green">Up</span> <strong>Community Wiki</strong>' in html
    assert "All services are up." in html


def test_unchecked_services_are_not_called_up(client, scene):
    Monitor.objects.update(state=Monitor.State.UNKNOWN)
    html = status_page(client)
    assert "All services are up" not in html
    assert "0 of 1 checked and up" in html


def test_services_not_marked_public_are_not_listed(client, scene):
    HostedService.objects.create(guest=scene.wiki, name="Internal admin panel", is_public=False)
    assert "Internal admin panel" not in status_page(client)


def test_public_incidents_show_only_their_public_timeline(client, scene):
    html = status_page(client)
    assert "dom0 down: wiki offline" in html
    assert "The wiki is offline; we are working on it." in html
    assert "Texted Noor" not in html


def test_a_note_switchboard_wrote_stays_private_even_if_marked_public(client, scene):
    entry = scene.incident.note("Ping to dom0.harbor.example.org (192.0.2.1) failed.", kind="check_failed")
    TimelineEntry.objects.filter(pk=entry.pk).update(is_public=True)  # as a careless script might

    assert "192.0.2.1" not in status_page(client)


def test_private_and_long_resolved_incidents_are_not_shown(client, scene):
    Incident.objects.create(title="Secret maintenance", is_public=False)
    old = timezone.now() - timedelta(days=30)
    Incident.objects.create(
        title="Old outage", is_public=True, started_at=old, status=Incident.Status.RESOLVED, resolved_at=old
    )
    html = status_page(client)
    assert "Secret maintenance" not in html
    assert "Old outage" not in html


def test_no_personal_data_at_all(client, scene):
    html = status_page(client)
    for private in (NOOR_PHONE, "tel:", "sms:", "mailto:", PRIVATE_NOTE, "Noor Example", WIKI_IPV4, WIKI_IPV6):
        assert private not in html
    assert "dom0.harbor.example.org" not in html  # internal hostnames stay internal too


def test_a_logged_in_member_sees_the_same_public_page(member_client, scene):
    html = status_page(member_client)
    assert "Texted Noor" not in html and NOOR_PHONE not in html


def test_in_an_outage_the_page_is_rendered_once_for_many_visitors(client, django_assert_max_num_queries):
    client.get("/status/")
    with django_assert_max_num_queries(0):
        response = client.get("/status/")
    assert response.status_code == 200
    assert "Service status" in response.content.decode()


def test_a_coop_with_many_public_services_gets_pages(client, scene):
    HostedService.objects.bulk_create(
        HostedService(guest=scene.wiki, name=f"Site {n:03}", url=f"https://site{n}.example.org/", is_public=True)
        for n in range(120)
    )

    first = client.get("/status/")
    second = client.get("/status/?page=2")

    assert first.status_code == 200 and second.status_code == 200
    assert "Site 000" in first.content.decode()
    assert 'href="?page=2"' in first.content.decode()
    assert "Site 119" in second.content.decode()


def test_open_incidents_come_first_and_recently_resolved_ones_after_the_services(client, scene):
    now = timezone.now()
    Incident.objects.create(
        title="Mail was slow",
        is_public=True,
        started_at=now - timedelta(days=2),
        status=Incident.Status.RESOLVED,
        resolved_at=now - timedelta(days=1),
    )
    html = status_page(client)

    assert html.index("Incidents now") < html.index("dom0 down: wiki offline") < html.index('<h2 id="h-services">')
    assert html.index("Resolved in the last 7 days") < html.index("Mail was slow")
    assert html.index('<h2 id="h-services">') < html.index("Mail was slow")


def test_it_offers_the_feed_the_badge_and_json(client, scene):
    html = status_page(client)

    for path in ("/status/feed.atom", "/status/badge.svg", "/status/status.json"):
        assert f'href="{path}"' in html
