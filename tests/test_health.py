"""/health/ for a load balancer or an outside monitor: 200 when every part works, 503 naming the part
that does not, and an answer within about 3 s even when Redis or the broker hangs (front.views.ops)."""

import socket
import threading
import time
from datetime import timedelta

import pytest
from celery import current_app
from django.utils import timezone
from django_celery_results.models import TaskResult

from front.views import ops

pytestmark = pytest.mark.django_db

DEAD = "redis://127.0.0.1:9/0"  # the discard port: nothing listens, connections are refused
TIME_BOUND = 3


def a_worker_finished_a_task(seconds_ago=5):
    result = TaskResult.objects.create(task_id=f"task-{seconds_ago}", task_name="alerts.escalate_due_alerts")
    # date_done is auto_now: set it afterwards.
    TaskResult.objects.filter(pk=result.pk).update(date_done=timezone.now() - timedelta(seconds=seconds_ago))


def redis_cache_at(url):
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}


@pytest.fixture
def broker_at(monkeypatch):
    """Point Celery's broker at a Redis URL for this test (the app read its settings at start-up)."""

    def point(url):
        monkeypatch.setitem(current_app.conf, "broker_url", url)
        monkeypatch.setitem(current_app.conf, "broker_transport", None)  # without Redis it is the filesystem

    return point


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections (the kernel's backlog) and never says a word: a hung Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    server.close()


def get_health(client):
    started = time.monotonic()
    response = client.get("/health/")
    return response, time.monotonic() - started


def test_health_is_ok_when_every_part_answers(client):
    a_worker_finished_a_task()

    response, seconds = get_health(client)

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok", "worker": "ok"},
    }
    assert "no-store" in response["Cache-Control"]
    assert "Set-Cookie" not in response.headers
    assert seconds < TIME_BOUND


def test_health_names_the_cache_when_redis_refuses_connections(client, settings):
    a_worker_finished_a_task()
    settings.CACHES = redis_cache_at(DEAD)

    response, seconds = get_health(client)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["cache"] == "failed (ConnectionError)"
    assert {name: outcome for name, outcome in body["checks"].items() if name != "cache"} == {
        "database": "ok",
        "broker": "ok",
        "worker": "ok",
    }
    assert "127.0.0.1" not in response.content.decode()  # never an address
    assert seconds < TIME_BOUND


def test_health_names_the_broker_when_it_refuses_connections(client, broker_at):
    a_worker_finished_a_task()
    broker_at(DEAD)

    response, seconds = get_health(client)

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"] == "failed (OperationalError)"
    assert checks["cache"] == checks["database"] == checks["worker"] == "ok"
    assert seconds < TIME_BOUND


def test_health_answers_in_time_when_redis_and_the_broker_hang(client, settings, broker_at, silent_server):
    a_worker_finished_a_task()
    settings.CACHES = redis_cache_at(silent_server)
    broker_at(silent_server)

    response, seconds = get_health(client)

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["cache"] == "failed (TimeoutError)"
    assert checks["broker"] == "failed (OperationalError)"
    assert seconds < TIME_BOUND


def test_health_does_not_wait_for_a_probe_that_ignores_its_own_timeouts(client, monkeypatch):
    a_worker_finished_a_task()
    released = threading.Event()
    monkeypatch.setattr(ops, "check_broker", lambda: released.wait(30))

    try:
        response, seconds = get_health(client)
    finally:
        released.set()

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == f"no answer within {ops.HEALTH_DEADLINE_SECONDS:g} s"
    assert ops.HEALTH_DEADLINE_SECONDS <= seconds < TIME_BOUND


def test_health_fails_when_no_worker_finished_a_task_lately(client):
    a_worker_finished_a_task(seconds_ago=ops.WORKER_QUIET_SECONDS + 60)

    response, _ = get_health(client)

    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == f"no task finished in the last {ops.WORKER_QUIET_SECONDS} s"


def test_health_fails_when_no_worker_ever_finished_a_task(client):
    response, _ = get_health(client)

    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "worker": "no task has finished yet",
    }
