"""Story 001, replayed with Switchboard watching: the Xen host dies mid-morning. This time the checker
notices after two failed checks, opens one incident for the host that lists its guests and their
owners, emails the on-call volunteer a one-tap link — and when nobody answers, the next person. Bo
taps the link, the escalation stops, and when the host answers again the incident shows the recovery.
Real TCP services on 127.0.0.1 stand for the host and its guests, a real SMTP server takes the mail;
the clock is passed in, so "ten minutes later" takes no ten minutes."""

import contextlib
import re
from datetime import UTC, datetime, timedelta

import pytest

from alerts.models import Alert, Notification
from alerts.tasks import tick
from hosts.models import Monitor
from incidents.models import Incident
from monitors.checker import check_batch

from ..factories import make_guest, make_org
from ..monitors.test_a_host_that_stops_answering import Listener

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sends_run_at_once")]

TUESDAY_10AM = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def services():
    started = {name: Listener().start() for name in ("xen1", "wiki", "mail")}
    yield started
    for listener in started.values():
        if listener.sock is not None:
            with contextlib.suppress(OSError):
                listener.stop()


def test_story_001_the_host_dies_and_the_right_people_hear_of_it_in_order(
    xen1, outage_policy, ana, bo, mailbox, webhook, services, client, django_capture_on_commit_callbacks
):
    wiki = make_guest(name="wiki.example.org", machine=xen1, owner=make_org(name="Wiki Project"))
    mail = make_guest(name="mail.example.org", machine=xen1, owner=make_org(name="Mail Collective"))
    monitors = [
        Monitor.objects.create(
            kind="tcp", target="127.0.0.1", port=services[name].port, timeout=timedelta(seconds=1), **subject
        )
        for name, subject in (("xen1", {"machine": xen1}), ("wiki", {"guest": wiki}), ("mail", {"guest": mail}))
    ]

    def checks_at(when):
        with django_capture_on_commit_callbacks(execute=True):
            return check_batch([m.pk for m in monitors], now=when)

    def ticks_at(when):
        with django_capture_on_commit_callbacks(execute=True):
            return tick(when)

    # 10:00 everything answers. Then the host dies, and its guests with it.
    assert checks_at(TUESDAY_10AM)["up"] == 3
    for listener in services.values():
        listener.stop()

    # 10:01 one failed check each: nobody is woken for a blip.
    checks_at(TUESDAY_10AM + MINUTE)
    assert not Incident.objects.exists() and not mailbox.messages

    # 10:02 the second: one incident, the host's, listing both guests and both owners.
    checks_at(TUESDAY_10AM + 2 * MINUTE)
    incident = Incident.objects.get()
    assert incident.cause_key == f"machine:{xen1.pk}" and incident.title == "xen1.harbor.example.org is down"
    assert set(incident.affected_guests()) == {wiki, mail}
    assert {o.name for o in incident.affected_owners()} == {"Wiki Project", "Mail Collective"}

    # Ana, on call this week, gets one email (and one push) — not one per guest.
    mailbox.wait_for(1)
    assert [m["to"] for m in mailbox.messages] == [["ana@example.org"]]
    assert "Affects 2 guests of 2 owners." in mailbox.messages[0]["body"]
    assert len(webhook.posts) == 1
    assert Alert.objects.count() == 1 and Notification.objects.filter(purpose="alert").count() == 2

    # Ana sleeps through it. Ten minutes later the policy's next step alerts Bo.
    assert ticks_at(TUESDAY_10AM + 11 * MINUTE)["notified"] == 0
    assert ticks_at(TUESDAY_10AM + 12 * MINUTE)["notified"] == 1
    [to_bo] = mailbox.to("bo@example.org")
    assert "nobody acknowledged within 10 minutes, and the escalation policy alerts you next" in to_bo["body"]
    assert "the escalation policy alerts the on-call person of Core first" in mailbox.messages[0]["body"]
    link = re.search(r"https://switchboard\.example\.org(/alerts/ack/\S+/)", to_bo["body"]).group(1)

    # Bo taps the link on his phone: first a page with one button (a link scanner stops here), then the tap.
    assert "I'm on it: acknowledge" in client.get(link).content.decode()
    assert Alert.objects.get().status == Alert.Status.ACTIVE
    with django_capture_on_commit_callbacks(execute=True):
        assert "acknowledged" in client.post(link).content.decode()
    alert = Alert.objects.get()
    assert alert.status == Alert.Status.ACKNOWLEDGED and alert.acknowledged_by == bo

    # Ana, woken first, hears Bo has it; nobody else is alerted, however long the outage lasts.
    mailbox.wait_for(3)
    assert mailbox.messages[2]["to"] == ["ana@example.org"]
    assert mailbox.messages[2]["subject"] == "[Switchboard] ON IT: Bo Example has xen1.harbor.example.org is down"
    ticks_at(TUESDAY_10AM + 3 * 60 * MINUTE)
    assert len(mailbox.messages) == 3

    # 10:40 Bo brings the host back; its guests answer again; the incident resolves itself.
    for listener in services.values():
        listener.start()
    checks_at(TUESDAY_10AM + 40 * MINUTE)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    mailbox.wait_for(5)
    assert sorted(m["to"][0] for m in mailbox.messages[3:]) == ["ana@example.org", "bo@example.org"]
    assert all(m["subject"].startswith("[Switchboard] RESOLVED (was:") for m in mailbox.messages[3:])

    # The timeline tells it in order. (In the order written: the sends ran on the real clock, the checks
    # and escalation on the test's, so their `at` times do not interleave here as they do in a real outage.)
    bodies = [e.body for e in incident.timeline.order_by("pk")]
    expected_in_order = [
        "TCP 127.0.0.1:",  # the host's check failed
        "Alerting the on-call person of Core (step 1 of 2): Ana Example by email, json.",
        "Alert sent to Ana Example by email.",
        "Alerting Bo Example (step 2 of 2): Bo Example by email.",
        "Alert sent to Bo Example by email.",
        "Bo Example acknowledged the alert with the link in their email alert: escalation stopped.",
        "answers again",
        "Resolved by Switchboard",
        "News of the resolution sent to",
    ]
    position = 0
    for expected in expected_in_order:
        found = next((i for i in range(position, len(bodies)) if expected in bodies[i]), None)
        assert found is not None, f"{expected!r} missing after entry {position}: {bodies[position:]}"
        position = found + 1
