"""People pages: how to reach someone, what they can get into and what they look after."""

import pytest

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


def test_a_persons_page_has_tap_to_call_links_and_their_local_time(member_client, scene):
    html = member_client.get(f"/people/{scene.noor.pk}/").content.decode()
    assert 'href="tel:+15550142"' in html and 'href="sms:+15550142"' in html
    assert 'href="mailto:noor@example.org"' in html
    assert "America/Los_Angeles" in html
    assert 'href="/sites/harbor-colo/"' in html  # can get into
    assert 'href="/machines/dom0.harbor.example.org/"' in html  # admin of
    assert 'href="/guests/wiki.example.org/"' in html  # contact for


def test_the_people_list_can_show_only_those_whose_contacts_need_checking(member_client, scene):
    html = member_client.get("/people/", {"contacts": "stale"}).content.decode()
    assert "Volunteer 0" in html
    everyone = member_client.get("/people/").content.decode()
    assert "Noor Example" in everyone and "Volunteer 0" in everyone


def test_an_unknown_person_is_a_404(member_client, scene):
    assert member_client.get("/people/999999/").status_code == 404


def test_site_page_lists_who_can_get_in_with_current_access_only(member_client, scene):
    from datetime import date

    from coop.models import Person, SiteAccess

    former = Person.objects.create(name="Former Volunteer")
    SiteAccess.objects.create(person=former, site=scene.site, valid_until=date(2020, 1, 1))
    html = member_client.get(f"/sites/{scene.site.slug}/").content.decode()
    assert "Noor Example" in html and "Call the badge desk" in html
    assert 'href="tel:+15550100"' in html  # the number in the access procedure is tappable
    assert "Former Volunteer" not in html


def test_organisation_page_lists_its_guests_and_people(member_client, scene):
    html = member_client.get(f"/organizations/{scene.wiki_owner.slug}/").content.decode()
    assert 'href="/guests/wiki.example.org/"' in html
    assert "half rack" in html  # a contract it pays for
