"""Celery tasks for backup checks (their schedule: settings.BEAT_SCHEDULE).

- check_due_backups: the beat task (every 5 minutes):
  queues a check of every S3 target that is due, re-sends "check now" requests a lost
  message left behind, and judges every heartbeat target in place (no network involved);
- check_backup_target(pk): one target. It takes a primary key, never credentials, and
  claims the target with a conditional UPDATE, so two workers never check it at once;
- prune_backup_history: daily: a WAL job pinging every
  minute writes half a million rows a year; history older than BACKUP_HISTORY_DAYS goes.
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from .models import BackupCheck, BackupState, BackupTarget, HeartbeatPing

logger = logging.getLogger(__name__)


@shared_task(name="backups.check_backup_target", ignore_result=False)
def check_backup_target(pk):
    """Check one target now and return its state (or "busy" when another worker holds it)."""
    target = BackupTarget.objects.filter(pk=pk).first()
    if target is None:
        return "gone"
    try:
        check = target.run_check()
    except Exception:
        # Only the pk and the exception: a target's fields include its secret.
        logger.exception("backup check of target %s failed", pk)
        raise
    if check is None:
        logger.info("backup target %s is being checked by another worker", pk)
        return "busy"
    logger.info("backup target %s checked: %s in %.2f s", pk, check.state, check.duration.total_seconds())
    return check.state


def queue_check(pk):
    """Send check_backup_target(pk) once the transaction commits (only the pk travels, never a key).

    With the broker down the check is not lost: the row keeps its due date or its
    check_requested_at, and the beat queues it again.
    """

    def send():
        try:
            check_backup_target.delay(pk)
        except (OperationalError, OSError) as exc:
            logger.warning("backup target %s: broker unreachable, left for the beat (%s)", pk, type(exc).__name__)

    transaction.on_commit(send)


@shared_task(name="backups.check_due_backups")
def check_due_backups():
    """Queue the S3 targets that are due and judge the heartbeat targets; return how many of each."""
    now = timezone.now()
    due = list(BackupTarget.objects.due_for_check(now).values_list("pk", flat=True))
    for pk in due:
        queue_check(pk)
    judged = 0
    for target in BackupTarget.objects.filter(kind=BackupTarget.Kind.HEARTBEAT).select_related("machine", "guest"):
        if target.claim(now):
            try:
                target.record(target.judge_heartbeat(now), now=now, keep_unchanged=False)
            finally:
                target.release()
            judged += 1
    logger.info("backup sweep: %d S3 check(s) queued, %d heartbeat target(s) judged", len(due), judged)
    return {"queued": len(due), "heartbeats": judged}


@shared_task(name="backups.prune_backup_history")
def prune_backup_history(now=None):
    """Delete pings and checks older than BACKUP_HISTORY_DAYS; return how many of each went.

    Each target's newest good check stays whatever its age: it is what "shrunk" compares with.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.BACKUP_HISTORY_DAYS)
    pings, _ = HeartbeatPing.objects.filter(received_at__lt=cutoff).delete()
    good = BackupCheck.objects.filter(state=BackupState.OK, size_bytes__isnull=False).order_by("-checked_at")
    keep = [
        pk
        for pk in (
            good.filter(target=target).values_list("pk", flat=True).first() for target in BackupTarget.objects.all()
        )
        if pk is not None
    ]
    checks, _ = BackupCheck.objects.filter(checked_at__lt=cutoff).exclude(pk__in=keep).delete()
    logger.info("backup history pruned: %d ping(s), %d check(s) older than %s", pings, checks, cutoff)
    return {"pings": pings, "checks": checks}
