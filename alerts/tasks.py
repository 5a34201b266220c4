"""Celery tasks of the alerts app: a tick that moves escalations on, and one task per message."""

import logging
from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from . import sending
from .escalation import due_alerts, escalate, queue_sends, start, unstarted
from .models import Notification

NOT_PICKED_UP = timedelta(seconds=60)
logger = logging.getLogger(__name__)


# A hard deadline per message: a channel that trickles bytes must not hold a worker (prefork pools).
@shared_task(name="alerts.send_notification", soft_time_limit=45, time_limit=60)
def send_notification(notification_id, token):
    """Send one notification (claimed first: a duplicate task does nothing)."""
    return sending.send(notification_id, token)


@shared_task(name="alerts.escalate_due_alerts")
def escalate_due_alerts():
    """Run the escalation steps that are due, and re-send what waits for a retry or was never picked up."""
    return tick()


def tick(now=None):
    """One beat of the alerts: due steps, due retries, abandoned sends. Returns what it did."""
    now = now or timezone.now()
    for incident in unstarted(now):
        _guarded(start, incident, now=now)
    stepped = 0
    for pk, token in due_alerts(now):
        # One alert that cannot go on (a bug, a bad row) must not hold up everyone else's.
        stepped += len(_guarded(escalate, pk, token, now=now) or [])
    sending.fail_abandoned(now)
    # A retry that is due, or a message queued a minute ago that no worker took (the broker lost it).
    due = Notification.objects.filter(status__in=sending.PENDING, next_attempt_at__lte=now).filter(
        Q(status=Notification.Status.RETRYING) | Q(created_at__lte=now - NOT_PICKED_UP)
    )
    due = list(due.values_list("pk", "alert__token")[:500])
    # A message queued a minute ago is queued again at most once a minute; a due retry at every tick until a
    # worker claims it (its backoff is over, and a duplicate task finds it claimed and does nothing).
    Notification.objects.filter(pk__in=[pk for pk, _ in due], status=Notification.Status.QUEUED).update(
        next_attempt_at=now + NOT_PICKED_UP
    )
    for pk, token in due:
        queue_sends([pk], token)
    return {"notified": stepped, "resent": len(due)}


def _guarded(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except Exception:
        logger.exception("alerts: %s%r failed; the other alerts go on", function.__name__, args)
        return None
