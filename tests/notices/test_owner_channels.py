"""An owner's people are reached where they take messages: an alert channel (apprise; here a json://
webhook, as a ntfy or chat bridge) gets the notice, and the stored notice never holds its URL."""

import pytest

from coop.models import ContactMethod
from notices.models import OwnerNotice
from notices.owners import recipients

from .conftest import press

pytest_plugins = ["tests.cast"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sends_run_at_once")]


def test_an_owners_alert_channel_gets_the_notice_and_the_notice_never_stores_its_url(
    published, operator_client, mailbox, webhook, django_capture_on_commit_callbacks
):
    press(operator_client, published, django_capture_on_commit_callbacks)

    [push] = webhook.posts
    assert push["json"]["title"] == "Hosting outage in Harbor Colo: Investigating"
    assert "Power is off in rack 4" in push["json"]["message"]
    assert "/status/incidents/" in push["json"]["message"]
    notice = OwnerNotice.objects.get(channel="json")
    assert notice.status == OwnerNotice.Status.SENT and notice.shown_as == "Max Example's json"
    stored = " ".join(str(value) for value in OwnerNotice.objects.values_list().get(pk=notice.pk))
    assert "127.0.0.1" not in stored and str(webhook.port) not in stored, "the alert URL is a secret"
    assert "/notices/subscribe/" not in push["json"]["message"], "a subscription is for an email address"


def test_an_address_is_told_once_however_many_times_it_is_listed(owners, webhook):
    wiki = owners["Wiki Project"]
    wen = wiki.people.get()
    ContactMethod.objects.create(person=wen, kind="other", value="push", alert_url=webhook.url("wen"), priority=3)
    ContactMethod.objects.create(
        person=wen, kind="matrix", value="@wen:example.org", alert_url=webhook.url("wen"), priority=4
    )

    found = [(r.channel, r.address) for r in recipients(wiki)]

    assert found[:2] == [("email", "ops@wiki.example.org"), ("email", "wen@wiki.example.org")]
    assert len(found) == 3 and found[2][0] == "json", "the same push URL twice is one recipient"


def test_a_contact_method_that_takes_no_messages_is_left_out(owners):
    bea = owners["Blog Club"].people.get()
    bea.contact_methods.update(gets_alerts=False)

    assert recipients(owners["Blog Club"]) == []
