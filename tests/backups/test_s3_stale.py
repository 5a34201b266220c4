"""The newest backup older than the interval plus grace is stale. Time moves by `now`, since
an S3 server cannot backdate an object."""

from datetime import timedelta

from django.utils import timezone

from backups.models import BackupState

from .conftest import put


def test_newest_backup_older_than_interval_and_grace_is_stale(s3, bucket, make_target):
    put(s3, bucket, "wiki/2026-11-20.tar.gpg", 5000)
    target = make_target(bucket, expected_interval=timedelta(days=1), grace=timedelta(hours=2))

    check = target.run_check(now=timezone.now() + timedelta(days=2))

    assert check.state == BackupState.STALE
    assert check.message.startswith("Newest backup is 2\xa0days")
    assert check.newest_age > timedelta(days=1, hours=23)


def test_inside_the_grace_period_it_is_still_ok(s3, bucket, make_target):
    put(s3, bucket, "wiki/2026-11-20.tar.gpg", 5000)
    target = make_target(bucket, expected_interval=timedelta(days=1), grace=timedelta(hours=2))

    check = target.run_check(now=timezone.now() + timedelta(days=1, hours=1))

    assert check.state == BackupState.OK


def test_stale_and_unencrypted_says_both_and_is_stale(s3, bucket, make_target):
    put(s3, bucket, "wiki/2026-11-20.tar", 5000, encrypted=False)
    target = make_target(bucket)

    check = target.run_check(now=timezone.now() + timedelta(days=3))

    assert check.state == BackupState.STALE
    assert "no server-side encryption" in check.message
