"""Each change the co-op lives through tells the endpoint once: the outage opening, each update, the
resolution, a monitor's flip (not every failed check), a power action's end, a backup's change of state."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from backups.models import BackupTarget
from backups.verdicts import BackupState, Verdict
from hosts.models import Monitor
from incidents import policy
from incidents.models import Incident, TimelineEntry
from monitors.checker import record
from monitors.probes import Result
from power.models import PowerAction, PowerController, PowerOutlet
from webhooks.models import WebhookDelivery, WebhookEndpoint

from ..factories import make_guest, make_machine, make_site

pytestmark = pytest.mark.django_db


def told():
    """How many deliveries of each event type were written (the task that sends them is not run here)."""
    return Counter(WebhookDelivery.objects.values_list("event_type", flat=True))


def payloads(event_type):
    return [d.payload for d in WebhookDelivery.objects.filter(event_type=event_type).order_by("pk")]


@pytest.fixture
def xen1(endpoint):
    return make_machine(hostname="xen1.harbor.example.org", site=make_site(name="Harbor Colo", slug="harbor"))


def report_down(machine, note="TCP is down: connection refused"):
    return policy.report(
        Incident.Cause.OUTAGE,
        policy.outage_key(machine),
        title=f"{machine} is down",
        note=note,
        kind=TimelineEntry.Kind.CHECK_FAILED,
        machines=[machine],
    )[0]


# --- Incidents ---------------------------------------------------------------------------------


def test_an_outage_opening_is_told_once_and_joining_it_is_an_update(xen1):
    incident = report_down(xen1)
    assert told() == {"incident.opened": 1}

    report_down(xen1, note="Ping is down too")

    assert told() == {"incident.opened": 1, "incident.updated": 1}
    [update] = payloads("incident.updated")
    assert update["data"]["id"] == incident.pk
    assert update["data"]["entry"]["body"] == "Ping is down too"
    assert update["data"]["entry"]["kind"] == "check_failed"


def test_a_person_opening_an_incident_is_told_once(xen1, operator):
    policy.open_by_person(title="Moving the rack on Saturday", by=operator, machines=[xen1])

    assert told() == {"incident.opened": 1}
    assert payloads("incident.opened")[0]["data"]["machines"] == ["xen1.harbor.example.org"]


def test_each_update_and_status_change_is_told_once(xen1, operator):
    incident = report_down(xen1)

    incident.post_update("The PDU is being checked.", by=operator)
    incident.change_status(Incident.Status.IDENTIFIED, by=operator)
    incident.change_status(Incident.Status.IDENTIFIED, by=operator)  # no change: nothing said
    incident.take_lead(by=operator)

    assert told() == {"incident.opened": 1, "incident.updated": 3}


def test_resolving_is_told_once_and_is_not_also_an_update(xen1, operator):
    incident = report_down(xen1)

    incident.resolve(by=operator, note="The PDU outlet was loose.")
    incident.resolve(by=operator)  # a second press
    Incident.objects.get(pk=incident.pk).save()  # a save that changes nothing

    assert told() == {"incident.opened": 1, "incident.resolved": 1}
    [resolved] = payloads("incident.resolved")
    assert resolved["data"]["status"] == "resolved" and resolved["data"]["resolved_at"]


def test_resolving_through_the_status_and_reopening(xen1, operator):
    incident = report_down(xen1)

    incident.change_status(Incident.Status.RESOLVED, by=operator)
    incident.change_status(Incident.Status.INVESTIGATING, by=operator)  # reopened: it has news again

    assert told() == {"incident.opened": 1, "incident.resolved": 1, "incident.updated": 1}


def test_switchboard_telling_people_is_not_news(xen1):
    incident = report_down(xen1)

    incident.note("Alert sent to Ana by email.", kind=TimelineEntry.Kind.ALERT_SENT)
    incident.note("Told the owners.", kind=TimelineEntry.Kind.OWNERS_TOLD)

    assert told() == {"incident.opened": 1}


def test_an_endpoint_gets_only_the_events_it_asked_for(xen1, endpoint, receiver):
    endpoint.events = ["incident.resolved"]
    endpoint.save()
    WebhookEndpoint.objects.create(name="Pager bridge", url=receiver.url, events=["incident.opened"])

    report_down(xen1).resolve()

    rows = WebhookDelivery.objects.values_list("endpoint__name", "event_type").order_by("pk")
    assert list(rows) == [("Pager bridge", "incident.opened"), ("Ops chat", "incident.resolved")]


def test_nobody_listening_writes_nothing(xen1, endpoint):
    endpoint.delete()

    report_down(xen1).resolve()

    assert not WebhookDelivery.objects.exists()


# --- Monitors -----------------------------------------------------------------------------------


def check(monitor, ok, error="connection refused"):
    """One round of the checker for this monitor, with the result a probe would have found."""
    fresh = Monitor.objects.select_related("machine", "guest__machine", "status").get(pk=monitor.pk)
    record([fresh], [Result(ok=ok, latency_ms=3.0 if ok else None, error="" if ok else error)], now=timezone.now())


def test_a_monitor_is_told_down_on_the_flip_not_on_every_failed_check(xen1):
    monitor = Monitor.objects.create(machine=xen1, kind="tcp", target="192.0.2.10", port=22, down_after=2)
    check(monitor, ok=True)  # unknown → up: its first check, not news
    assert told() == {}

    check(monitor, ok=False)  # one failure: not down yet
    assert told() == {}
    check(monitor, ok=False)  # the second in a row: down
    check(monitor, ok=False)
    check(monitor, ok=False)
    assert told()["monitor.down"] == 1

    check(monitor, ok=True)
    check(monitor, ok=True)
    assert told()["monitor.up"] == 1
    assert told()["monitor.down"] == 1

    down, up = payloads("monitor.down")[0]["data"], payloads("monitor.up")[0]["data"]
    assert (down["state"], down["previous_state"], down["error"]) == ("down", "up", "connection refused")
    assert down["name"] == "TCP 192.0.2.10:22"
    assert down["machine"] == {
        "id": xen1.pk,
        "hostname": "xen1.harbor.example.org",
        "url": "https://switchboard.example.org/machines/xen1.harbor.example.org/",
    }
    assert (up["state"], up["previous_state"]) == ("up", "down")


def test_a_guests_monitor_names_the_guest(xen1):
    wiki = make_guest(name="wiki.example.org", machine=xen1)
    monitor = Monitor.objects.create(guest=wiki, kind="http", target="https://wiki.example.org/", down_after=1)

    check(monitor, ok=False, error="HTTP 502")

    [down] = payloads("monitor.down")
    assert down["data"]["guest"]["name"] == "wiki.example.org"
    assert "machine" not in down["data"]


# --- Power actions ----------------------------------------------------------------------------------


@pytest.fixture
def outlet(xen1):
    pdu = PowerController.objects.create(
        name="pdu-harbor-1",
        site=xen1.site,
        driver="apc_snmp",
        snmp_version="2c",
        host="192.0.2.20",
        secret="pdu-community-secret-9",
    )
    return PowerOutlet.objects.create(controller=pdu, number=4, machine=xen1, label="PSU A")


def ask_for(outlet, operator, operation="cycle"):
    action, created = PowerAction.request(outlet=outlet, operation=operation, reason="frozen, no ping", by=operator)
    assert created
    return action


def test_a_power_action_finishing_is_told_once(outlet, operator):
    action = ask_for(outlet, operator)
    assert told() == {}  # asking is not finishing

    assert action.claim()
    assert action.finish(succeeded=True, result="off → on", state_after="on")
    assert not action.finish(succeeded=False, error="too late")  # already recorded: nothing more

    assert told() == {"power_action.finished": 1}
    [finished] = payloads("power_action.finished")
    data = finished["data"]
    assert (data["id"], data["operation"], data["state"], data["outcome"]) == (
        action.pk,
        "cycle",
        "succeeded",
        "off → on",
    )
    assert data["target"] == "pdu-harbor-1 outlet 4"
    assert data["machine"]["hostname"] == "xen1.harbor.example.org"
    assert data["url"] == f"https://switchboard.example.org/machines/xen1.harbor.example.org/power/{action.pk}/"
    assert "pdu-community-secret-9" not in str(finished)


def test_a_cancelled_power_action_is_told_as_failed(outlet, operator):
    action = ask_for(outlet, operator)

    assert action.cancel(by=operator, reason="asked by mistake")

    [finished] = payloads("power_action.finished")
    assert finished["data"]["state"] == "failed"
    assert finished["data"]["outcome"].startswith("Cancelled by")


def test_two_actions_on_one_machine_are_each_told_once(outlet, operator):
    first = ask_for(outlet, operator, "off")
    first.claim()
    first.finish(succeeded=True, result="off")
    second = ask_for(outlet, operator, "on")
    second.claim()
    second.finish(succeeded=True, result="on")

    assert [p["data"]["id"] for p in payloads("power_action.finished")] == [first.pk, second.pk]


# --- Backups ----------------------------------------------------------------------------------------


def test_a_backup_target_changing_state_is_told_once_per_change(xen1):
    target = BackupTarget.objects.create(
        name="xen1 nightly", kind="s3", bucket="coop-backups", machine=xen1, secret_access_key="s3-secret-key-77"
    )
    now = timezone.now()

    target.record(Verdict(BackupState.OK, "3 object(s), newest 2 h old"), now=now)
    target.record(Verdict(BackupState.OK, "3 object(s), newest 3 h old"), now=now + timedelta(hours=1))
    assert told() == {"backup.state_changed": 1}

    target.record(Verdict(BackupState.STALE, "newest 2 days old"), now=now + timedelta(days=1))
    target.record(Verdict(BackupState.STALE, "newest 3 days old"), now=now + timedelta(days=2))

    assert told()["backup.state_changed"] == 2
    assert told()["incident.opened"] == 1  # its backup incident, told as any other
    states = [(p["data"]["previous_state"], p["data"]["state"]) for p in payloads("backup.state_changed")]
    assert states == [("unknown", "ok"), ("ok", "stale")]
    latest = payloads("backup.state_changed")[-1]["data"]
    assert latest["url"] == f"https://switchboard.example.org/backups/{target.pk}/"
    assert "s3-secret-key-77" not in str(payloads("backup.state_changed"))


# --- A webhook that cannot be written -------------------------------------------------------------


def test_a_webhook_that_cannot_be_written_never_stops_the_change(xen1, monkeypatch, caplog):
    from webhooks import events

    def broken(*args, **kwargs):
        raise RuntimeError("webhooks are broken")

    monkeypatch.setattr(events, "emit", broken)

    incident = report_down(xen1)

    assert Incident.objects.filter(pk=incident.pk, status="investigating").exists()
    assert incident.timeline.count() == 1
    assert "webhooks: _incident_entry failed" in caplog.text
