"""The story: xen1 goes down with ten guests of three owners. The operator puts the incident on the
status page, posts a public update and presses "Notify affected owners": every owner address gets
one email with what the public reads, the public link and only that owner's own guests. Pressing
again sends nothing and says so; a new public update and a press send it once more; resolving the
incident tells every owner told before that it is over."""

import pytest
from django.test import Client
from django.utils import timezone

from incidents.models import TimelineEntry
from notices.models import OwnerNotice

from .conftest import GUESTS, OWNER_ADDRESSES, SITE_URL, press

pytest_plugins = ["tests.cast"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sends_run_at_once")]


def told_entries(incident):
    return list(
        incident.timeline.filter(kind=TimelineEntry.Kind.OWNERS_TOLD, author__isnull=False).values_list(
            "body", flat=True
        )
    )


def test_each_owner_address_gets_one_email_with_the_public_link_and_only_its_own_guests(
    published, operator_client, mailbox, webhook, django_capture_on_commit_callbacks
):
    update = published.timeline.get(is_public=True, kind="note")

    response, said, _ = press(operator_client, published, django_capture_on_commit_callbacks)

    assert response.status_code == 302 and response.url == f"/incidents/{published.pk}/"
    at = f"{timezone.localtime(update.at):%H:%M}"
    assert said == [f"Telling 3 owners (5 addresses) about the update of {at}."]
    mailbox.wait_for(4)
    assert sorted(address for m in mailbox.messages for address in m["to"]) == sorted(OWNER_ADDRESSES)
    link = f"{SITE_URL}/status/incidents/{published.public_slug}/"
    for owner, addresses in {
        "Wiki Project": ["ops@wiki.example.org", "wen@wiki.example.org"],
        "Mail Collective": ["mail-team@mail.example.org"],
        "Blog Club": ["bea@blog.example.org"],
    }.items():
        for address in addresses:
            [message] = mailbox.to(address)
            body = message["body"]
            assert message["subject"] == "Hosting outage in Harbor Colo: Investigating"
            assert "Power is off in rack 4; the colo's technician is on the way." in body
            assert "A power fault in one rack" in body and link in body
            assert all(f"guest {guest}" in body for guest in GUESTS[owner])
            others = [guest for name, guests in GUESTS.items() if name != owner for guest in guests]
            assert not any(guest in body for guest in others), f"{address} was told of another owner's guests"
            assert "xen1" not in body and "TCP is down" not in body, "members' words never reach an owner"
    assert "service Bea's Blog" in mailbox.to("bea@blog.example.org")[0]["body"]
    assert not mailbox.to("hello@quiet.example.org"), "an owner the outage does not touch hears nothing"
    [push] = webhook.posts
    assert push["path"] == "/max" and "mx1.example.org" in push["json"]["message"]
    assert told_entries(published) == [f"Told 3 owners (5 addresses) about the update of {at} UTC."]
    assert OwnerNotice.objects.filter(status=OwnerNotice.Status.SENT).count() == 5
    assert Client().get(link.removeprefix(SITE_URL)).status_code == 200, "the link opens for an owner not logged in"


def test_pressing_again_sends_nothing_more_and_says_so(
    published, operator_client, mailbox, webhook, django_capture_on_commit_callbacks
):
    press(operator_client, published, django_capture_on_commit_callbacks)
    first = OwnerNotice.objects.order_by("created_at").first()

    response, said, _ = press(operator_client, published, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert said == [
        f"Owners were already told about this update at {timezone.localtime(first.created_at):%H:%M}; "
        "post a new public update to tell them more."
    ]
    assert len(mailbox.wait_for(4)) == 4 and len(webhook.posts) == 1
    assert OwnerNotice.objects.count() == 5 and len(told_entries(published)) == 1


def test_a_new_public_update_and_a_press_tell_every_owner_once_more(
    published, operator, operator_client, mailbox, webhook, django_capture_on_commit_callbacks
):
    press(operator_client, published, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        published.post_update("Power is back; the guests are booting.", by=operator, public=True)

    response, said, _ = press(operator_client, published, django_capture_on_commit_callbacks)
    press(operator_client, published, django_capture_on_commit_callbacks)

    assert said[0].startswith("Telling 3 owners (5 addresses)")
    mailbox.wait_for(8)
    for address in OWNER_ADDRESSES:
        bodies = [m["body"] for m in mailbox.to(address)]
        assert len(bodies) == 2 and "Power is back; the guests are booting." in bodies[1]
    assert len(webhook.posts) == 2
    assert len(told_entries(published)) == 2


def test_resolving_tells_every_owner_told_before_once(
    published, operator, operator_client, mailbox, webhook, django_capture_on_commit_callbacks
):
    press(operator_client, published, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        published.resolve(by=operator, note="Power is back and every guest answers.", summary="A PSU failed.")

    mailbox.wait_for(8)
    for address in OWNER_ADDRESSES:
        [update, resolved] = mailbox.to(address)
        assert resolved["subject"] == "Resolved: Hosting outage in Harbor Colo"
        assert "A PSU failed." in resolved["body"]
        assert f"{SITE_URL}/status/incidents/{published.public_slug}/" in resolved["body"]
    assert len(webhook.posts) == 2 and "Resolved" in webhook.posts[1]["json"]["title"]
    assert OwnerNotice.objects.filter(purpose="resolved", status="sent").count() == 5
    assert published.timeline.filter(body="Telling 3 owners (5 addresses) that it is resolved.").exists()


def test_a_reopened_incident_resolved_again_tells_its_owners_again(
    published, operator, operator_client, mailbox, django_capture_on_commit_callbacks
):
    press(operator_client, published, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        published.resolve(by=operator, note="Back.")
    published.change_status("investigating", by=operator, note="Down again.")
    with django_capture_on_commit_callbacks(execute=True):
        published.resolve(by=operator, note="Back for good.")

    assert OwnerNotice.objects.filter(purpose="resolved").count() == 10
    assert len(mailbox.wait_for(12)) == 12  # 4 updates, 4 + 4 resolutions


def test_an_incident_nobody_told_owners_about_resolves_quietly(
    published, operator, mailbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        published.resolve(by=operator, note="Back.")

    assert not OwnerNotice.objects.exists() and not mailbox.messages
