"""An empty or suddenly smaller backup (gpg writing zero bytes into the pipe) is shrunk."""

from backups.models import BackupState

from .conftest import put


def test_backup_under_half_the_last_good_one_is_shrunk(s3, bucket, make_target):
    target = make_target(bucket, min_size_bytes=1)
    put(s3, bucket, "wiki/2026-11-19.tar.gpg", 10_000)
    assert target.run_check().state == BackupState.OK

    put(s3, bucket, "wiki/2026-11-20.tar.gpg", 3_000)
    check = target.run_check()

    assert check.state == BackupState.SHRUNK
    assert check.size_bytes == 3_000
    assert check.previous_size_bytes == 10_000
    assert check.message == "Newest backup is 3000 bytes; the last good one was 10000."


def test_zero_byte_backup_is_below_the_minimum(s3, bucket, make_target):
    put(s3, bucket, "wiki/2026-11-20.tar.gpg", 0)
    target = make_target(bucket, min_size_bytes=100)

    check = target.run_check()

    assert check.state == BackupState.SHRUNK
    assert check.message == "Newest backup is 0 bytes, below the minimum 100."


def test_a_slightly_smaller_backup_is_fine(s3, bucket, make_target):
    target = make_target(bucket, min_size_bytes=1)
    put(s3, bucket, "wiki/2026-11-19.tar.gpg", 10_000)
    target.run_check()
    put(s3, bucket, "wiki/2026-11-20.tar.gpg", 9_000)

    assert target.run_check().state == BackupState.OK
