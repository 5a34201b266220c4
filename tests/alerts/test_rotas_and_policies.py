"""Who is on call, in the admin and in a volunteer's calendar; and what the admin refuses: a rota with
nobody in it, a policy that would alert in a tight loop, an alert URL that does not parse, a monitor
target that is not a host. Each is refused with a message saying what to do, and nothing is saved."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from icalendar import Calendar

from alerts.models import CalendarFeed, EscalationPolicy, EscalationStep, Rota, RotaOverride
from coop.models import ContactMethod
from hosts.models import Monitor

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db

MONDAY_9AM = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_shifts_hand_over_at_the_handoff_time_in_order(core_rota, ana, bo):
    assert core_rota.on_call(MONDAY_9AM) == ana
    assert core_rota.on_call(MONDAY_9AM + timedelta(days=6, hours=23, minutes=59)) == ana
    assert core_rota.on_call(MONDAY_9AM + timedelta(days=7)) == bo
    assert core_rota.on_call(MONDAY_9AM + timedelta(days=14)) == ana
    # Before the rota's first shift, nobody is on call from it.
    assert core_rota.on_call(MONDAY_9AM - timedelta(minutes=1)) is None


def test_im_away_this_week_bo_covers(core_rota, ana, bo):
    RotaOverride.objects.create(
        rota=core_rota,
        person=bo,
        starts_at=MONDAY_9AM + timedelta(days=2),
        ends_at=MONDAY_9AM + timedelta(days=4),
        reason="Ana at a conference",
    )

    assert core_rota.on_call(MONDAY_9AM + timedelta(days=1)) == ana
    assert core_rota.on_call(MONDAY_9AM + timedelta(days=3)) == bo
    assert core_rota.on_call(MONDAY_9AM + timedelta(days=5)) == ana
    shifts = core_rota.shifts(MONDAY_9AM, MONDAY_9AM + timedelta(days=7))
    assert [(p.name, start.day, end.day) for p, start, end in shifts] == [
        ("Ana Example", 30, 2),
        ("Bo Example", 2, 4),
        ("Ana Example", 4, 7),
    ]


def test_a_rota_and_each_volunteer_have_a_secret_calendar_address(client, core_rota, ana):
    rota_feed = client.get(f"/alerts/calendar/{core_rota.calendar_token}.ics")
    feed = CalendarFeed.objects.create(person=ana)
    ana_feed = client.get(f"/alerts/calendar/{feed.token}.ics")

    assert rota_feed.status_code == 200 and rota_feed["Content-Type"].startswith("text/calendar")
    rota_events = Calendar.from_ical(rota_feed.content).walk("VEVENT")
    assert {str(e["summary"]) for e in rota_events} >= {"On call: Core (Ana Example)", "On call: Core (Bo Example)"}
    ana_events = Calendar.from_ical(ana_feed.content).walk("VEVENT")
    assert ana_events and all("Ana Example" in str(e["summary"]) for e in ana_events)
    assert all(e.decoded("dtend") - e.decoded("dtstart") == timedelta(days=7) for e in ana_events[1:-1])
    assert client.get("/alerts/calendar/not-a-token.ics").status_code == 404


def test_who_is_on_call_now_is_on_the_dashboard(member_client, core_rota):
    page = member_client.get("/").content.decode()

    assert "On call" in page and core_rota.on_call().name in page


def rota_form(**fields):
    data = {
        "name": "Weekend",
        "starts_on": "2026-11-30",
        "handoff_time": "09:00",
        "shift_length": "7 00:00:00",
        "timezone": "UTC",
        "members-TOTAL_FORMS": "1",
        "members-INITIAL_FORMS": "0",
        "members-0-position": "0",
        "members-0-person": "",
        "overrides-TOTAL_FORMS": "0",
        "overrides-INITIAL_FORMS": "0",
    }
    data.update(fields)
    return data


def test_a_rota_with_nobody_in_it_is_refused(admin_client):
    response = admin_client.post("/admin/alerts/rota/add/", rota_form())

    assert response.status_code == 200
    assert "A rota needs at least one person" in response.content.decode()
    assert not Rota.objects.filter(name="Weekend").exists()


def test_a_rota_with_someone_in_it_is_saved(admin_client, ana):
    response = admin_client.post("/admin/alerts/rota/add/", rota_form(**{"members-0-person": str(ana.pk)}))

    assert response.status_code == 302
    assert Rota.objects.get(name="Weekend").on_call(MONDAY_9AM) == ana


def policy_form(steps, repeat="2"):
    data = {
        "name": "Fast loop",
        "repeat": repeat,
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": "0",
    }
    for i, (notify, target, wait) in enumerate(steps):
        data |= {
            f"steps-{i}-position": str(i),
            f"steps-{i}-notify": notify,
            f"steps-{i}-rota": str(target.pk) if notify == "rota" else "",
            f"steps-{i}-person": str(target.pk) if notify == "person" else "",
            f"steps-{i}-wait_minutes": str(wait),
        }
    return data


def test_a_policy_that_would_alert_in_a_tight_loop_is_refused(admin_client, core_rota, bo):
    response = admin_client.post(
        "/admin/alerts/escalationpolicy/add/", policy_form([("rota", core_rota, 0), ("person", bo, 0)])
    )

    assert response.status_code == 200
    assert "that would alert people in a tight loop" in response.content.decode()
    assert not EscalationPolicy.objects.filter(name="Fast loop").exists()


def test_zero_minute_waits_are_fine_when_the_steps_run_once(admin_client, core_rota, bo):
    response = admin_client.post(
        "/admin/alerts/escalationpolicy/add/", policy_form([("rota", core_rota, 0), ("person", bo, 0)], repeat="0")
    )

    assert response.status_code == 302
    assert EscalationPolicy.objects.get(name="Fast loop").steps.count() == 2


def test_a_step_on_an_empty_rota_is_refused(admin_client):
    empty = Rota.objects.create(name="Nobody yet")

    response = admin_client.post("/admin/alerts/escalationpolicy/add/", policy_form([("rota", empty, 5)]))

    assert "The rota “Nobody yet” has nobody in it" in response.content.decode()
    assert not EscalationPolicy.objects.exists()


def test_a_step_must_name_what_it_notifies():
    with pytest.raises(ValidationError, match="Choose the rota"):
        EscalationStep(notify="rota", wait_minutes=5).clean()


@pytest.mark.parametrize(
    "url, why",
    [("ntfys//ntfy.example.org/topic", "no scheme"), ("nosuchservice://example.org/x", "“nosuchservice”")],
)
def test_an_alert_url_that_does_not_parse_is_refused(ana, url, why):
    method = ContactMethod(person=ana, kind="other", value="pager", alert_url=url)

    with pytest.raises(ValidationError) as refused:
        method.full_clean()

    assert why in str(refused.value.message_dict["alert_url"]) and "Examples: ntfys://" in str(refused.value)


def test_an_alert_url_is_stored_encrypted_and_never_shown(admin_client, ana, webhook):
    from django.db import connection

    method = ana.contact_methods.get(kind="other")
    with connection.cursor() as cursor:
        cursor.execute("SELECT alert_url FROM coop_contactmethod WHERE id = %s", [method.pk])
        stored = cursor.fetchone()[0]
    page = admin_client.get(f"/admin/coop/person/{ana.pk}/change/").content.decode()

    assert webhook.url("ana") not in stored and stored
    assert webhook.url("ana") not in page


@pytest.mark.parametrize(
    "kind, target, port",
    [("tcp", "not a host!", 22), ("ping", "http://example.org/", None), ("http", "https://", None)],
)
def test_a_monitor_target_that_is_not_a_host_or_url_is_refused(xen1, kind, target, port):
    with pytest.raises(ValidationError) as refused:
        Monitor(machine=xen1, kind=kind, target=target, port=port).full_clean()

    assert "target" in refused.value.message_dict
