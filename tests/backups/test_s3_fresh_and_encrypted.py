"""A fresh, big-enough, encrypted backup on a real S3 API is ok, with its figures kept."""

from datetime import timedelta

from django.utils import timezone

from backups.models import BackupState

from .conftest import put


def test_fresh_encrypted_backup_is_ok(s3, bucket, make_target):
    put(s3, bucket, "wiki/duplicity-full.20261120.vol1.difftar.gpg", 5000)
    target = make_target(bucket)

    check = target.run_check()

    assert check.state == BackupState.OK
    assert check.newest_key == "wiki/duplicity-full.20261120.vol1.difftar.gpg"
    assert check.size_bytes == 5000
    assert check.encryption == "AES256"
    assert check.object_count == 1
    assert check.newest_age < timedelta(minutes=1)
    assert check.duration is not None
    target.refresh_from_db()
    assert target.state == BackupState.OK
    assert target.last_checked_at == check.checked_at
    assert target.check_claimed_at is None


def test_objects_outside_the_prefix_do_not_count(s3, bucket, make_target):
    put(s3, bucket, "blog/dump.sql.gpg", 5000)
    target = make_target(bucket, prefix="wiki/")

    check = target.run_check()

    assert check.state == BackupState.STALE
    assert check.message == f"No backup under s3://{bucket}/wiki/."


def test_encryption_not_required_accepts_plain_objects(s3, bucket, make_target):
    put(s3, bucket, "wiki/base.tar", 5000, encrypted=False)
    target = make_target(bucket, encryption_required=False)

    check = target.run_check(now=timezone.now())

    assert check.state == BackupState.OK
    assert check.encryption == ""
