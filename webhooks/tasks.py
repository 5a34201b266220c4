"""Celery tasks of the webhooks: one task per delivery, and a sweep for retries, lost tasks and old history."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError

from . import sending
from .models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

NOT_PICKED_UP = timedelta(seconds=60)
State = WebhookDelivery.State


# A hard deadline per POST: an endpoint that trickles bytes must not hold a worker (prefork pools).
@shared_task(name="webhooks.send_webhook", soft_time_limit=30, time_limit=45)
def send_webhook(delivery_id):
    """POST one delivery (claimed first: a duplicate task does nothing)."""
    return sending.send(delivery_id)


@shared_task(name="webhooks.sweep_webhook_deliveries")
def sweep_webhook_deliveries():
    """Re-send deliveries due for a retry or never picked up; keep each endpoint's log bounded."""
    return sweep()


def queue_sends(ids):
    """Hand each delivery to a worker (settings.WEBHOOK_QUEUE, else Celery's default queue).

    A broker that is down leaves the rows queued: the sweep sends them once it is back.
    """
    options = {"queue": settings.WEBHOOK_QUEUE} if settings.WEBHOOK_QUEUE else {}
    for pk in ids:
        try:
            send_webhook.apply_async((pk,), **options)
        except (OperationalError, OSError) as exc:
            logger.warning("webhook delivery %s: broker unreachable, left for the sweep (%s)", pk, type(exc).__name__)
            return


def sweep(now=None):
    """One beat of the webhooks: abandoned sends made due, due retries and lost tasks queued, old rows pruned."""
    now = now or timezone.now()
    sending.give_abandoned_another_try(now)
    # A retry that is due, or a delivery queued a minute ago that no worker took (the broker lost it).
    lost = Q(state=State.QUEUED, created_at__lte=now - NOT_PICKED_UP) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    due = WebhookDelivery.objects.filter(lost | Q(state=State.RETRYING, next_attempt_at__lte=now))
    ids = list(due.order_by("created_at").values_list("pk", flat=True)[:500])
    # A lost task is queued again at most once a minute; a due retry at every sweep until a worker claims it.
    WebhookDelivery.objects.filter(pk__in=ids, state=State.QUEUED).update(next_attempt_at=now + NOT_PICKED_UP)
    queue_sends(ids)
    return {"resent": len(ids), "pruned": prune()}


def prune(keep=None):
    """Delete finished deliveries past the newest `keep` (WEBHOOK_KEEP_PER_ENDPOINT) of each endpoint."""
    keep = keep or settings.WEBHOOK_KEEP_PER_ENDPOINT
    pruned = 0
    for endpoint in WebhookEndpoint.objects.values_list("pk", flat=True):
        newest = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-pk")
        # At most a few thousand a sweep: a backlog goes over a few beats rather than in one long DELETE.
        old = list(newest.values_list("pk", flat=True)[keep : keep + 5000])
        if old:
            deleted, _ = WebhookDelivery.objects.filter(pk__in=old, state__in=WebhookDelivery.FINISHED).delete()
            pruned += deleted
    return pruned
