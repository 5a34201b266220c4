"""Celery tasks of the uptime checker.

- dispatch_due_monitors: claims the monitors whose turn it is and sends them to workers in
  batches of MONITOR_BATCH_SIZE (one task per batch, never one per check);
- check_monitors(ids): one batch, probed concurrently with asyncio (monitors.checker).
Only primary keys travel through the broker.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from .checker import check_batch, claim_due, close_quiet_outages
from .models import MonitorStatus

logger = logging.getLogger(__name__)


@shared_task(name="monitors.dispatch_due_monitors")
def dispatch_due_monitors():
    """Send every due monitor to a worker, a batch per task; returns how many were sent."""
    now = timezone.now()
    close_quiet_outages(now)
    due = claim_due(now)
    size = settings.MONITOR_BATCH_SIZE
    sent = 0
    for start in range(0, len(due), size):
        batch = due[start : start + size]
        try:
            check_monitors.delay(batch)
        except (OperationalError, OSError) as exc:
            # Due again at once, this batch and the rest: the next dispatch sends them when the broker is back.
            MonitorStatus.objects.filter(pk__in=due[start:]).update(next_check_at=now)
            logger.warning(
                "monitor dispatch: broker unreachable, %d left for the next round (%s)", len(due) - start, exc
            )
            break
        sent += len(batch)
    return sent


@shared_task(name="monitors.check_monitors")
def check_monitors(ids):
    """Check one batch of monitors and record what changed."""
    return check_batch(ids)
