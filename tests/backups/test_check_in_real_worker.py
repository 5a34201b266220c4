"""A check sent through Redis runs in a real Celery worker against the real S3 server."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from backups.models import BackupState
from backups.tasks import check_backup_target
from core.access import MEMBERS

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


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.xdist_group("celery_worker")
def test_a_reloaded_page_shows_what_the_worker_found(
    celery_worker, redis_url, make_target, bucket, s3, settings, django_user_model
):
    # The web and the worker share the Redis cache, as in production: the worker's write must
    # make the page the volunteer already loaded (and the web stored) stale.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
    put(s3, bucket, "wiki/2026-11-20.tar", 5000, encrypted=False)
    target = make_target(bucket)
    volunteer = Client()
    mira = django_user_model.objects.create_user(username="mira", email="mira@example.org")
    mira.groups.add(Group.objects.get_or_create(name=MEMBERS)[0])
    volunteer.force_login(mira)
    page = f"/backups/{target.pk}/"
    volunteer.get(page)
    assert "Unencrypted" not in volunteer.get(page).content.decode()  # the stored copy

    target.request_check()
    check_backup_target.apply_async((target.pk,), queue=celery_worker.queue).get(timeout=20)

    assert "Unencrypted" in volunteer.get(page).content.decode()
