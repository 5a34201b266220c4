"""When planned maintenance ends: what is still down is reported then.

During a window (incidents.models.MaintenanceWindow) a monitor going down opens nothing
(incidents.policy.report). Its state stays down, so no new change of state would ever report
it: at every dispatch, each window that has ended is followed up once — every enabled monitor it
covers that is still down is reported now (machines first, so a host's incident lists its
guests), unless another window still covers it.
"""

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from hosts.models import Machine, Monitor
from incidents import policy
from incidents.models import Incident, MaintenanceWindow, TimelineEntry


def report_after_maintenance(now=None):
    """Report what ended windows leave down; returns how many monitors were reported."""
    now = now or timezone.now()
    reported = 0
    for window in MaintenanceWindow.objects.ended_unchecked(now).order_by("ends_at")[:50]:
        with transaction.atomic():
            # Claimed first: two dispatchers at once follow a window up once.
            if not MaintenanceWindow.objects.filter(pk=window.pk, followed_up_at__isnull=True).update(
                followed_up_at=now
            ):
                continue
        for monitor in _still_down(window):
            subject = monitor.guest or monitor.machine
            if MaintenanceWindow.objects.covering(subject, now).exists():
                continue
            affected = {"machines": [subject]} if isinstance(subject, Machine) else {"guests": [subject]}
            policy.report(
                Incident.Cause.OUTAGE,
                policy.outage_key(subject),
                title=f"{subject} is down",
                note=f"{monitor} is still down now that the planned maintenance ({window.reason}) is over.",
                kind=TimelineEntry.Kind.CHECK_FAILED,
                at=now,
                **affected,
            )
            reported += 1
    return reported


def _still_down(window):
    if window.machine_id:
        covered = Q(machine=window.machine_id) | Q(guest__machine=window.machine_id)
    elif window.guest_id:
        covered = Q(guest=window.guest_id)
    else:
        covered = Q(machine__site=window.site_id) | Q(guest__machine__site=window.site_id)
    down = Monitor.objects.filter(covered, is_enabled=True, state=Monitor.State.DOWN)
    # Machines before guests: the host's incident is opened first and its guests join it.
    return list(down.select_related("machine", "guest").order_by(F("guest").asc(nulls_first=True), "pk"))
