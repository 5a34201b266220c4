"""Encryption switched off in the backup script (story 001) shows as unencrypted, not ok."""

from backups.models import BackupState

from .conftest import put


def test_unencrypted_newest_backup_when_encryption_is_required(s3, bucket, make_target):
    put(s3, bucket, "wiki/2026-11-19.tar.gpg", 5000, encrypted=True)
    put(s3, bucket, "wiki/2026-11-20.tar", 5000, encrypted=False)
    target = make_target(bucket)

    check = target.run_check()

    assert check.newest_key == "wiki/2026-11-20.tar"
    assert check.state == BackupState.UNENCRYPTED
    assert check.message == "Newest backup has no server-side encryption."


def test_kms_encryption_counts_as_encrypted(s3, bucket, make_target):
    s3.put_object(Bucket=bucket, Key="wiki/2026-11-20.tar", Body=b"x" * 500, ServerSideEncryption="aws:kms")
    target = make_target(bucket)

    check = target.run_check()

    assert check.state == BackupState.OK
    assert check.encryption == "aws:kms"
