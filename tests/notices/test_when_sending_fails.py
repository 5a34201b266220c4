"""What keeps owner notices honest when something is off: the web request never waits for the mail
server (a worker sends), a mail server that is down is retried with backoff and then reported on
the timeline, and nothing is ever sent twice: not by a duplicated task, not after a dead worker."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import TimelineEntry
from notices import sending
from notices.models import OwnerNotice
from notices.tasks import sweep

from ..peers import Mailbox
from .conftest import press

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db

EMAILS = 4


def backoff_over():
    """Sends run on the real clock: move the retry time back, not the clock on."""
    OwnerNotice.objects.filter(status=OwnerNotice.Status.RETRYING).update(next_attempt_at=timezone.now())


def test_the_press_only_queues_the_notices_and_a_worker_sends_them(
    published, operator_client, mailbox, webhook, django_capture_on_commit_callbacks, sends_run_at_once
):
    response, said, callbacks = press(operator_client, published, django_capture_on_commit_callbacks, execute=False)

    assert response.status_code == 302 and said[0].startswith("Telling 3 owners")
    assert set(OwnerNotice.objects.values_list("status", "attempts")) == {("queued", 0)}
    assert not mailbox.messages and not webhook.posts, "the web request sent nothing itself"
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    assert len(mailbox.wait_for(EMAILS)) == EMAILS and len(webhook.posts) == 1


@pytest.mark.usefixtures("sends_run_at_once")
def test_a_mail_server_that_is_down_is_retried_then_reported_and_nothing_is_sent_twice(
    published, operator_client, mailbox, webhook, django_capture_on_commit_callbacks, settings
):
    mailbox.stop()
    press(operator_client, published, django_capture_on_commit_callbacks)

    mail = OwnerNotice.objects.filter(channel="email")
    assert set(mail.values_list("status", "attempts")) == {("retrying", 1)}
    first = mail.first()
    assert "mail server" in first.last_error
    assert timedelta(seconds=25) < first.next_attempt_at - timezone.now() <= timedelta(seconds=30)
    assert OwnerNotice.objects.get(channel="json").status == "sent", "one channel failing holds up no other"
    for _ in range(settings.ALERT_SEND_ATTEMPTS - 1):
        backoff_over()
        with django_capture_on_commit_callbacks(execute=True):
            sweep()

    assert set(mail.values_list("status", "attempts")) == {("failed", settings.ALERT_SEND_ATTEMPTS)}
    failures = list(
        published.timeline.filter(kind=TimelineEntry.Kind.OWNERS_TOLD, body__startswith="Could not reach")
        .order_by("body")
        .values_list("body", flat=True)
    )
    assert len(failures) == EMAILS
    assert failures[0].startswith("Could not reach Blog Club at bea@blog.example.org: the mail server did not take it")
    assert failures[0].endswith(f"gave up after {settings.ALERT_SEND_ATTEMPTS} attempts.")
    # The mail server is back: nothing given up is sent after all, whoever sweeps.
    again = Mailbox().start()
    settings.EMAIL_PORT = again.port
    try:
        with django_capture_on_commit_callbacks(execute=True):
            sweep(timezone.now() + timedelta(hours=1))
        assert not again.messages
    finally:
        again.stop()


@pytest.mark.usefixtures("sends_run_at_once")
def test_a_mail_server_back_before_the_last_attempt_delivers_each_email_once(
    published, operator_client, mailbox, django_capture_on_commit_callbacks, settings
):
    mailbox.stop()
    press(operator_client, published, django_capture_on_commit_callbacks)
    again = Mailbox().start()
    settings.EMAIL_PORT = again.port
    try:
        backoff_over()
        with django_capture_on_commit_callbacks(execute=True):
            sweep()
            sweep()
        assert sorted(address for m in again.wait_for(EMAILS) for address in m["to"]) == sorted(
            OwnerNotice.objects.filter(channel="email").values_list("address", flat=True)
        )
        assert set(OwnerNotice.objects.values_list("status", flat=True)) == {"sent"}
    finally:
        again.stop()


def test_a_duplicated_task_sends_nothing(published, operator, mailbox, django_capture_on_commit_callbacks):
    from notices.owners import notify_owners

    with django_capture_on_commit_callbacks(execute=False):
        notify_owners(published, by=operator)
    notice = OwnerNotice.objects.filter(channel="email").first()

    assert sending.send(notice.pk) == OwnerNotice.Status.SENT
    assert sending.send(notice.pk) is None
    assert len(mailbox.to(notice.address)) == 1


def test_a_notice_a_dead_worker_left_sending_is_failed_not_sent_again(
    published, operator, mailbox, django_capture_on_commit_callbacks, settings
):
    from notices.owners import notify_owners

    with django_capture_on_commit_callbacks(execute=False):
        notify_owners(published, by=operator)
    notice = OwnerNotice.objects.filter(channel="email").first()
    # A worker claimed it, then died before recording anything.
    OwnerNotice.objects.filter(pk=notice.pk).update(
        status=OwnerNotice.Status.SENDING, attempts=1, next_attempt_at=timezone.now()
    )

    sweep(timezone.now() + timedelta(seconds=1))

    notice.refresh_from_db()
    assert notice.status == OwnerNotice.Status.FAILED
    assert sending.send(notice.pk) is None and not mailbox.to(notice.address)
    assert published.timeline.filter(body__contains="the worker stopped while sending it").exists()


@pytest.mark.usefixtures("sends_run_at_once")
def test_a_notice_for_an_incident_taken_off_the_status_page_is_not_sent(
    published, operator, mailbox, django_capture_on_commit_callbacks
):
    from notices.owners import notify_owners

    with django_capture_on_commit_callbacks(execute=False) as queued:
        notify_owners(published, by=operator)
    published.unpublish(by=operator)
    for callback in queued:
        callback()

    assert not mailbox.messages
    assert set(OwnerNotice.objects.values_list("status", "attempts")) == {("failed", 1)}
    assert published.timeline.filter(body__endswith="the incident is no longer on the status page.").count() == 5


def test_the_sweep_resends_a_notice_no_worker_picked_up(
    published, operator, mailbox, django_capture_on_commit_callbacks, sends_run_at_once
):
    from notices.owners import notify_owners

    with django_capture_on_commit_callbacks(execute=False):
        notify_owners(published, by=operator)  # the broker lost every task

    with django_capture_on_commit_callbacks(execute=True):
        assert sweep(timezone.now() + timedelta(seconds=30)) == {"resent": 0}
        assert sweep(timezone.now() + timedelta(minutes=2)) == {"resent": 5}

    assert len(mailbox.wait_for(EMAILS)) == EMAILS
    assert set(OwnerNotice.objects.values_list("status", flat=True)) == {"sent"}
