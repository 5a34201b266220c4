"""Switchboard asks people whether their contact methods still reach them, and one tap says yes.

An email address (or a channel with an alert URL) nobody confirmed within CONTACT_VERIFICATION_MAX_AGE_DAYS
gets one message with a link, at most once in CONTACT_VERIFICATION_ASK_EVERY_DAYS. Opening the link
shows a button and changes nothing (mail scanners open links); pressing it confirms. Expired, altered,
reused links and links for an address that has changed since change nothing.
"""

import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from coop import tasks, verification
from coop.models import ContactMethod

from .factories import make_person
from .peers import Mailbox

pytestmark = pytest.mark.django_db

ADDRESS = "noor@example.org"
LINK = re.compile(r"https://switchboard\.example\.org(/contacts/confirm/[^/\s]+/)")


def email(verified_days_ago=200, value=ADDRESS, **fields):
    """Noor's email address, confirmed `verified_days_ago` days ago (None: never)."""
    verified_at = None if verified_days_ago is None else timezone.now() - timedelta(days=verified_days_ago)
    person = make_person(name="Noor Example")
    return ContactMethod.objects.create(person=person, kind="email", value=value, verified_at=verified_at, **fields)


def ask(now=None):
    """The daily task, run as beat runs it (called as a function)."""
    return tasks.ask_contacts_to_confirm() if now is None else verification.ask_contacts_to_confirm(now)


def link_in(message):
    return LINK.search(message["body"]).group(1)


def sent_link(mailbox, method):
    """Ask, and return the path of the link the message to `method` carried."""
    ask()
    (message,) = mailbox.to(method.value)
    return link_in(message)


def test_an_email_nobody_confirmed_for_months_gets_one_message_with_a_link(mailbox):
    method = email(verified_days_ago=200)

    assert ask() == {"asked": 1, "failed": 0, "left": 0}

    (message,) = mailbox.messages
    assert message["to"] == [ADDRESS]
    assert message["subject"] == "Does this still reach you? (Switchboard)"
    assert ADDRESS in message["body"] and "Hello Noor Example" in message["body"]
    assert link_in(message).startswith("/contacts/confirm/")
    method.refresh_from_db()
    assert method.verification_requested_at is not None
    assert method.is_stale()  # asking is not confirming


def test_a_second_run_the_same_day_sends_nothing(mailbox):
    method = email(verified_days_ago=200)
    ask()

    assert ask() == {"asked": 0, "failed": 0, "left": 0}
    assert method.claim_confirmation_request() is False  # nor does a run racing the first one

    assert len(mailbox.messages) == 1


def test_an_unconfirmed_address_is_asked_again_after_two_weeks_and_only_the_new_link_works(mailbox, client):
    method = email(verified_days_ago=200)
    first = sent_link(mailbox, method)

    later = timezone.now() + timedelta(days=14)
    assert ask(now=later)["asked"] == 1

    second = link_in(mailbox.messages[1])
    assert second != first
    response = client.get(first)
    assert response.status_code == 410 and "This link has expired" in response.content.decode()
    assert client.get(second).status_code == 200


def test_a_contact_confirmed_lately_gets_no_message(mailbox):
    email(verified_days_ago=10)
    # Nor a phone number with no alert URL: Switchboard cannot send there.
    phone = ContactMethod.objects.create(person=make_person(), kind="phone", value="+1 555 0100", verified_at=None)

    assert ask()["asked"] == 0

    assert mailbox.messages == []
    phone.refresh_from_db()
    assert phone.verification_requested_at is None


def test_a_channel_with_an_alert_url_is_asked_through_it(webhook, settings):
    settings.SITE_URL = "https://switchboard.example.org"
    method = ContactMethod.objects.create(
        person=make_person(), kind="matrix", value="@noor:example.org", alert_url=webhook.url("noor"), verified_at=None
    )

    assert ask()["asked"] == 1

    (post,) = webhook.posts
    assert post["path"].startswith("/noor")
    assert "@noor:example.org" in post["json"]["message"]
    assert LINK.search(post["json"]["message"])
    method.refresh_from_db()
    assert method.verification_requested_at is not None


def test_opening_the_link_shows_a_button_and_changes_nothing(mailbox, client):
    method = email(verified_days_ago=200)
    link = sent_link(mailbox, method)
    method.refresh_from_db()
    before = (method.verified_at, method.verification_requested_at)

    response = client.get(link)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<form method="post">' in html and "Yes, noor@example.org still reaches me" in html
    assert "Noor Example" not in html  # the link shows the value it confirms, nothing more
    method.refresh_from_db()
    assert (method.verified_at, method.verification_requested_at) == before


def test_pressing_the_button_confirms_the_address(mailbox, client):
    method = email(verified_days_ago=200)
    link = sent_link(mailbox, method)

    response = client.post(link)

    assert response.status_code == 200 and "Thank you: confirmed." in response.content.decode()
    method.refresh_from_db()
    assert timezone.now() - method.verified_at < timedelta(minutes=1)
    assert not method.is_stale()
    assert method.verification_requested_at is None
    assert method.history.latest().verified_at == method.verified_at  # on the contact's change history


def test_the_confirm_button_needs_the_pages_csrf_token(mailbox):
    method = email(verified_days_ago=200)
    link = sent_link(mailbox, method)

    response = Client(enforce_csrf_checks=True).post(link)

    assert response.status_code == 403
    method.refresh_from_db()
    assert method.is_stale()


def test_a_used_link_says_already_confirmed_and_confirms_nothing_again(mailbox, client):
    method = email(verified_days_ago=200)
    link = sent_link(mailbox, method)
    client.post(link)
    method.refresh_from_db()
    confirmed_at = method.verified_at

    response = client.post(link)

    html = response.content.decode()
    assert response.status_code == 200
    assert f"Already confirmed on {timezone.localtime(confirmed_at):%-d %B %Y}" in html
    assert "<form" not in html
    method.refresh_from_db()
    assert method.verified_at == confirmed_at
    assert client.get(link).status_code == 200  # and so says the page when opened again


def test_an_expired_link_is_refused_and_changes_nothing(mailbox, client):
    method = email(verified_days_ago=200)
    fifteen_days_ago = timezone.now() - timedelta(days=15)
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 15 * 86400):
        ask(now=fifteen_days_ago)
    link = link_in(mailbox.messages[0])

    response = client.post(link)

    html = response.content.decode()
    assert response.status_code == 410
    assert "This link has expired" in html and "Ask a co-op admin" in html and "wait for the next message" in html
    method.refresh_from_db()
    assert method.is_stale()


def test_an_altered_link_is_refused_and_changes_nothing(mailbox, client):
    method = email(verified_days_ago=200)
    link = sent_link(mailbox, method)
    token = link.split("/")[-2]
    altered = f"/contacts/confirm/{token[:-3]}{'aaa' if not token.endswith('aaa') else 'bbb'}/"

    response = client.post(altered)

    assert response.status_code == 400 and "This link is not valid" in response.content.decode()
    method.refresh_from_db()
    assert method.is_stale()


def test_a_link_for_an_address_that_changed_since_is_refused(mailbox, client):
    method = email(verified_days_ago=200)
    link = sent_link(mailbox, method)
    method.value = "noor@new.example.org"
    method.save()

    get, post = client.get(link), client.post(link)

    for response in (get, post):
        html = response.content.decode()
        assert response.status_code == 410 and "This link is out of date" in html
        assert "noor@new.example.org" not in html
    method.refresh_from_db()
    assert method.is_stale()


def test_when_the_mail_server_is_down_nobody_is_asked_and_the_next_days_run_asks(mailbox, settings):
    method = email(verified_days_ago=200)
    mailbox.stop()

    assert ask() == {"asked": 0, "failed": 1, "left": 0}

    method.refresh_from_db()
    assert ask(timezone.now() + timedelta(hours=1))["asked"] == 0  # not again within the day
    back = Mailbox().start()  # the mail server is back (on another port)
    try:
        settings.EMAIL_PORT = back.port
        assert ask(timezone.now() + timedelta(days=1))["asked"] == 1
        assert len(back.to(ADDRESS)) == 1
    finally:
        back.stop()


def test_a_channel_that_always_fails_does_not_keep_the_others_from_being_asked(mailbox, settings, monkeypatch):
    monkeypatch.setattr(verification, "BATCH", 1)
    broken = email(verified_days_ago=400)
    ContactMethod.objects.filter(pk=broken.pk).update(value="broken@example.org")
    real_deliver = verification.deliver

    def deliver(method, *message):
        if method.value == "broken@example.org":
            raise verification.DeliveryError("550 no such mailbox")
        return real_deliver(method, *message)

    monkeypatch.setattr(verification, "deliver", deliver)
    ok = email(verified_days_ago=200)

    assert ask()["failed"] == 1
    # The next day the broken one waits behind the one never asked.
    assert ask(timezone.now() + timedelta(days=1))["asked"] == 1
    ok.refresh_from_db()
    assert ok.verification_requested_at is not None
