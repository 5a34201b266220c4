"""Checking monitors in batches and keeping what changed.

`claim_due(now)` picks the monitors whose turn it is (locking them, skipping rows another
dispatcher holds, so two dispatchers never hand out the same monitor) and moves their next check
on by their interval. `check_batch(ids)` probes a batch concurrently (monitors.probes, asyncio)
and `record(...)` keeps the results:

- every result updates the monitor's MonitorStatus, in one UPDATE for the whole batch — a
  table the page cache does not watch — including its recent latencies (the page's sparkline),
  and the batch ticks CheckerClock (when checks last ran: who watches the watcher);
- a result that moves the monitor's state (monitors.verdicts: down after `down_after` failures
  in a row, up after `up_after` successes) changes hosts.Monitor.state, writes a
  MonitorTransition and tells incidents.policy: down reports an outage of the machine or guest
  (a guest's outage joins its host's when the host is already down: one incident listing them
  all); up leaves the incident people work on, which is resolved once nothing it lists is down.
  A flapping monitor (monitors.verdicts) comes back only after MONITOR_FLAP_QUIET_MINUTES of good
  checks: one incident and one alert for the whole episode, not one per flip.

`close_quiet_outages()` (every dispatch) resolves the checker's outages that nothing is down for
any more, such as one whose monitor was switched off or deleted while down.

`reschedule(monitor)` (on every save of a Monitor, monitors.apps) makes a shorter interval or a
re-enabled monitor take effect at once instead of after the old next check.
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from hosts.models import Machine, Monitor
from incidents import policy
from incidents.models import Incident, TimelineEntry

from .models import CheckerClock, MonitorStatus, MonitorTransition
from .probes import Probe, Result, run_probes
from .verdicts import DOWN, FLAP_WINDOW, UNKNOWN, flap_up_after, is_flapping, judge

logger = logging.getLogger(__name__)

# How long "this monitor is flapping" is remembered as said, so the incident hears it once per fall.
FLAP_NOTE_SECONDS = 86400

STATUS_FIELDS = [
    "last_checked_at",
    "last_latency_ms",
    "last_error",
    "last_warning",
    "failures",
    "successes",
    "recent_latencies",
]


@transaction.atomic
def claim_due(now=None, limit=None):
    """The ids of enabled monitors due by `now` (oldest first, at most `limit`), their next check moved on.

    The due rows are locked and rows another dispatcher holds are skipped, so two dispatches at
    once hand out disjoint sets (PostgreSQL; SQLite runs one writer at a time anyway).
    """
    now = now or timezone.now()
    limit = limit or settings.MONITOR_DISPATCH_LIMIT
    _add_missing_statuses(now)
    due = (
        MonitorStatus.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(next_check_at__lte=now, monitor__is_enabled=True)
        .order_by("next_check_at")
    )
    due = list(due.values_list("pk", "monitor__interval")[:limit])
    by_interval = {}
    for pk, interval in due:
        by_interval.setdefault(interval, []).append(pk)
    for interval, pks in by_interval.items():
        MonitorStatus.objects.filter(pk__in=pks).update(next_check_at=now + interval)
    return [pk for pk, _ in due]


def close_quiet_outages(now=None):
    """Resolve the outages the checker opened that nothing they list is down for any more; returns how many.

    A monitor that recovers resolves its incident itself; this catches the rest: a monitor
    disabled or deleted while down, a guest's outage whose host's incident got the recovery.
    One query finds them however many outages are open (it runs at every dispatch).
    """
    now = now or timezone.now()
    down = Monitor.objects.filter(is_enabled=True, state=Monitor.State.DOWN)
    # Two levels out: from the link table, through the monitor query, to the incident.
    incident = OuterRef(OuterRef("pk"))
    listed_machines = Incident.machines.through.objects.filter(incident=incident).values("machine")
    listed_guests = Incident.guests.through.objects.filter(incident=incident).values("guest")
    quiet = (
        Incident.objects.filter(cause=Incident.Cause.OUTAGE)
        .exclude(cause_key="")
        .exclude(status=Incident.Status.RESOLVED)
        .exclude(Exists(down.filter(Q(machine__in=listed_machines) | Q(guest__in=listed_guests))))
    )
    keys = list(quiet.values_list("cause_key", flat=True))
    for key in keys:
        policy.recover(
            Incident.Cause.OUTAGE,
            key,
            note="No enabled monitor reports anything this incident lists as down any more.",
            kind=TimelineEntry.Kind.CHECK_RECOVERED,
            still_affected=_something_still_down,  # asked again under the lock: a check may have landed since
            at=now,
        )
    return len(keys)


def _add_missing_statuses(now):
    missing = Monitor.objects.filter(is_enabled=True, status__isnull=True).values_list("pk", flat=True)
    MonitorStatus.objects.bulk_create(
        [MonitorStatus(monitor_id=pk, next_check_at=now) for pk in missing], ignore_conflicts=True
    )


def probe_for(monitor):
    """What to send over the network for this monitor."""
    return Probe(
        kind=monitor.kind,
        target=monitor.target,
        port=monitor.port,
        timeout=max(monitor.timeout.total_seconds(), 0.1),
        expected_status=monitor.expected_status,
        keyword=monitor.keyword,
        follow_redirects=monitor.follow_redirects,
        tls_warn_days=monitor.tls_warn_days,
        expected_addresses=tuple(monitor.expected_addresses.split()),
    )


def check_batch(ids, now=None):
    """Probe these monitors concurrently and record the results; returns how many went down and up."""
    monitors = list(
        Monitor.objects.filter(pk__in=ids, is_enabled=True).select_related("machine", "guest__machine", "status")
    )
    if not monitors:
        return {"checked": 0, "down": 0, "up": 0}
    probes, refused = [], {}
    for i, monitor in enumerate(monitors):
        try:
            probes.append(probe_for(monitor))
        except ValueError as exc:
            # A row the form would refuse (a TCP check without a port): down with why, not a lost batch.
            refused[i] = Result(ok=False, error=f"cannot be checked: {exc}")
    results = iter(run_probes(probes, concurrency=settings.MONITOR_CONCURRENCY))
    return record(monitors, [refused.get(i) or next(results) for i in range(len(monitors))], now=now or timezone.now())


def record(monitors, results, *, now):
    """Keep one result per monitor: the bookkeeping in one UPDATE, each change of state on its own."""
    statuses, changes, held = [], [], []
    flapping = _flapping(monitors, results, now)
    quiet = settings.MONITOR_FLAP_QUIET_MINUTES * 60
    for monitor, result in zip(monitors, results, strict=True):
        status = _status_of(monitor, now)
        up_after = monitor.up_after
        if monitor.pk in flapping:
            up_after = flap_up_after(up_after, monitor.interval.total_seconds(), quiet)
            if status.successes + 1 == monitor.up_after < up_after:
                held.append(monitor)  # the check that would have brought it back: say why it did not
        step = judge(
            monitor.state,
            status.failures,
            status.successes,
            result.ok,
            down_after=monitor.down_after,
            up_after=up_after,
        )
        status.failures, status.successes = step.failures, step.successes
        status.last_checked_at, status.last_latency_ms = now, result.latency_ms
        status.last_error, status.last_warning = result.error[:300], result.warning[:300]
        status.remember_latency(result.latency_ms if result.ok else None)
        statuses.append(status)
        if step.changed_from(monitor.state):
            changes.append((monitor, step.state, result))
    save_statuses(statuses)
    CheckerClock.tick(now)
    for monitor in held:
        _note_flapping(monitor, now)
    counts = {"checked": len(monitors), "down": 0, "up": 0}
    # Machines before guests: a host and its guests going down in one round make one incident, the host's.
    changes.sort(key=lambda change: change[0].machine_id is None)
    for monitor, state, result in changes:
        if change_state(monitor, state, result, now=now):
            counts[state] = counts.get(state, 0) + 1
    return counts


def _flapping(monitors, results, now):
    """The ids of the down monitors answering now that are flapping (monitors.verdicts): one query, if any."""
    answering = [
        monitor.pk for monitor, result in zip(monitors, results, strict=True) if monitor.state == DOWN and result.ok
    ]
    if not answering:
        return set()
    changes = (
        MonitorTransition.objects.filter(monitor__in=answering, at__gt=now - FLAP_WINDOW)
        .exclude(from_state=UNKNOWN)
        .order_by()
        .values("monitor")
        .annotate(changes=Count("pk"))
        .values_list("monitor", "changes")
    )
    return {pk for pk, count in changes if is_flapping(count, flap_changes=settings.MONITOR_FLAP_CHANGES)}


def _note_flapping(monitor, now):
    """Say once per fall, on the incident people work on, why a monitor that answers is still down."""
    since = monitor.state_changed_at.timestamp() if monitor.state_changed_at else 0
    try:
        first = cache.add(f"monitors:flap-noted:{monitor.pk}:{since:.0f}", True, FLAP_NOTE_SECONDS)
    except Exception as exc:  # the note only explains; a cache that does not answer must not cost the batch
        logger.warning("monitor %s: flapping note skipped, cache unreachable (%s)", monitor.pk, exc)
        return
    if not first:
        return
    incident = policy.work_incident(monitor.guest or monitor.machine)
    if incident is not None:
        incident.note(
            f"{monitor} answers again but has gone down and up repeatedly in the last "
            f"{FLAP_WINDOW.total_seconds() / 60:.0f} minutes: it counts as up once it has answered for "
            f"{settings.MONITOR_FLAP_QUIET_MINUTES} minutes.",
            kind=TimelineEntry.Kind.NOTE,
            at=now,
        )


# PostgreSQL types a VALUES list from its first row: the casts keep empty latencies numeric.
PG_CASTS = ["bigint", "timestamptz", "double precision", "text", "text", "integer", "integer", "text"]


def save_statuses(statuses):
    """Write the batch's bookkeeping in one UPDATE … FROM (VALUES …): Django's bulk_update builds a CASE per
    field and row and spent 83% of a steady round in it (cProfile, 2,000 monitors)."""
    if not statuses:
        return
    if connection.vendor not in ("postgresql", "sqlite"):
        MonitorStatus.objects.bulk_update(statuses, STATUS_FIELDS)
        return
    fields = [MonitorStatus._meta.get_field(name) for name in ["monitor", *STATUS_FIELDS]]
    table = connection.ops.quote_name(MonitorStatus._meta.db_table)
    casts = PG_CASTS if connection.vendor == "postgresql" else [""] * len(fields)
    first = "(" + ", ".join(f"%s::{cast}" if cast else "%s" for cast in casts) + ")"
    rest = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = []
    for status in statuses:
        values = [status.monitor_id, *(getattr(status, name) for name in STATUS_FIELDS)]
        params += [field.get_db_prep_save(value, connection) for field, value in zip(fields, values, strict=True)]
    columns = ", ".join(
        f"{connection.ops.quote_name(field.column)} = v.column{i}" for i, field in enumerate(fields[1:], start=2)
    )
    rows = ", ".join([first] + [rest] * (len(statuses) - 1))
    sql = f"UPDATE {table} SET {columns} FROM (VALUES {rows}) AS v WHERE {table}.monitor_id = v.column1"  # noqa: S608 - names are the model's; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def reschedule(monitor, now=None, *, re_enabled=False):
    """Bring the monitor's next check in to at most now + its interval (to now if it was just re-enabled);
    a later check is never pushed back. Returns whether it moved.

    Called on every save of a Monitor (monitors.apps): a monitor changed in the admin or a script
    from 10 minutes to 1 takes effect within a minute, not after the old next check.
    """
    if not monitor.is_enabled or monitor.interval is None:
        return False
    now = now or timezone.now()
    soon = now if re_enabled else now + monitor.interval
    return bool(MonitorStatus.objects.filter(monitor=monitor.pk, next_check_at__gt=soon).update(next_check_at=soon))


def monitor_saving(sender, instance, raw=False, **kwargs):
    """pre_save receiver of hosts.Monitor: whether it was enabled before this save, for monitor_saved."""
    if not raw and instance.pk:
        instance._was_enabled = Monitor.objects.filter(pk=instance.pk).values_list("is_enabled", flat=True).first()


def monitor_saved(sender, instance, raw=False, **kwargs):
    """post_save receiver of hosts.Monitor (connected in monitors.apps, as hosts cannot import the checker)."""
    if not raw:
        reschedule(instance, re_enabled=getattr(instance, "_was_enabled", None) is False)


def _status_of(monitor, now):
    try:
        return monitor.status
    except MonitorStatus.DoesNotExist:
        status, _ = MonitorStatus.objects.get_or_create(monitor=monitor, defaults={"next_check_at": now})
        return status


@transaction.atomic
def change_state(monitor, state, result, *, now):
    """Move the monitor to `state`, keep the transition and tell incidents.policy; False if another worker did."""
    old = monitor.state
    moved = Monitor.objects.filter(pk=monitor.pk, state=old).update(state=state, state_changed_at=now)
    if not moved:
        return False
    monitor.state, monitor.state_changed_at = state, now
    MonitorTransition.objects.create(
        monitor=monitor, at=now, from_state=old, to_state=state, error=result.error[:300] if state == DOWN else ""
    )
    subject = monitor.guest or monitor.machine
    if state == DOWN:
        affected = {"machines": [subject]} if isinstance(subject, Machine) else {"guests": [subject]}
        policy.report(
            Incident.Cause.OUTAGE,
            policy.outage_key(subject),
            title=f"{subject} is down",
            note=f"{monitor} is down: {result.error}",
            kind=TimelineEntry.Kind.CHECK_FAILED,
            at=now,
            **affected,
        )
    elif old == DOWN:
        policy.leave(
            policy.work_incident(subject),
            cause=Incident.Cause.OUTAGE,
            note=f"{monitor} answers again ({_latency(result)}).",
            kind=TimelineEntry.Kind.CHECK_RECOVERED,
            still_affected=_something_still_down,
            at=now,
        )
    logger.info("monitor %s: %s → %s", monitor.pk, old, state)
    return True


def _something_still_down(incident):
    """True while an enabled monitor of a machine or guest the incident lists is down."""
    machines = Incident.machines.through.objects.filter(incident=incident).values("machine")
    guests = Incident.guests.through.objects.filter(incident=incident).values("guest")
    down = Monitor.objects.filter(is_enabled=True, state=Monitor.State.DOWN)
    return down.filter(Q(machine__in=machines) | Q(guest__in=guests)).exists()


def _latency(result):
    return f"{result.latency_ms:.0f} ms" if result.latency_ms is not None else "no latency"
