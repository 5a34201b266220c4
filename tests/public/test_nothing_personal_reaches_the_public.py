"""Whatever members wrote on an incident, the public reads only what a person wrote for them:
the title, the summary, public updates and the published postmortem. No name, phone number,
email address, private note, Switchboard note, internal hostname or IP address, on any public
page, feed, badge or JSON."""

import re

import pytest
from django.core.cache import cache

from tests.scene import NOOR_PHONE, PRIVATE_NOTE, WIKI_IPV4, WIKI_IPV6

from .conftest import PRIVATE_UPDATE, PUBLIC_PAGES, PUBLIC_SUMMARY, PUBLIC_TITLE, PUBLIC_UPDATE, SWITCHBOARD_NOTE

pytestmark = pytest.mark.django_db

NEVER = [
    NOOR_PHONE,
    "555 01",  # any of the scene's phone numbers
    "tel:",
    "sms:",
    "mailto:",
    PRIVATE_NOTE,
    PRIVATE_UPDATE,
    SWITCHBOARD_NOTE,
    "Ping to",
    "dom0.harbor.example.org",  # the machine's hostname
    "mail queueing",
    WIKI_IPV4,
    WIKI_IPV6,
    "198.51.100.",  # the machine's management address and its monitor's target
    "Noor Example",
    "Replace the second disk",  # an action item (it names its owner)
    "is leading the incident",
]
NAMES = re.compile(r"\b(Ines|Navarro|ines|Ada|scene-writer|Noor)\b")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
IPV4 = re.compile(r"\b\d{1,3}(\.\d{1,3}){3}\b")


def public_responses(client, incident):
    cache.clear()  # render each afresh from the data as it is now
    responses = {}
    for name, path in PUBLIC_PAGES.items():
        response = client.get(path(incident))
        assert response.status_code == 200, f"{name}: {response.status_code}"
        responses[name] = response.content.decode()
    return responses


def assert_nothing_personal(responses):
    for name, text in responses.items():
        for private in NEVER:
            assert private not in text, f"{private!r} on {name}"
        for pattern in (NAMES, EMAIL, IPV4):
            found = pattern.search(text)
            assert found is None, f"{found.group(0)!r} on {name}"


def test_no_public_response_shows_anything_personal(client, outage):
    responses = public_responses(client, outage.incident)

    assert_nothing_personal(responses)


def test_what_a_person_wrote_for_the_public_is_there(client, outage):
    responses = public_responses(client, outage.incident)

    for name in ("status", "public_incident", "status_feed", "status_json"):
        assert PUBLIC_TITLE in responses[name], name
    for name in ("public_incident", "status_feed"):
        assert PUBLIC_SUMMARY in responses[name], name
    for name in ("status", "public_incident", "public_incident_feed"):
        assert PUBLIC_UPDATE in responses[name], name
    assert ">1 down</text>" in responses["status_badge"]  # the wiki is down


def test_once_resolved_the_published_postmortem_is_shown_as_markdown_without_scripts(client, outage):
    incident = outage.incident
    incident.change_status("resolved", by=outage.ines, note="Mail flows again.")
    incident.publish_postmortem(
        "## What happened\n\nThe **mail server's** disk filled up.\n\n"
        "<script>alert('owned')</script>\n\n- [the fix](https://example.org/fix)\n",
        by=outage.ines,
    )

    responses = public_responses(client, incident)

    assert_nothing_personal(responses)
    page = responses["public_incident"]
    assert "<h2>What happened</h2>" in page
    assert "<strong>mail server&#x27;s</strong>" in page or "<strong>mail server's</strong>" in page
    assert 'href="https://example.org/fix"' in page
    assert "alert(" not in page and "<script>alert" not in page
    assert "Mail flows again." in page  # her resolution note was public: the incident is


def test_a_postmortem_not_yet_published_stays_with_members(client, outage):
    incident = outage.incident
    incident.resolve(by=outage.ines)
    incident.postmortem = "Draft: Noor Example forgot the key."
    incident.save(update_fields=["postmortem"])

    responses = public_responses(client, incident)

    assert "Draft:" not in responses["public_incident"]
    assert_nothing_personal(responses)


def test_a_logged_in_member_sees_the_same_public_text(client, outage, django_user_model):
    client.force_login(outage.ines)

    page = client.get(outage.incident.get_public_url()).content.decode()

    assert PUBLIC_UPDATE in page
    for private in (PRIVATE_UPDATE, SWITCHBOARD_NOTE, "dom0.harbor.example.org"):
        assert private not in page
