"""Outages nobody was told of: what planned maintenance left down, and anything else down with no incident.

During a window (incidents.models.MaintenanceWindow) a monitor going down opens nothing
(incidents.policy.report). Its state stays down, so no new change of state would ever report
it: at every dispatch, each window that has ended is followed up once — every enabled monitor it
covers that is still down is reported now (machines first, so a host's incident lists its
guests), unless another window still covers it.

report_unreported_outages() catches the rest: an enabled monitor that is down with no open
incident people work on for its machine or guest (someone resolved it while it was still down,
a window was deleted early) is reported again, so a machine that is down never looks quiet.
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
            _report(
                monitor, f"{monitor} is still down now that the planned maintenance ({window.reason}) is over.", now
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


def report_unreported_outages(now=None):
    """Report every enabled monitor that is down with no open incident covering it; returns how many."""
    now = now or timezone.now()
    down = list(
        Monitor.objects.filter(is_enabled=True, state=Monitor.State.DOWN)
        .select_related("machine", "guest")
        .order_by(F("guest").asc(nulls_first=True), "pk")[:1000]
    )
    if not down:
        return 0
    worked_on = Incident.objects.filter(cause__in=policy.WORKED_ON).exclude(status=Incident.Status.RESOLVED)
    machines = set(
        Incident.machines.through.objects.filter(incident__in=worked_on).values_list("machine_id", flat=True)
    )
    guests = set(Incident.guests.through.objects.filter(incident__in=worked_on).values_list("guest_id", flat=True))
    reported = 0
    for monitor in down:
        subject = monitor.guest or monitor.machine
        covered = subject.pk in guests or subject.machine_id in machines if monitor.guest_id else subject.pk in machines
        if covered or MaintenanceWindow.objects.covering(subject, now).exists():
            continue
        _report(monitor, f"{monitor} is still down and no open incident covered it (resolved while it was down?).", now)
        # A guest of this machine, reported next, joins this incident (incidents.policy) and is listed on it.
        reported += 1
    return reported


def _report(monitor, note, now):
    subject = monitor.guest or monitor.machine
    affected = {"machines": [subject]} if isinstance(subject, Machine) else {"guests": [subject]}
    policy.report(
        Incident.Cause.OUTAGE,
        policy.outage_key(subject),
        title=f"{subject} is down",
        note=note,
        kind=TimelineEntry.Kind.CHECK_FAILED,
        at=now,
        **affected,
    )
