"""The encryption key was lost or changed: Ana's push URL cannot be decrypted any more. She is still
alerted by email, the timeline says her push channel must be re-entered, and the escalation goes on
to Bo; nothing stops at the one unreadable secret."""

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet

from alerts.models import Alert
from alerts.tasks import tick

from .test_escalation import TUESDAY_10AM, timeline, xen1_goes_down

pytest_plugins = ["tests.cast"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sends_run_at_once")]


def test_an_unreadable_push_url_is_skipped_and_said_and_the_escalation_goes_on(
    xen1, outage_policy, mailbox, webhook, settings, django_capture_on_commit_callbacks
):
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]

    incident = xen1_goes_down(xen1, django_capture_on_commit_callbacks)

    mailbox.wait_for(1)
    assert [m["to"] for m in mailbox.messages] == [["ana@example.org"]]
    assert not webhook.posts
    assert any("Could not alert Ana Example" in e and "re-enter it" in e for e in timeline(incident))
    with django_capture_on_commit_callbacks(execute=True):
        assert tick(TUESDAY_10AM + timedelta(minutes=10))["notified"] == 1
    mailbox.wait_for(2)
    assert mailbox.messages[1]["to"] == ["bo@example.org"]
    assert Alert.objects.get(incident=incident).status == Alert.Status.ACTIVE
