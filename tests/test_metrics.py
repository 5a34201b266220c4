"""/metrics for Prometheus: off (404) without METRICS_TOKEN, 401 without the token as a bearer token,
and with it the numbers of the co-op as the database and the broker have them (front.views.ops)."""

import uuid
from datetime import timedelta

import pytest
from celery import current_app
from django.utils import timezone
from django_celery_results.models import TaskResult
from prometheus_client.parser import text_string_to_metric_families

from alerts.models import Alert, Notification
from backups.models import BackupState, BackupTarget, HeartbeatPing
from hosts.models import Monitor
from incidents.models import Incident
from notices.models import OwnerNotice
from power.models import PowerAction, PowerOutlet

from .conftest import delete_queue
from .factories import make_guest, make_org, make_pdu
from .test_settings import PRODUCTION, run_manage

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-the-tests-0123456789"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


@pytest.fixture
def test_queue(monkeypatch):
    """Celery's default queue is one of this test's own, emptied and deleted afterwards."""
    queue = f"switchboard-test-metrics-{uuid.uuid4().hex[:12]}"
    monkeypatch.setitem(current_app.conf, "task_default_queue", queue)
    yield queue
    with current_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)
    delete_queue(queue)


def scrape(client, token=TOKEN):
    return client.get("/metrics", headers={"Authorization": f"Bearer {token}"})


def samples(response):
    """{(metric, (label values...)): value} from the text format."""
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sample.labels.values()))] = sample.value
    return found


def small_coop(now):
    """Two of most things, in known states."""
    guest = make_guest()
    machine = guest.machine
    pdu = make_pdu(site=machine.site)
    outlet = PowerOutlet.objects.create(controller=pdu, number=1, machine=machine)
    for state in ("succeeded", "succeeded", "failed", "running"):
        PowerAction.objects.create(
            outlet=outlet, controller=pdu, machine=machine, operation="cycle", reason="test", state=state
        )
    nightly = BackupTarget.objects.create(name="nightly", kind="heartbeat", machine=machine, state=BackupState.OK)
    BackupTarget.objects.create(name="wal", kind="heartbeat", guest=guest, state=BackupState.FAILED)
    pings = [("start", timedelta(days=3)), ("success", timedelta(hours=2)), ("success", timedelta(minutes=10))]
    for kind, ago in [*pings, ("fail", timedelta(minutes=5))]:
        HeartbeatPing.objects.create(target=nightly, kind=kind, received_at=now - ago)
    Monitor.objects.create(machine=machine, kind="ping", target="192.0.2.1", state=Monitor.State.DOWN)
    Monitor.objects.create(guest=guest, kind="ping", target="192.0.2.2", state=Monitor.State.UP)
    Monitor.objects.create(guest=guest, kind="ping", target="192.0.2.3", state=Monitor.State.UP, is_enabled=False)
    outage = Incident.objects.create(title="host down", cause=Incident.Cause.OUTAGE)
    Incident.objects.create(title="backup late", cause=Incident.Cause.BACKUP, status=Incident.Status.MONITORING)
    Incident.objects.create(title="over", cause=Incident.Cause.OUTAGE).resolve()
    alert = Alert.objects.create(incident=outage)
    for status in ("sent", "sent", "failed"):
        Notification.objects.create(alert=alert, channel="email", status=status)
    update = outage.note("We are on it.")
    for status in ("sent", "retrying"):
        org = make_org()
        OwnerNotice.objects.create(
            incident=outage, entry=update, organization=org, address="ops@example.org", channel="email", status=status
        )
    result = TaskResult.objects.create(task_id="t1", task_name="monitors.dispatch_due_monitors")
    TaskResult.objects.filter(pk=result.pk).update(date_done=now - timedelta(seconds=30))


def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""

    assert scrape(client, token="").status_code == 404
    assert scrape(client, token="anything").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer not-the-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}"],
)
def test_metrics_refuse_a_missing_or_wrong_token(client, metrics_on, authorization):
    response = client.get("/metrics", headers={"Authorization": authorization} if authorization else {})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"switchboard_" not in response.content


def test_metrics_count_what_the_coop_has(client, metrics_on, test_queue):
    now = timezone.now()
    small_coop(now)
    for _ in range(2):
        current_app.send_task("core.worker_health")  # to the test's own default queue; no worker reads it

    response = scrape(client)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "no-store" in response["Cache-Control"]
    found = samples(response)
    expected = {
        ("switchboard_broker_up", ()): 1,
        ("switchboard_queue_messages", (test_queue,)): 2,
        ("switchboard_power_actions", ("succeeded",)): 2,
        ("switchboard_power_actions", ("failed",)): 1,
        ("switchboard_power_actions", ("running",)): 1,
        ("switchboard_power_actions", ("requested",)): 0,
        ("switchboard_backup_targets", ("ok",)): 1,
        ("switchboard_backup_targets", ("failed",)): 1,
        ("switchboard_backup_targets", ("stale",)): 0,
        ("switchboard_heartbeat_pings_stored", ("start",)): 1,
        ("switchboard_heartbeat_pings_stored", ("success",)): 2,
        ("switchboard_heartbeat_pings_stored", ("fail",)): 1,
        ("switchboard_heartbeat_pings_last_hour", ("start",)): 0,
        ("switchboard_heartbeat_pings_last_hour", ("success",)): 1,
        ("switchboard_heartbeat_pings_last_hour", ("fail",)): 1,
        ("switchboard_monitors", ("up",)): 1,  # the disabled one is not counted
        ("switchboard_monitors", ("down",)): 1,
        ("switchboard_monitors", ("unknown",)): 0,
        ("switchboard_incidents_open", ("outage",)): 1,
        ("switchboard_incidents_open", ("backup",)): 1,
        ("switchboard_incidents_open", ("person",)): 0,
        ("switchboard_alerts", ("active",)): 1,
        ("switchboard_alerts", ("acknowledged",)): 0,
        ("switchboard_alert_notifications", ("sent",)): 2,
        ("switchboard_alert_notifications", ("failed",)): 1,
        ("switchboard_alert_notifications", ("queued",)): 0,
        ("switchboard_owner_notices", ("sent",)): 1,
        ("switchboard_owner_notices", ("retrying",)): 1,
        ("switchboard_owner_notices", ("failed",)): 0,
    }
    assert {key: found.get(key) for key in expected} == expected
    assert 30 <= found[("switchboard_worker_last_task_age_seconds", ())] < 60
    assert "ops@example.org" not in response.content.decode()


def test_metrics_still_answer_when_the_broker_does_not(client, metrics_on, monkeypatch):
    monkeypatch.setitem(current_app.conf, "broker_url", "redis://127.0.0.1:9/0")
    monkeypatch.setitem(current_app.conf, "broker_transport", None)

    response = scrape(client)

    assert response.status_code == 200
    found = samples(response)
    assert found[("switchboard_broker_up", ())] == 0
    assert not any(name == "switchboard_queue_messages" for name, _ in found)
    assert found[("switchboard_power_actions", ("succeeded",))] == 0


def test_a_short_metrics_token_stops_the_process_without_repeating_it(tmp_path):
    result = run_manage("check", env={**PRODUCTION, "METRICS_TOKEN": "hunter2"}, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "METRICS_TOKEN must be at least 20 characters" in result.stderr
    assert "hunter2" not in result.stderr
