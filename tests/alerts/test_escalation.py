"""Xen1 goes down on a Tuesday morning of Ana's week on call. Switchboard alerts Ana at once, waits ten
minutes, then alerts Bo; once somebody acknowledges, nobody else is woken; when it is fixed, everyone
who was alerted hears so. Time is passed in, so "ten minutes later" is exact; the messages go to a real
SMTP server and a real webhook on 127.0.0.1."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from alerts import escalation
from alerts.models import Alert, EscalationPolicy, Notification
from alerts.tasks import tick
from incidents import policy
from incidents.models import Incident, MaintenanceWindow, TimelineEntry

pytest_plugins = ["tests.cast"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sends_run_at_once")]

TUESDAY_10AM = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def xen1_goes_down(xen1, capture, at=TUESDAY_10AM):
    with capture(execute=True):
        incident, opened = policy.report(
            Incident.Cause.OUTAGE,
            policy.outage_key(xen1),
            title=f"{xen1} is down",
            note="TCP 127.0.0.1:22 is down: connection refused",
            kind=TimelineEntry.Kind.CHECK_FAILED,
            machines=[xen1],
            at=at,
        )
    return incident


def timeline(incident):
    return [entry.body for entry in incident.timeline.order_by("at", "pk")]


def test_the_on_call_person_is_alerted_at_once_by_email_and_push(
    xen1, outage_policy, mailbox, webhook, django_capture_on_commit_callbacks
):
    incident = xen1_goes_down(xen1, django_capture_on_commit_callbacks)

    alert = Alert.objects.get(incident=incident)
    assert alert.status == Alert.Status.ACTIVE
    assert alert.next_step_at == TUESDAY_10AM + timedelta(minutes=10)
    [mail] = mailbox.wait_for(1)
    assert mail["to"] == ["ana@example.org"]
    assert mail["subject"] == "[Switchboard] DOWN: xen1.harbor.example.org is down"
    assert "https://switchboard.example.org/alerts/ack/" in mail["body"]
    assert f"https://switchboard.example.org/incidents/{incident.pk}/" in mail["body"]
    [push] = webhook.posts
    assert push["path"].startswith("/ana") and "xen1.harbor.example.org is down" in push["json"]["title"]
    assert "/alerts/ack/" in push["json"]["message"]
    story = timeline(incident)
    assert any("Alerting the on-call person of Core (step 1 of 2): Ana Example by email, json" in s for s in story)
    assert sum("Alert sent to Ana Example" in s for s in story) == 2
    assert not mailbox.to("bo@example.org")


def test_nobody_acknowledges_so_the_next_step_alerts_bo_ten_minutes_later(
    xen1, outage_policy, mailbox, django_capture_on_commit_callbacks
):
    incident = xen1_goes_down(xen1, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        assert tick(TUESDAY_10AM + timedelta(minutes=9, seconds=59))["notified"] == 0
    assert not mailbox.to("bo@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        assert tick(TUESDAY_10AM + timedelta(minutes=10))["notified"] == 1  # Bo's phone number takes no alerts
    mailbox.wait_for(2)
    assert [m["to"] for m in mailbox.messages] == [["ana@example.org"], ["bo@example.org"]]
    assert Alert.objects.get(incident=incident).status == Alert.Status.ACTIVE
    # repeat=0 and that was the last step: once its wait is over, Switchboard says so instead of going quiet.
    with django_capture_on_commit_callbacks(execute=True):
        assert tick(TUESDAY_10AM + timedelta(minutes=20))["notified"] == 0
    assert Alert.objects.get(incident=incident).status == Alert.Status.EXHAUSTED
    assert any("Nobody acknowledged the alert after every step" in entry for entry in timeline(incident))


def test_a_stale_or_duplicated_escalation_task_alerts_nobody_twice(
    xen1, outage_policy, mailbox, django_capture_on_commit_callbacks
):
    incident = xen1_goes_down(xen1, django_capture_on_commit_callbacks)
    alert = Alert.objects.get(incident=incident)
    later = TUESDAY_10AM + timedelta(minutes=10)

    with django_capture_on_commit_callbacks(execute=True):
        first = escalation.escalate(alert.pk, alert.token, now=later)
        duplicate = escalation.escalate(alert.pk, alert.token, now=later)
        stale = escalation.escalate(alert.pk, "00000000-0000-0000-0000-000000000000", now=later + timedelta(hours=1))

    assert len(first) == 1 and duplicate == [] and stale == []
    mailbox.wait_for(2)
    assert len(mailbox.to("bo@example.org")) == 1
    assert Notification.objects.filter(person__name="Bo Example").count() == 1


def test_the_policy_is_frozen_when_the_alert_starts(
    xen1, outage_policy, cy, mailbox, django_capture_on_commit_callbacks
):
    incident = xen1_goes_down(xen1, django_capture_on_commit_callbacks)
    # Mid-outage, someone edits the policy: step 2 now goes to Cy. This alert keeps the steps it started with.
    step = outage_policy.steps.get(position=2)
    step.person = cy
    step.save()

    with django_capture_on_commit_callbacks(execute=True):
        tick(TUESDAY_10AM + timedelta(minutes=10))

    mailbox.wait_for(2)
    assert mailbox.to("bo@example.org") and not mailbox.to("cy@example.org")
    assert Alert.objects.get(incident=incident).steps[1]["person"] != cy.pk


def test_acknowledging_stops_the_escalation_and_says_who(
    xen1, outage_policy, ana, mailbox, django_capture_on_commit_callbacks
):
    incident = xen1_goes_down(xen1, django_capture_on_commit_callbacks)
    alert = Alert.objects.get(incident=incident)
    old_token = alert.token

    alert, acknowledged = escalation.acknowledge(
        alert, person=ana, via="by phone", now=TUESDAY_10AM + timedelta(minutes=3)
    )
    with django_capture_on_commit_callbacks(execute=True):
        tick(TUESDAY_10AM + timedelta(hours=2))

    assert acknowledged and alert.status == Alert.Status.ACKNOWLEDGED and alert.token != old_token
    assert alert.acknowledged_by == ana and alert.acknowledged_at == TUESDAY_10AM + timedelta(minutes=3)
    assert not mailbox.to("bo@example.org")
    entry = incident.timeline.get(kind=TimelineEntry.Kind.ALERT_ACKNOWLEDGED)
    assert entry.body == "Ana Example acknowledged the alert by phone: escalation stopped."
    # A second acknowledgement changes nothing.
    assert escalation.acknowledge(alert, person=ana)[1] is False


def test_when_it_is_fixed_everyone_who_was_alerted_hears_it_is_over(
    xen1, outage_policy, mailbox, webhook, django_capture_on_commit_callbacks
):
    incident = xen1_goes_down(xen1, django_capture_on_commit_callbacks)
    mailbox.wait_for(1)

    with django_capture_on_commit_callbacks(execute=True):
        policy.recover(
            Incident.Cause.OUTAGE,
            incident.cause_key,
            note="TCP 127.0.0.1:22 answers again (1 ms).",
            kind=TimelineEntry.Kind.CHECK_RECOVERED,
            at=TUESDAY_10AM + timedelta(minutes=5),
        )

    mailbox.wait_for(2)
    assert mailbox.messages[-1]["subject"] == "[Switchboard] RESOLVED (was: xen1.harbor.example.org is down)"
    assert len(webhook.posts) == 2 and "resolved" in webhook.posts[-1]["json"]["message"]
    assert Alert.objects.get(incident=incident).status == Alert.Status.RESOLVED
    with django_capture_on_commit_callbacks(execute=True):
        tick(TUESDAY_10AM + timedelta(hours=1))
    assert not mailbox.to("bo@example.org")


def test_a_failing_channel_is_retried_with_backoff_then_reported_and_the_escalation_goes_on(
    xen1, outage_policy, mailbox, webhook, django_capture_on_commit_callbacks, settings
):
    webhook.status = 500
    incident = xen1_goes_down(xen1, django_capture_on_commit_callbacks)

    push = Notification.objects.get(channel="json")
    assert push.status == Notification.Status.RETRYING and push.attempts == 1
    # Sends run on the real clock: the first retry waits ALERT_RETRY_SECONDS, the next four times that.
    assert timedelta(seconds=25) < push.next_attempt_at - timezone.now() <= timedelta(seconds=30)
    # The email went out regardless: one channel failing holds up no other.
    assert mailbox.wait_for(1)[0]["to"] == ["ana@example.org"]

    waits = []
    for _ in range(settings.ALERT_SEND_ATTEMPTS - 1):
        # The backoff is over (sends run on the real clock: move the retry time back, not the clock on).
        Notification.objects.filter(pk=push.pk).update(next_attempt_at=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            tick(timezone.now())
        push.refresh_from_db()
        waits.append(push.next_attempt_at - timezone.now() if push.status == Notification.Status.RETRYING else None)
    assert timedelta(seconds=110) < waits[0] <= timedelta(seconds=120)
    assert push.status == Notification.Status.FAILED and push.attempts == settings.ALERT_SEND_ATTEMPTS
    assert len(webhook.posts) == settings.ALERT_SEND_ATTEMPTS
    failures = incident.timeline.filter(kind=TimelineEntry.Kind.ALERT_FAILED).values_list("body", flat=True)
    assert sum("trying again in" in body for body in failures) == settings.ALERT_SEND_ATTEMPTS - 1
    assert any(body.startswith("Gave up reaching Ana Example by json after 3 attempts") for body in failures)
    assert not any("127.0.0.1" in body for body in failures), "the timeline never shows an alert URL"
    with django_capture_on_commit_callbacks(execute=True):
        tick(TUESDAY_10AM + timedelta(minutes=10))
    assert mailbox.wait_for(2)[-1]["to"] == ["bo@example.org"]


def test_a_mail_server_that_is_down_is_retried_and_nothing_is_lost(
    xen1, outage_policy, mailbox, django_capture_on_commit_callbacks
):
    mailbox.stop()
    incident = xen1_goes_down(xen1, django_capture_on_commit_callbacks)

    mail = Notification.objects.get(channel="email")
    assert mail.status == Notification.Status.RETRYING and "mail server" in mail.last_error
    assert incident.timeline.filter(body__startswith="Could not reach Ana Example by email").exists()


def test_no_policy_means_the_timeline_says_nobody_was_alerted(xen1, mailbox, django_capture_on_commit_callbacks):
    incident = xen1_goes_down(xen1, django_capture_on_commit_callbacks)

    assert not Alert.objects.exists() and not mailbox.messages
    assert incident.timeline.filter(
        kind=TimelineEntry.Kind.ALERT_FAILED, body__startswith="Nobody was alerted: no escalation policy"
    ).exists()


def test_a_site_policy_wins_over_the_default(
    xen1, harbor, outage_policy, cy, mailbox, django_capture_on_commit_callbacks
):
    harbor_policy = EscalationPolicy.objects.create(name="Harbor", repeat=0)
    harbor_policy.sites.add(harbor)
    harbor_policy.steps.create(notify="site", wait_minutes=5)

    xen1_goes_down(xen1, django_capture_on_commit_callbacks)

    assert [m["to"] for m in mailbox.wait_for(1)] == [["cy@example.org"]]


def test_during_planned_maintenance_nothing_opens_and_nobody_is_alerted(
    xen1, outage_policy, mailbox, django_capture_on_commit_callbacks
):
    MaintenanceWindow.objects.create(
        machine=xen1,
        starts_at=TUESDAY_10AM - timedelta(minutes=30),
        ends_at=TUESDAY_10AM + timedelta(hours=1),
        reason="replacing the RAID controller",
    )

    incident = xen1_goes_down(xen1, django_capture_on_commit_callbacks)

    assert incident is None and not Incident.objects.exists() and not Alert.objects.exists()
    assert not mailbox.messages
    entry = xen1.timeline.get()
    assert entry.kind == TimelineEntry.Kind.MAINTENANCE
    assert "During planned maintenance (replacing the RAID controller" in entry.body
    # After the window, the same outage opens an incident and alerts as usual.
    assert xen1_goes_down(xen1, django_capture_on_commit_callbacks, at=TUESDAY_10AM + timedelta(hours=1)) is not None
    assert mailbox.wait_for(1)


def test_operators_can_say_im_on_it_and_call_in_someone_with_site_access(
    xen1, outage_policy, cy, operator, mailbox, django_capture_on_commit_callbacks
):
    incident = xen1_goes_down(xen1, django_capture_on_commit_callbacks)
    alert = Alert.objects.get(incident=incident)

    with django_capture_on_commit_callbacks(execute=True):
        reached = escalation.ask_for_site_access(alert, user=operator)

    assert [n.person for n in reached] == [cy]
    assert mailbox.wait_for(2)[-1]["to"] == ["cy@example.org"]
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACKNOWLEDGED
    assert incident.timeline.filter(body="Asked for someone with access to Harbor Colo: alerting Cy Example.").exists()
