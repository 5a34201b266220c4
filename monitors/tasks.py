"""Celery tasks of the uptime checker.

- dispatch_due_monitors: claims the monitors whose turn it is and sends them to workers in
  batches of MONITOR_BATCH_SIZE (one task per batch, never one per check);
- check_monitors(ids): one batch, probed concurrently with asyncio (monitors.checker);
- prune_monitor_history: daily, deletes state changes older than MONITOR_HISTORY_DAYS;
- ping_heartbeat: every minute, tells the co-op's outside dead man's switch that checks ran
  (monitors.watcher); it goes quiet when they stop;
- check_dns_names: hourly, resolves every recorded DNS name and keeps what drifted (monitors.dnscheck).
Only primary keys travel through the broker.
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from . import dnscheck, watcher
from .checker import check_batch, claim_due, close_quiet_outages
from .maintenance import report_after_maintenance, report_unreported_outages
from .models import MonitorStatus, MonitorTransition

logger = logging.getLogger(__name__)


@shared_task(name="monitors.dispatch_due_monitors")
def dispatch_due_monitors():
    """Send every due monitor to a worker, a batch per task; returns how many were sent."""
    now = timezone.now()
    close_quiet_outages(now)
    report_after_maintenance(now)
    report_unreported_outages(now)
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


@shared_task(name="monitors.prune_monitor_history")
def prune_monitor_history(now=None):
    """Delete changes of state older than MONITOR_HISTORY_DAYS (≥ 30: pages show 30-day uptime); returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.MONITOR_HISTORY_DAYS)
    deleted, _ = MonitorTransition.objects.filter(at__lt=cutoff).delete()
    logger.info("monitor history pruned: %d transition(s) older than %s", deleted, cutoff)
    return deleted


@shared_task(name="monitors.ping_heartbeat")
def ping_heartbeat():
    """Ping SWITCHBOARD_HEARTBEAT_URL if uptime checks ran lately (never raises); returns what it did."""
    return watcher.ping_heartbeat()


@shared_task(name="monitors.check_dns_names")
def check_dns_names():
    """Resolve every recorded DNS name and keep the verdicts that changed (monitors.dnscheck); returns counts."""
    return dnscheck.check_dns_names()
