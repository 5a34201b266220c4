"""A task sent through Redis runs in a real Celery worker process that shares the test database."""

import os
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from core.management.commands.worker_status import broker_for_humans
from core.tasks import worker_health

from .conftest import delete_queue, unique_queue

# xdist_group keeps the tests that need the worker on one xdist process, which then starts one
# worker instead of one per process (make test runs pytest with --dist loadgroup).


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.xdist_group("celery_worker")
def test_worker_counts_an_account_added_in_this_test(celery_worker, django_user_model):
    django_user_model.objects.create_user("new-volunteer", "new-volunteer@example.org")

    answer = worker_health.apply_async(queue=celery_worker.queue).get(timeout=10)

    assert answer["accounts"] == 1
    assert answer["worker"] == celery_worker.nodename
    assert answer["pid"] == celery_worker.pid != os.getpid()
    assert answer["database"] == f"{connection.vendor} {connection.settings_dict['NAME']}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.xdist_group("celery_worker")
def test_worker_status_reports_the_worker_that_answered(celery_worker):
    out = StringIO()

    call_command("worker_status", "--queue", celery_worker.queue, stdout=out)

    assert out.getvalue().startswith(f"OK: worker {celery_worker.nodename} (pid {celery_worker.pid}) answered in")
    assert "it sees 0 account(s)" in out.getvalue()


@pytest.mark.django_db
@pytest.mark.worker
def test_worker_status_fails_clearly_when_no_worker_listens(redis_url):
    queue = unique_queue("nobody-listens")
    try:
        with pytest.raises(CommandError) as failure:
            call_command("worker_status", "--queue", queue, "--timeout", "0.5", stdout=StringIO())
    finally:
        delete_queue(queue)

    assert str(failure.value) == (
        f"no worker answered within 0.5 s: is `celery -A switchboard worker` running and consuming queue {queue!r}? "
        f"broker: {broker_for_humans(redis_url)}"
    )


def test_broker_url_is_shown_without_its_password():
    assert broker_for_humans("redis://:s3cret@redis.example.org:6379/0") == "redis://:**@redis.example.org:6379/0"
    assert broker_for_humans("filesystem://", {"data_folder_in": "/srv/var/celery/queue"}) == (
        "filesystem:/// (folder /srv/var/celery/queue)"
    )
