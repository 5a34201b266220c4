"""Restore drills: who restored what, from which backup, onto what, how long, whether it worked."""

from datetime import timedelta

from django.utils import timezone

from hosts.models import BackupTarget, RestoreDrill

pytest_plugins = ["tests.cast"]

DRILL = {
    "what": "wiki database and uploads",
    "from_backup": "s3://wiki-backups/wiki/2026-11-20.tar.gpg",
    "onto": "scratch VM on xen2",
    "started_at": "2026-11-21T10:00",
    "duration": "1:30:00",
    "succeeded": "yes",
    "notes": "Needed PostgreSQL 8.3: added to the runbook.",
}


def test_member_records_a_good_drill_and_the_flag_clears(member_client, member, heartbeat):
    assert heartbeat.drill_due

    response = member_client.post(f"/backups/{heartbeat.pk}/drills/new/", DRILL)

    assert response.status_code == 302
    drill = RestoreDrill.objects.get()
    assert (drill.performed_by, drill.duration, drill.succeeded) == (member, timedelta(hours=1, minutes=30), True)
    heartbeat.refresh_from_db()
    assert heartbeat.last_exercised_at == drill.started_at
    page = member_client.get(f"/backups/{heartbeat.pk}/drills/").content.decode()
    assert "scratch VM on xen2" in page


def test_a_failed_drill_does_not_count(member_client, heartbeat):
    member_client.post(f"/backups/{heartbeat.pk}/drills/new/", {**DRILL, "succeeded": "no"})

    heartbeat.refresh_from_db()
    assert heartbeat.last_exercised_at is None and heartbeat.drill_due


def test_the_drill_form_needs_an_answer_to_did_it_work(member_client, heartbeat):
    response = member_client.post(f"/backups/{heartbeat.pk}/drills/new/", {**DRILL, "succeeded": ""})

    assert response.status_code == 400
    assert not RestoreDrill.objects.exists()


def test_a_drill_older_than_the_policy_is_flagged(heartbeat):
    BackupTarget.objects.filter(pk=heartbeat.pk).update(last_exercised_at=timezone.now() - timedelta(days=91))
    heartbeat.refresh_from_db()
    assert heartbeat.drill_due

    heartbeat.drill_every_days = 120
    assert not heartbeat.drill_due
