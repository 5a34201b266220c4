"""A change of state lands on the incident timeline: failing opens one incident for the guest
or machine, repeated failing checks add nothing, recovery resolves it."""

from datetime import timedelta

from django.utils import timezone

from backups.models import BackupState, BackupTarget, HeartbeatPing
from incidents.models import Incident, TimelineEntry

from .conftest import put


def test_stale_backup_opens_one_incident_and_recovery_resolves_it(s3, bucket, make_target, wiki):
    put(s3, bucket, "wiki/2026-11-20.tar.gpg", 5000)
    target = make_target(bucket)
    assert target.run_check().state == BackupState.OK
    assert not Incident.objects.exists()  # ok from the start: nothing to tell

    two_days_on = timezone.now() + timedelta(days=2)
    target.run_check(now=two_days_on)
    target.run_check(now=two_days_on + timedelta(hours=1))  # still stale: no second incident

    incident = Incident.objects.get()
    assert incident.title == "wiki backups stale for 2\xa0days"
    assert list(incident.guests.all()) == [wiki]
    assert incident.severity == Incident.Severity.MINOR
    backup_entries = incident.timeline.filter(kind=TimelineEntry.Kind.BACKUP)
    assert [e.body.split(".")[0] for e in backup_entries] == [f"Backup “{target.name}”: OK → Stale"]

    put(s3, bucket, "wiki/2026-11-22.tar.gpg", 5000)
    assert target.run_check(now=timezone.now() + timedelta(minutes=1)).state == BackupState.OK

    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    assert incident.timeline.filter(kind=TimelineEntry.Kind.BACKUP).count() == 2
    target.refresh_from_db()
    assert target.incident is None


def test_a_new_failure_on_an_open_incident_is_noted_there(s3, bucket, make_target):
    put(s3, bucket, "wiki/2026-11-20.tar", 5000, encrypted=False)
    target = make_target(bucket)
    target.run_check()  # unencrypted
    target.run_check(now=timezone.now() + timedelta(days=3))  # and now stale too

    incident = Incident.objects.get()
    assert incident.title == f"wiki backups unencrypted ({target.name})"
    bodies = list(incident.timeline.filter(kind=TimelineEntry.Kind.BACKUP).values_list("body", flat=True))
    assert len(bodies) == 2 and "Unencrypted → Stale" in bodies[1]


def test_a_machine_backup_opens_an_incident_for_the_machine(wiki):
    target = BackupTarget.objects.create(
        name="dom0 /etc", kind="heartbeat", machine=wiki.machine, expected_interval=timedelta(hours=1)
    )
    HeartbeatPing.receive(target, "fail")

    incident = Incident.objects.get()
    assert incident.title == "dom0 backups failing (dom0 /etc)"
    assert list(incident.machines.all()) == [wiki.machine]


def test_the_beat_keeps_no_row_when_a_heartbeat_is_unchanged(heartbeat):
    from backups.tasks import check_due_backups

    HeartbeatPing.receive(heartbeat, "success")
    check_due_backups()
    check_due_backups()

    assert heartbeat.checks.count() == 1
