"""Owners can subscribe to every public update about their own guests: the signed link in an owner
email opens a page with one button; after pressing it, the next public update reaches them at once,
and a "Notify affected owners" press afterwards does not send it to them again. Every such email has
a link to stop them. A tampered link is refused (400), an expired one too (410); neither changes
anything."""

import time
from unittest import mock

import pytest
from django.test import Client

from notices.links import subscribe_token, unsubscribe_token
from notices.models import OwnerNotice, OwnerSubscription

from .conftest import GUESTS, link_in, press

pytest_plugins = ["tests.cast"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sends_run_at_once")]

OPS = "ops@wiki.example.org"
BUTTON = "Email me every public update about incidents affecting Wiki Project's machines and guests"


def test_an_owner_subscribes_gets_the_next_update_once_and_can_stop_them(
    published, operator, operator_client, mailbox, django_capture_on_commit_callbacks
):
    press(operator_client, published, django_capture_on_commit_callbacks)
    subscribe = link_in(mailbox.to(OPS)[0], "subscribe")
    client = Client()  # the owner's browser, logged in nowhere: the link is the key

    page = client.get(subscribe)

    html = page.content.decode()
    assert page.status_code == 200 and BUTTON in html and OPS in html
    assert all(guest in html for guest in GUESTS["Wiki Project"])
    assert "wen@wiki.example.org" not in html and "mx1.example.org" not in html and "+1 555" not in html
    assert not OwnerSubscription.objects.exists(), "a GET changes nothing (link scanners open links)"

    done = client.post(subscribe)

    assert done.status_code == 200 and "Done." in done.content.decode()
    assert list(OwnerSubscription.objects.values_list("organization__name", "address")) == [("Wiki Project", OPS)]
    before = len(mailbox.messages)

    with django_capture_on_commit_callbacks(execute=True):
        update = published.post_update("The technician found a blown fuse.", by=operator, public=True)

    [automatic] = mailbox.messages[before:]
    assert automatic["to"] == [OPS] and "The technician found a blown fuse." in automatic["body"]
    assert published.timeline.filter(body__contains="to 1 subscribed address of 1 owner.").exists()

    _, said, _ = press(operator_client, published, django_capture_on_commit_callbacks)

    assert said[0].startswith("Telling 3 owners (4 addresses)"), said
    assert len(mailbox.to(OPS)) == 2, "the subscriber already had this update"
    assert OwnerNotice.objects.filter(entry=update, address=OPS).count() == 1

    unsubscribe = link_in(automatic, "unsubscribe")
    assert "Stop emailing" in client.get(unsubscribe).content.decode()
    assert OwnerSubscription.objects.exists()
    assert client.post(unsubscribe).status_code == 200
    assert not OwnerSubscription.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        published.post_update("Everything answers again.", by=operator, public=True)
    assert len(mailbox.to(OPS)) == 2, "no automatic update after unsubscribing"


def test_subscribing_twice_is_one_subscription(owners, client):
    link = f"/notices/subscribe/{subscribe_token(owners['Wiki Project'], OPS)}/"

    client.post(link)
    client.post(link)

    assert OwnerSubscription.objects.count() == 1


def test_an_update_reaches_only_the_subscribers_of_owners_it_affects(
    published, operator, owners, mailbox, django_capture_on_commit_callbacks
):
    OwnerSubscription.subscribe(owners["Wiki Project"], "Ops@Wiki.example.org")
    quiet = type(owners["Wiki Project"]).objects.get(name="Quiet Co.")
    OwnerSubscription.subscribe(quiet, "hello@quiet.example.org")

    with django_capture_on_commit_callbacks(execute=True):
        published.post_update("Still working on it.", by=operator, public=True)

    assert [m["to"] for m in mailbox.wait_for(1)] == [[OPS]]


def test_a_private_update_reaches_no_subscriber(
    published, operator, owners, mailbox, django_capture_on_commit_callbacks
):
    OwnerSubscription.subscribe(owners["Wiki Project"], OPS)

    with django_capture_on_commit_callbacks(execute=True):
        published.post_update("Noor has the key.", by=operator, public=False)

    assert not mailbox.messages and not OwnerNotice.objects.exists()


@pytest.mark.parametrize("kind", ["subscribe", "unsubscribe"])
def test_a_tampered_link_is_refused_and_changes_nothing(owners, client, kind):
    make = subscribe_token if kind == "subscribe" else unsubscribe_token
    token = make(owners["Wiki Project"], OPS)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    OwnerSubscription.subscribe(owners["Wiki Project"], "other@wiki.example.org")

    response = client.post(f"/notices/{kind}/{tampered}/")

    assert response.status_code == 400 and "This link is not valid" in response.content.decode()
    assert "Nothing was changed." in response.content.decode()
    assert list(OwnerSubscription.objects.values_list("address", flat=True)) == ["other@wiki.example.org"]


def test_a_link_made_for_unsubscribing_does_not_subscribe(owners, client):
    response = client.post(f"/notices/subscribe/{unsubscribe_token(owners['Wiki Project'], OPS)}/")

    assert response.status_code == 400 and not OwnerSubscription.objects.exists()


@pytest.mark.parametrize(("kind", "days"), [("subscribe", 31), ("unsubscribe", 366)])
def test_an_expired_link_is_refused_and_changes_nothing(owners, client, kind, days):
    make = subscribe_token if kind == "subscribe" else unsubscribe_token
    OwnerSubscription.subscribe(owners["Wiki Project"], OPS)
    with mock.patch("django.core.signing.time.time", return_value=time.time() - days * 86400):
        token = make(owners["Wiki Project"], "new@wiki.example.org" if kind == "subscribe" else OPS)

    response = client.post(f"/notices/{kind}/{token}/")

    assert response.status_code == 410 and "This link has expired" in response.content.decode()
    assert list(OwnerSubscription.objects.values_list("address", flat=True)) == [OPS]
