"""Restore drills: who restored what, from which backup, onto what, how long, whether it worked."""

from datetime import timedelta

from django.utils import timezone

from backups.models import BackupTarget, RestoreDrill

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


def test_operator_records_a_good_drill_and_the_flag_clears(operator_client, operator, heartbeat):
    assert heartbeat.drill_due

    response = operator_client.post(f"/backups/{heartbeat.pk}/drills/new/", DRILL)

    assert response.status_code == 302
    drill = RestoreDrill.objects.get()
    assert (drill.performed_by, drill.duration, drill.succeeded) == (operator, timedelta(hours=1, minutes=30), True)
    heartbeat.refresh_from_db()
    assert heartbeat.last_exercised_at == drill.started_at
    page = operator_client.get(f"/backups/{heartbeat.pk}/drills/").content.decode()
    assert "scratch VM on xen2" in page


def test_a_failed_drill_does_not_count(operator_client, heartbeat):
    response = operator_client.post(f"/backups/{heartbeat.pk}/drills/new/", {**DRILL, "succeeded": "no"})

    assert response.status_code == 302
    assert RestoreDrill.objects.get().succeeded is False
    heartbeat.refresh_from_db()
    assert heartbeat.last_exercised_at is None and heartbeat.drill_due


def test_the_drill_form_needs_an_answer_to_did_it_work(operator_client, heartbeat):
    response = operator_client.post(f"/backups/{heartbeat.pk}/drills/new/", {**DRILL, "succeeded": ""})

    assert response.status_code == 400
    assert not RestoreDrill.objects.exists()


def test_a_drill_older_than_the_policy_is_flagged(heartbeat):
    BackupTarget.objects.filter(pk=heartbeat.pk).update(last_exercised_at=timezone.now() - timedelta(days=91))
    heartbeat.refresh_from_db()
    assert heartbeat.drill_due

    heartbeat.drill_every_days = 120
    assert not heartbeat.drill_due


def test_a_member_sees_drills_but_cannot_record_one(member_client, heartbeat):
    assert member_client.get(f"/backups/{heartbeat.pk}/drills/").status_code == 200
    assert member_client.post(f"/backups/{heartbeat.pk}/drills/new/", DRILL).status_code == 403
    assert not RestoreDrill.objects.exists()
