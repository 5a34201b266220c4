"""The first screen of an outage page answers "is it down, what do I do, who do I call": on a
phone the power button and the first person to call come before the address and the procedure."""

import re

import pytest

from coop.models import ContactMethod, SiteAccess
from power.models import PowerOutlet
from tests.factories import make_guest, make_machine, make_pdu, make_person, make_site

from .scene import NOOR_PHONE

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db

POWER_BUTTON = "Power-cycle…"


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def machine_page(client, scene):
    return page(client, f"/machines/{scene.machine.hostname}/")


def test_the_power_button_and_the_first_call_come_before_the_address_and_procedure(operator_client, scene):
    html = machine_page(operator_client, scene)
    power = html.index(f'href="/machines/{scene.machine.hostname}/power/"')
    call = html.index('href="tel:+15550142"')
    address = html.index("1 Example Street")
    procedure = html.index("Call the badge desk")
    assert html.index('id="incident"') < power < address
    assert call < address < procedure
    assert html.index(POWER_BUTTON) < address


def test_the_first_screen_offers_text_too_and_links_to_everyone_who_can_get_in(member_client, scene):
    html = machine_page(member_client, scene)
    first = html[html.index('id="act"') : html.index('id="access"')]
    assert "Noor Example" in first and "Own badge" in first
    assert f'Call <span class="value">{NOOR_PHONE}</span>' in first
    assert 'href="sms:+15550142"' in first
    assert 'href="#access"' in first and "Everyone who can get in ↓" in first


def test_members_see_no_power_button(member_client, scene):
    html = machine_page(member_client, scene)
    assert POWER_BUTTON not in html
    assert f'href="/machines/{scene.machine.hostname}/power/"' not in html
    assert 'href="tel:+15550142"' in html[: html.index('id="access"')]  # still who to call


def test_no_power_button_for_a_machine_without_outlets(operator_client):
    machine = make_machine(hostname="bare.colo.example.org")
    html = page(operator_client, f"/machines/{machine.hostname}/")
    assert POWER_BUTTON not in html
    assert "Nobody is recorded with access" in html[: html.index('id="access"')]


def test_the_first_person_is_the_first_of_the_roster(member_client):
    site = make_site()
    machine = make_machine(site=site)
    escort = make_person(name="Aaron Escort")
    badge = make_person(name="Zoe Badge")
    ContactMethod.objects.create(person=escort, kind="phone", value="+1 555 0111")
    ContactMethod.objects.create(person=badge, kind="email", value="zoe@example.org", priority=1)
    ContactMethod.objects.create(person=badge, kind="phone", value="+1 555 0122", priority=2)
    SiteAccess.objects.create(person=escort, site=site, kind=SiteAccess.Kind.ESCORT_ONLY)
    SiteAccess.objects.create(person=badge, site=site, kind=SiteAccess.Kind.BADGE)

    html = page(member_client, f"/machines/{machine.hostname}/")
    first = html[html.index('id="act"') : html.index('id="access"')]
    assert "Zoe Badge" in first and "Aaron Escort" not in first
    # The big button calls their phone, even when email is their first way to be reached.
    assert 'href="tel:+15550122"' in first and "mailto:" not in first


def test_the_hostname_in_the_heading_wraps_at_its_dots(member_client, scene):
    html = machine_page(member_client, scene)
    assert '<h1><span class="hostname">dom0.<wbr>harbor.<wbr>example.<wbr>org</span></h1>' in html
    assert "<title>dom0.harbor.example.org · Switchboard</title>" in html  # no markup in the title


def test_the_procedure_is_paragraphs_with_whole_tappable_numbers(member_client, scene):
    scene.site.access_procedure = "Call Sam on\n555-0123 when\nyou arrive\n\nThen:\n- badge in\n- take the lift"
    scene.site.save()
    html = machine_page(member_client, scene)
    procedure = html[html.index('class="procedure') : html.index("Who can get in")]
    assert '<p>Call Sam on <a class="tel" href="tel:5550123">555-0123</a> when you arrive</p>' in procedure
    assert "<ul>\n<li>badge in</li>\n<li>take the lift</li>\n</ul>" in procedure


def test_a_script_in_a_procedure_never_reaches_the_page(member_client, scene):
    scene.site.access_procedure = 'Ring twice.\n\n<script>alert("owned")</script>'
    scene.site.save()
    html = machine_page(member_client, scene)
    assert 'alert("owned")' not in html and "alert(&quot;owned&quot;)" not in html
    assert "Ring twice." in html


def test_times_read_like_words_not_zero_minutes(member_client, scene):
    html = machine_page(member_client, scene)
    assert "0\xa0minutes" not in html
    assert "since 0" not in html
    assert "checked just now" in html  # Noor's number, confirmed a moment ago
    assert re.search(r"started (just now|\d+\xa0\w+ ago)", html)  # the open incident


def test_a_stale_backup_says_what_is_wrong_and_when_it_was_checked(member_client, scene):
    target = scene.wiki.backup_targets.get(name="wiki-s3")
    target.state_message = "Newest backup is 3 days old."
    target.save()
    html = machine_page(member_client, scene)
    backups = html[html.index('id="backups"') : html.index('id="timeline"')]
    assert "Newest backup is 3 days old (checked just now)" in backups
    assert " for 1 minute" not in backups and "for 0" not in backups


def test_the_power_history_panel_is_still_in_its_section(operator_client, scene):
    html = machine_page(operator_client, scene)
    power = html[html.index('id="power"') : html.index('id="guests"')]
    assert 'id="power-actions"' in power


# --- The guest page -----------------------------------------------------------------------


def test_the_guest_page_shows_its_host_power_and_who_to_call_first(operator_client, scene):
    html = page(operator_client, f"/guests/{scene.wiki.name}/")
    first = html[html.index('id="act"') : html.index('id="contacts"')]
    assert f'href="/machines/{scene.machine.hostname}/"' in first
    assert '<span class="badge red">Down</span>' in first  # the host's state
    assert f'href="/machines/{scene.machine.hostname}/power/"' in first
    assert 'href="tel:+15550142"' in first
    assert "Can get in:" in first and "Own badge" in first
    assert html.index('id="incident"') < html.index('id="act"')


def test_members_see_no_power_button_on_the_guest_page(member_client, scene):
    html = page(member_client, f"/guests/{scene.wiki.name}/")
    assert "/power/" not in html and "Power-cycle" not in html


def test_a_guest_without_contacts_offers_its_owners_email(member_client, scene):
    guest = make_guest(name="lonely.example.org", machine=scene.machine, owner=scene.wiki_owner)
    html = page(member_client, f"/guests/{guest.name}/")
    first = html[html.index('id="act"') : html.index('id="contacts"')]
    assert 'href="mailto:ops@wiki.example.org"' in first
    assert '<h1><span class="hostname">lonely.<wbr>example.<wbr>org</span></h1>' in html


def test_a_guest_page_on_a_host_with_outlets_but_seen_by_a_member_has_no_power_link(member_client):
    machine = make_machine()
    PowerOutlet.objects.create(controller=make_pdu(site=machine.site), number=1, machine=machine)
    guest = make_guest(machine=machine)
    assert "/power/" not in page(member_client, f"/guests/{guest.name}/")


# --- The site page and search ---------------------------------------------------------------


def test_the_site_page_puts_the_first_person_to_call_before_the_address(member_client, scene):
    html = page(member_client, f"/sites/{scene.site.slug}/")
    assert html.index('href="tel:+15550142"') < html.index("1 Example Street") < html.index("Call the badge desk")
    assert "Everyone who can get in ↓" in html


def test_the_site_page_keeps_the_first_person_on_later_pages_of_the_roster(member_client, scene):
    for n in range(30):
        person = make_person(name=f"Zed {n:02d}")
        SiteAccess.objects.create(person=person, site=scene.site, kind=SiteAccess.Kind.ESCORT_ONLY)
    html = page(member_client, f"/sites/{scene.site.slug}/?page=2")
    first = html[html.index('id="act"') : html.index('id="access"')]
    assert "Noor Example" in first


def test_search_rows_show_state_and_link_with_breakable_names(member_client, scene):
    html = page(member_client, "/search/?q=dom0")
    machines = html[html.index('id="h-r-machines"') :]
    name = '<span class="hostname">dom0.<wbr>harbor.<wbr>example.<wbr>org</span>'
    assert f'href="/machines/{scene.machine.hostname}/">{name}</a>' in machines
    assert '<span class="badge red">Down</span>' in machines


# --- Navigation ------------------------------------------------------------------------------


def test_every_page_has_a_menu_that_reaches_status_without_javascript(member_client, scene):
    html = machine_page(member_client, scene)
    menu = html[html.index('<details class="menu">') : html.index("</details>")]
    for link in ["/machines/", "/incidents/", "/sites/", "/people/", "/runbooks/", "/backups/", "/search/"]:
        assert f'href="{link}"' in menu, link
    assert re.search(r'href="/status/"[^>]*>Status</a>', menu)
    assert menu.index('href="/machines/"') < menu.index('href="/runbooks/"')  # the most used first
