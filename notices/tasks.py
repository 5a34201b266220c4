"""Celery tasks of the owner notices: one task per message, and a sweep for retries and lost sends."""

from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from . import sending
from .models import OwnerNotice
from .owners import queue_sends

NOT_PICKED_UP = timedelta(seconds=60)


# A hard deadline per message: a channel that trickles bytes must not hold a worker (prefork pools).
@shared_task(name="notices.send_owner_notice", soft_time_limit=45, time_limit=60)
def send_owner_notice(notice_id):
    """Send one owner notice (claimed first: a duplicate task does nothing)."""
    return sending.send(notice_id)


@shared_task(name="notices.sweep_owner_notices")
def sweep_owner_notices():
    """Re-send notices waiting for a retry or never picked up; fail the ones a dead worker left."""
    return sweep()


def sweep(now=None):
    """One beat of the owner notices: abandoned sends failed, due retries and lost tasks sent again."""
    now = now or timezone.now()
    sending.fail_abandoned(now)
    # A retry that is due, or a notice queued a minute ago that no worker took (the broker lost it).
    due = OwnerNotice.objects.filter(status__in=sending.PENDING, next_attempt_at__lte=now).filter(
        Q(status=OwnerNotice.Status.RETRYING) | Q(created_at__lte=now - NOT_PICKED_UP)
    )
    ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:500])
    # A lost task is queued again at most once a minute; a due retry at every sweep until a worker claims it.
    OwnerNotice.objects.filter(pk__in=ids, status=OwnerNotice.Status.QUEUED).update(next_attempt_at=now + NOT_PICKED_UP)
    queue_sends(ids)
    return {"resent": len(ids)}
