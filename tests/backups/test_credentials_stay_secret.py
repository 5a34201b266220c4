"""S3 secret keys never reach logs, task arguments, task results or check messages."""

import logging

from django.db import connection

from backups.models import BackupCheck, BackupTarget
from backups.tasks import check_backup_target

from .conftest import free_port, put

SECRET = "wJalrXUtnFEMI-example-secret-do-not-log"


def test_the_secret_is_stored_encrypted(make_target, bucket):
    target = make_target(bucket, secret_access_key=SECRET)

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_access_key FROM backups_backuptarget WHERE id = %s", [target.pk])
        stored = cursor.fetchone()[0]

    assert SECRET not in stored
    assert BackupTarget.objects.get(pk=target.pk).secret_access_key == SECRET


def test_failing_checks_log_no_secret(make_target, bucket, s3, caplog):
    put(s3, bucket, "wiki/2026-11-20.tar.gpg", 5000)
    wrong = make_target(bucket, secret_access_key=SECRET)
    down = make_target(bucket, secret_access_key=SECRET, endpoint_url=f"http://127.0.0.1:{free_port()}")

    with caplog.at_level(logging.DEBUG):
        results = [check_backup_target(wrong.pk), check_backup_target(down.pk)]

    assert results == ["error", "error"]
    assert caplog.records, "expected the checks to log something"
    assert SECRET not in caplog.text
    assert not BackupCheck.objects.filter(message__contains=SECRET).exists()


def test_the_task_message_carries_only_the_primary_key(make_target, bucket):
    target = make_target(bucket, secret_access_key=SECRET)

    signature = check_backup_target.s(target.pk)

    assert signature.args == (target.pk,) and not signature.kwargs
    assert SECRET not in repr(signature)
