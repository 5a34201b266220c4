"""The ops chat's server is down, slow or refusing: a delivery waits and is tried again when that can help,
is given up when it cannot, and never reaches the receiver twice from one worker's send."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from webhooks import events, sending
from webhooks.models import WebhookDelivery
from webhooks.tasks import sweep

from .conftest import Receiver, verify

pytestmark = pytest.mark.django_db
State = WebhookDelivery.State


def queue_one(endpoint, event="monitor.down"):
    [delivery] = events.emit(event, {"id": 7, "name": "TCP 192.0.2.10:22", "state": "down"}, endpoints=[endpoint])
    return delivery


def reread(delivery):
    return WebhookDelivery.objects.get(pk=delivery.pk)


def time_passes(seconds):
    """As if `seconds` went by: every delivery's times move back (the worker's task reads the real clock)."""
    ago = timedelta(seconds=seconds)
    WebhookDelivery.objects.update(created_at=F("created_at") - ago)
    WebhookDelivery.objects.exclude(next_attempt_at=None).update(next_attempt_at=F("next_attempt_at") - ago)


def test_while_the_server_is_down_the_delivery_waits_and_arrives_once_it_is_back(endpoint, receiver, sends_run_at_once):
    port = receiver.port
    receiver.stop()
    delivery = queue_one(endpoint)
    now = timezone.now()

    assert sending.send(delivery.pk, now=now) == State.RETRYING
    waiting = reread(delivery)
    assert waiting.last_error == "could not connect to the endpoint"
    assert waiting.next_attempt_at == now + timedelta(seconds=30)
    assert waiting.last_status_code is None

    back = Receiver(port=port).start()
    try:
        time_passes(10)
        sweep()  # not due yet: nothing is sent
        assert back.posts == []
        time_passes(21)
        sweep()  # due: queued, and (eagerly) sent
        [post] = back.posts
    finally:
        back.stop()
    assert post["headers"]["webhook-id"] == delivery.webhook_id  # the same message: receivers deduplicate on it
    assert verify(endpoint, post)["type"] == "monitor.down"
    arrived = reread(delivery)
    assert (arrived.state, arrived.attempts, arrived.last_status_code) == (State.DELIVERED, 2, 200)
    assert arrived.last_error == ""


def test_a_server_error_is_tried_again_with_growing_waits_then_given_up(endpoint, receiver, settings):
    settings.WEBHOOK_SEND_ATTEMPTS = 4
    receiver.answers = [503, 500, 502, 503]
    delivery = queue_one(endpoint)
    now = timezone.now()
    waits = []
    for _ in range(3):
        assert sending.send(delivery.pk, now=now) == State.RETRYING
        due = reread(delivery).next_attempt_at
        waits.append((due - now).total_seconds())
        now = due
    assert waits == [30, 120, 480]
    assert reread(delivery).last_error == "the endpoint answered HTTP 502"

    assert sending.send(delivery.pk, now=now) == State.FAILED
    failed = reread(delivery)
    assert failed.last_error == "the endpoint answered HTTP 503; gave up after 4 attempts"
    assert failed.last_status_code == 503
    assert len(receiver.posts) == 4
    assert sending.send(delivery.pk, now=now + timedelta(days=1)) is None  # failed stays failed


def test_waits_never_pass_the_cap():
    assert sending.retry_delay(8) == timedelta(hours=6)
    assert sending.retry_delay(1, wait=10**9) == timedelta(hours=6)


def test_a_429_waits_at_least_as_long_as_retry_after_says(endpoint, receiver):
    receiver.answers = [429]
    receiver.headers = {"Retry-After": "600"}
    delivery = queue_one(endpoint)
    now = timezone.now()

    assert sending.send(delivery.pk, now=now) == State.RETRYING
    assert reread(delivery).next_attempt_at == now + timedelta(seconds=600)


def test_a_4xx_fails_at_once_and_is_never_sent_again(endpoint, receiver, sends_run_at_once):
    receiver.answers = [410]
    delivery = queue_one(endpoint)
    now = timezone.now()

    assert sending.send(delivery.pk, now=now) == State.FAILED
    sweep(now=now + timedelta(days=1))

    assert len(receiver.posts) == 1
    failed = reread(delivery)
    assert (failed.attempts, failed.last_status_code) == (1, 410)
    assert failed.last_error == "the endpoint answered HTTP 410: not retried"


def test_a_redirect_is_not_followed(endpoint, receiver):
    receiver.answers = [301]
    delivery = queue_one(endpoint)

    assert sending.send(delivery.pk) == State.FAILED
    assert "redirect" in reread(delivery).last_error
    assert len(receiver.posts) == 1


def test_a_server_that_does_not_answer_in_time_is_tried_again(endpoint, receiver):
    receiver.delay = 1.5  # WEBHOOK_TIMEOUT_SECONDS is 1 in these tests
    delivery = queue_one(endpoint)

    assert sending.send(delivery.pk) == State.RETRYING
    assert reread(delivery).last_error == "no answer within 1 s"


def test_a_duplicate_task_posts_nothing(endpoint, receiver):
    delivery = queue_one(endpoint)

    assert sending.send(delivery.pk) == State.DELIVERED
    assert sending.send(delivery.pk) is None

    assert len(receiver.posts) == 1


def test_a_retry_is_not_sent_before_its_wait_is_over(endpoint, receiver):
    receiver.answers = [503]
    delivery = queue_one(endpoint)
    now = timezone.now()
    sending.send(delivery.pk, now=now)

    assert sending.send(delivery.pk, now=now + timedelta(seconds=5)) is None
    assert len(receiver.posts) == 1


def test_a_send_whose_worker_died_is_tried_again_by_the_sweep(endpoint, receiver, sends_run_at_once):
    delivery = queue_one(endpoint)
    # A worker claimed it and died before it could record anything.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=State.SENDING, attempts=1, next_attempt_at=timezone.now() + sending.LEASE
    )

    time_passes(30)
    sweep()  # still within the lease: left alone
    assert receiver.posts == []
    time_passes(sending.LEASE.total_seconds())
    sweep()

    assert len(receiver.posts) == 1
    assert reread(delivery).state == State.DELIVERED


def test_a_delivery_whose_task_the_broker_lost_is_sent_by_the_sweep(endpoint, receiver, sends_run_at_once):
    delivery = queue_one(endpoint)  # in this test transaction its task is never queued: as if lost

    sweep()  # queued just now: a worker may still be on its way
    assert receiver.posts == []
    time_passes(61)
    sweep()

    assert len(receiver.posts) == 1
    assert reread(delivery).state == State.DELIVERED


def test_an_endpoint_switched_off_gets_nothing_new_and_nothing_left_over(endpoint, receiver):
    left_over = queue_one(endpoint)
    endpoint.is_active = False
    endpoint.save()

    assert events.emit("monitor.down", {"id": 7}) == []
    assert sending.send(left_over.pk) == State.FAILED
    assert receiver.posts == []
    assert reread(left_over).last_error == "the endpoint was switched off before it was sent"


def test_what_is_recorded_and_logged_never_names_the_url_or_the_secret(endpoint, receiver, caplog):
    caplog.set_level("DEBUG")
    receiver.stop()
    delivery = queue_one(endpoint)

    sending.send(delivery.pk)

    recorded = reread(delivery).last_error
    for secret in ("receiver-token-123", endpoint.secret, endpoint.secret.removeprefix("whsec_")):
        assert secret not in recorded
        assert secret not in caplog.text
    assert f"webhook delivery {delivery.pk}" in caplog.text


def test_each_endpoint_keeps_its_newest_deliveries_only(endpoint, settings):
    settings.WEBHOOK_KEEP_PER_ENDPOINT = 3
    now = timezone.now()
    made = [queue_one(endpoint) for _ in range(5)]
    for n, delivery in enumerate(made):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=State.DELIVERED, created_at=now - timedelta(minutes=10 - n)
        )
    unsent = made[0]  # the oldest, but still waiting for a retry: kept until it ends
    WebhookDelivery.objects.filter(pk=unsent.pk).update(state=State.RETRYING, next_attempt_at=now + timedelta(hours=1))

    assert sweep(now=now)["pruned"] == 1

    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {unsent.pk, *(d.pk for d in made[2:])}
