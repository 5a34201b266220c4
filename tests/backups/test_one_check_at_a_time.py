"""Two workers never check the same target at once: a conditional UPDATE claims it."""

from datetime import timedelta

from django.utils import timezone

from backups.models import BackupTarget
from backups.tasks import check_backup_target, check_due_backups

from .conftest import put


def test_a_claimed_target_is_skipped(make_target, bucket):
    target = make_target(bucket)
    assert target.claim(timezone.now())

    assert check_backup_target(target.pk) == "busy"
    assert not target.checks.exists()


def test_a_claim_left_by_a_dead_worker_expires(make_target, bucket, s3):
    put(s3, bucket, "wiki/2026-11-20.tar.gpg", 5000)
    target = make_target(bucket)
    target.claim(timezone.now() - timedelta(minutes=11))

    assert check_backup_target(target.pk) == "ok"


def test_the_beat_queues_due_s3_targets_only(
    make_target, bucket, heartbeat, django_capture_on_commit_callbacks, monkeypatch
):
    due = make_target(bucket)
    fresh = make_target(bucket)
    BackupTarget.objects.filter(pk=fresh.pk).update(last_checked_at=timezone.now())
    asked = make_target(bucket)
    BackupTarget.objects.filter(pk=asked.pk).update(last_checked_at=timezone.now())
    asked.request_check()

    sent = []
    monkeypatch.setattr(check_backup_target, "delay", sent.append)
    with django_capture_on_commit_callbacks(execute=True):
        result = check_due_backups()

    assert sorted(sent) == sorted([due.pk, asked.pk])
    assert result == {"queued": 2, "heartbeats": 1}
