"""A check sent through Redis runs in a real Celery worker against the real S3 server."""

import pytest

from hosts.backup_tasks import check_backup_target
from hosts.models import BackupState

from .conftest import put


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.xdist_group("celery_worker")
def test_worker_checks_a_target_by_its_pk(celery_worker, make_target, bucket, s3):
    put(s3, bucket, "wiki/2026-11-20.tar", 5000, encrypted=False)
    target = make_target(bucket)
    target.request_check()

    state = check_backup_target.apply_async((target.pk,), queue=celery_worker.queue).get(timeout=20)

    assert state == BackupState.UNENCRYPTED
    target.refresh_from_db()
    assert target.state == BackupState.UNENCRYPTED and not target.is_checking
    assert target.secret_access_key not in celery_worker.log.read_text()
