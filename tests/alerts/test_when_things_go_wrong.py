"""What keeps alerting honest when something is off: a broken alert does not stall the others, a start
that failed is tried again, shifts hand over at 09:00 through daylight saving time, an error from a
chat service never shows its secret topic, and a double tap calls nobody out twice."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from alerts import escalation, sending
from alerts.models import Alert, Notification, Rota, RotaMember, RotaOverride
from alerts.tasks import tick
from core import delivery
from incidents import policy
from incidents.models import Incident, MaintenanceWindow, TimelineEntry

from ..factories import make_machine

pytest_plugins = ["tests.cast"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sends_run_at_once")]

TUESDAY_10AM = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def goes_down(machine, capture, at=TUESDAY_10AM):
    with capture(execute=True):
        return policy.report(
            Incident.Cause.OUTAGE,
            policy.outage_key(machine),
            title=f"{machine} is down",
            note="TCP is down: connection refused",
            kind=TimelineEntry.Kind.CHECK_FAILED,
            machines=[machine],
            at=at,
        )[0]


def test_one_broken_alert_does_not_hold_up_the_others(
    xen1, harbor, outage_policy, mailbox, django_capture_on_commit_callbacks
):
    broken = goes_down(xen1, django_capture_on_commit_callbacks)
    Alert.objects.filter(incident=broken).update(steps=[{"notify": "nonsense"}], next_step_at=TUESDAY_10AM)
    other = goes_down(
        make_machine(site=harbor), django_capture_on_commit_callbacks, at=TUESDAY_10AM + timedelta(minutes=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        tick(TUESDAY_10AM + timedelta(minutes=12))

    assert Alert.objects.get(incident=other).step == 0 and Alert.objects.get(incident=other).round == 1
    assert mailbox.to("bo@example.org"), "the healthy alert's second step went out"


def test_an_alert_whose_start_failed_is_started_by_the_next_tick(
    xen1, outage_policy, mailbox, django_capture_on_commit_callbacks
):
    # Opened without its on-commit hook running (as if the process died right after the commit).
    incident = policy.report(
        Incident.Cause.OUTAGE,
        policy.outage_key(xen1),
        title="xen1 is down",
        note="down",
        kind=TimelineEntry.Kind.CHECK_FAILED,
        machines=[xen1],
        at=TUESDAY_10AM,
    )[0]
    assert not Alert.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        tick(TUESDAY_10AM + timedelta(seconds=40))

    assert Alert.objects.get(incident=incident).status == Alert.Status.ACTIVE
    assert mailbox.wait_for(1)[0]["to"] == ["ana@example.org"]


def berlin_rota(ana, bo, starts_on):
    rota = Rota.objects.create(name="Berlin", starts_on=starts_on, handoff_time=time(9, 0), timezone=BERLIN)
    RotaMember.objects.create(rota=rota, person=ana, position=1)
    RotaMember.objects.create(rota=rota, person=bo, position=2)
    return rota


def test_the_handoff_stays_at_nine_through_daylight_saving_time(ana, bo):
    winter_start = berlin_rota(ana, bo, date(2026, 1, 5))  # a Monday in CET
    # 30 March 2026 is the first Monday of summer time (CEST): week 12, so Ana's again.
    assert winter_start.on_call(datetime(2026, 3, 30, 8, 59, tzinfo=BERLIN)) == bo
    assert winter_start.on_call(datetime(2026, 3, 30, 9, 0, tzinfo=BERLIN)) == ana
    person, start, end = winter_start.shift_at(datetime(2026, 4, 6, 9, 30, tzinfo=BERLIN))
    assert person == bo and (start.hour, end.hour) == (9, 9) and start.utcoffset() == timedelta(hours=2)


def test_nobody_is_on_call_before_the_rota_starts(ana, bo):
    rota = berlin_rota(ana, bo, date(2026, 12, 7))

    assert rota.on_call(datetime(2026, 12, 6, 12, 0, tzinfo=BERLIN)) is None
    assert rota.on_call(datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)) == ana


def test_the_most_specific_override_wins(core_rota, ana, bo, cy):
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    RotaOverride.objects.create(rota=core_rota, person=bo, starts_at=monday, ends_at=monday + timedelta(days=28))
    RotaOverride.objects.create(
        rota=core_rota, person=cy, starts_at=monday + timedelta(days=1), ends_at=monday + timedelta(days=2)
    )

    assert core_rota.on_call(monday + timedelta(hours=30)) == cy
    assert core_rota.on_call(monday + timedelta(days=3)) == bo


def test_a_chat_service_error_never_puts_its_secret_topic_on_the_timeline(xen1, outage_policy, ana, webhook, mailbox):
    webhook.status = 403

    assert delivery._reason("Failed to send ntfy notification to topic 's3cret-topic-abc': forbidden, error=403.") == (
        "the service answered HTTP 403"
    )
    assert "s3cret" not in delivery._reason("Failed to send to topic 's3cret-503-topic': the server went away")


def test_the_alert_url_cannot_stretch_its_own_timeouts():
    url = delivery._with_timeouts("json://hooks.example.org/alerts?rto=600&cto=600&format=text")

    assert url == "json://hooks.example.org/alerts?format=text&cto=5&rto=10"


def test_asking_twice_for_site_access_calls_people_out_once(
    xen1, outage_policy, cy, operator, mailbox, django_capture_on_commit_callbacks
):
    incident = goes_down(xen1, django_capture_on_commit_callbacks)
    alert = Alert.objects.get(incident=incident)

    with django_capture_on_commit_callbacks(execute=True):
        first = escalation.ask_for_site_access(alert, user=operator)
        second = escalation.ask_for_site_access(alert, user=operator)

    assert len(first) == 1 and second is None
    mailbox.wait_for(3)  # Ana's alert, Cy's call-out, and Ana hearing that someone is on it
    assert len(mailbox.to("cy@example.org")) == 1


def test_site_access_is_not_asked_for_a_resolved_incident(xen1, outage_policy, cy, operator, mailbox):
    incident = goes_down(xen1, lambda execute: _null())
    alert = escalation.start(incident)
    incident.resolve(note="fixed")

    assert escalation.ask_for_site_access(Alert.objects.get(pk=alert.pk), user=operator) is None
    assert not Notification.objects.filter(purpose="site").exists()


def test_maintenance_that_starts_mid_outage_pauses_the_escalation(
    xen1, outage_policy, mailbox, django_capture_on_commit_callbacks
):
    incident = goes_down(xen1, django_capture_on_commit_callbacks)
    MaintenanceWindow.objects.create(
        machine=xen1,
        starts_at=TUESDAY_10AM + timedelta(minutes=5),
        ends_at=TUESDAY_10AM + timedelta(hours=2),
        reason="swapping the PSU",
    )

    with django_capture_on_commit_callbacks(execute=True):
        tick(TUESDAY_10AM + timedelta(minutes=10))

    assert not mailbox.to("bo@example.org")
    assert Alert.objects.get(incident=incident).next_step_at == TUESDAY_10AM + timedelta(hours=2)
    assert incident.timeline.filter(kind=TimelineEntry.Kind.MAINTENANCE).count() == 1


def test_a_retry_is_not_sent_before_its_backoff_whoever_asks(
    xen1, outage_policy, webhook, django_capture_on_commit_callbacks
):
    webhook.status = 500
    goes_down(xen1, django_capture_on_commit_callbacks)
    push = Notification.objects.get(channel="json")
    assert push.status == Notification.Status.RETRYING

    assert sending.send(push.pk, str(push.alert.token)) is None  # a duplicate task, too early
    assert len(webhook.posts) == 1


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
