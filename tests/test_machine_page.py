"""The machine page is the outage page: everything a volunteer on a phone needs, in order."""

import re

import pytest
from django.conf import settings

from .scene import NOOR_PHONE

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db

OUTAGE_ORDER = ["state", "incident", "access", "admins", "power", "guests", "runbooks", "backups", "timeline"]


def machine_page(client, scene):
    response = client.get(f"/machines/{scene.machine.hostname}/")
    assert response.status_code == 200
    return response.content.decode()


def test_sections_come_in_outage_order(member_client, scene):
    html = machine_page(member_client, scene)
    positions = [html.index(f'id="{section}"') for section in OUTAGE_ORDER]
    assert positions == sorted(positions)


def test_read_this_first_warning_is_pinned_above_everything(member_client, scene):
    html = machine_page(member_client, scene)
    article = html[html.index("<article") :]
    assert re.match(r'<article[^>]*>\s*<aside class="pinned"', article)
    assert "Never reboot without stopping the wiki&#x27;s database first." in article[: article.index('id="state"')]


def test_state_and_open_incident_are_shown(member_client, scene):
    html = machine_page(member_client, scene)
    assert '<span class="badge red">Down</span>' in html[: html.index('id="incident"')]
    assert f'href="/incidents/{scene.incident.pk}/"' in html


def test_people_who_can_get_in_have_tap_to_call_and_text_links(member_client, scene):
    html = machine_page(member_client, scene)
    access = html[html.index('id="access"') : html.index('id="admins"')]
    assert "Noor Example" in access
    assert 'href="tel:+15550142"' in access
    assert 'href="sms:+15550142"' in access
    assert NOOR_PHONE in access
    assert "America/Los_Angeles" in access  # their local time
    assert "checked just now" in access  # when the number was last confirmed
    assert "never checked" in access  # and which contacts nobody confirmed
    assert "Call the badge desk" in access  # the site's access procedure


def test_admins_guests_runbooks_and_backups_are_listed(member_client, scene):
    html = machine_page(member_client, scene)
    admins = html[html.index('id="admins"') : html.index('id="power"')]
    assert "Noor Example" in admins
    guests = html[html.index('id="guests"') : html.index('id="runbooks"')]
    assert "wiki.example.org" in guests and "Wiki Project" in guests
    runbooks = html[html.index('id="runbooks"') : html.index('id="backups"')]
    assert "Bring up dom0" in runbooks and "Getting into Harbor Colo" in runbooks
    backups = html[html.index('id="backups"') : html.index('id="timeline"')]
    assert "wiki-s3" in backups and "Stale" in backups


def test_power_outlets_leave_a_spot_for_the_power_cycle_button(member_client, scene):
    html = machine_page(member_client, scene)
    power = html[html.index('id="power"') : html.index('id="guests"')]
    assert "pdu-sf-1 outlet 4 (PSU A)" in power
    assert 'id="power-actions"' in power


def test_hostname_is_found_whatever_its_case(member_client, scene):
    assert member_client.get("/machines/DOM0.HARBOR.example.org/").status_code == 200


def test_unknown_hostname_gives_a_404_that_offers_search(member_client, scene):
    response = member_client.get("/machines/nope.example.org/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'action="/search/"' in html
    assert 'value="nope.example.org"' in html


def test_the_page_has_a_print_stylesheet():
    css = (settings.BASE_DIR / "static" / "css" / "switchboard.css").read_text()
    print_rules = css[css.index("@media print") :]
    assert ".top" in print_rules and "display: none" in print_rules


def test_guest_and_site_pages_pin_their_warnings_too(member_client, scene):
    guest = member_client.get(f"/guests/{scene.wiki.name}/").content.decode()
    assert guest.index("Stop PostgreSQL before touching the disk.") < guest.index('id="state"')
    assert "Never reboot without stopping the wiki" in guest  # its host's warning as well
    site = member_client.get(f"/sites/{scene.site.slug}/").content.decode()
    assert '<aside class="pinned"' in site and "The colo closes on the 30th" in site
