"""What a page shows of a monitor's past: uptime over 24 hours, 7 and 30 days, the latest changes of
state, and a response-time sparkline.

Uptime comes from MonitorTransition rows: within a window, the time the monitor was down out of the
time its state was known (up or down; a monitor not checked yet is neither). The state at the
window's start is the from_state of the first change inside it, or the monitor's current state
when nothing changed inside it; so the rows of the last 30 days are all it needs, and pruning
older ones (monitors.tasks.prune_monitor_history, MONITOR_HISTORY_DAYS ≥ 30) keeps it right.

The sparkline draws MonitorStatus.latencies (the last SPARKLINE_CHECKS checks), a failed check
as a gap with a red tick, as an inline SVG: no script, nothing fetched from elsewhere.

`attach_history(monitors)` gives every monitor of a page its `history` in one query, however many
monitors the page lists (their `status` selected with them).
"""

import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import SPARKLINE_CHECKS, MonitorStatus, MonitorTransition
from .verdicts import DOWN, FLAP_WINDOW, UNKNOWN, UP, is_flapping

WINDOWS = [("24 h", timedelta(hours=24)), ("7 d", timedelta(days=7)), ("30 d", timedelta(days=30))]
RECENT_CHANGES = 5


def uptime(transitions, state, *, start, end):
    """The share (0–1) of the known time in [start, end] the monitor was up; None if it was never known.

    `transitions` are the monitor's changes (objects with at, from_state, to_state) in any order,
    covering at least [start, now]; `state` is its state now.
    """
    later = sorted((t for t in transitions if t.at > start), key=lambda t: t.at)
    # Its state at the start: what the first change after it changed from; none since: what it is now.
    current = later[0].from_state if later else state
    time_in = {UP: timedelta(), DOWN: timedelta(), UNKNOWN: timedelta()}
    cursor = start
    for change in (t for t in later if t.at <= end):
        time_in[current] = time_in.get(current, timedelta()) + (change.at - cursor)
        current, cursor = change.to_state, change.at
    time_in[current] = time_in.get(current, timedelta()) + (end - cursor)
    known = time_in[UP] + time_in[DOWN]
    if not known:
        return None
    return time_in[UP] / known


def percent(share):
    """“99.95 %”, never rounded up to a 100 % that was not; “—” when unknown."""
    if share is None:
        return "—"
    if share >= 1:
        return "100 %"
    return f"{math.floor(share * 10000) / 100:.2f} %"


@dataclass(frozen=True)
class Sparkline:
    """An SVG's worth of drawing: the line through the good checks, and where the failed ones are."""

    path: str  # SVG path data; "M" starts a new piece after a gap
    failed_at: list  # the left edge (x, as text) of each failed check's tick
    summary: str  # for screen readers and the hover title
    width: int
    height: int

    @property
    def tick_y(self):
        return self.height - TICK_HEIGHT


TICK_HEIGHT = 5


def sparkline(latencies, *, width=120, height=24):
    """Draw latencies (ms, oldest first; None a failed check) into a width × height box, newest at the right."""
    checks = latencies[-SPARKLINE_CHECKS:]
    good = [value for value in checks if value is not None]
    step = width / max(SPARKLINE_CHECKS - 1, 1)
    left = width - step * (len(checks) - 1)  # a new monitor's few checks sit at the right end
    top = max(good, default=0) or 1
    floor = height - TICK_HEIGHT - 1  # the line stays above the failed checks' ticks
    pen_up, parts, failed_at = True, [], []
    for i, value in enumerate(checks):
        x = round(left + i * step, 1)
        if value is None:
            failed_at.append(f"{max(x - 1, 0):g}")
            pen_up = True
            continue
        y = round(floor - (floor - 2) * value / top, 1)
        parts.append(f"{'M' if pen_up else 'L'}{x:g} {y:g}")
        pen_up = False
    if not checks:
        summary = "No checks yet."
    elif good:
        summary = f"Response time over the last {len(checks)} checks: {min(good):.0f}–{max(good):.0f} ms"
        summary += f", {len(checks) - len(good)} failed." if len(good) < len(checks) else "."
    else:
        summary = f"The last {len(checks)} checks all failed."
    return Sparkline(" ".join(parts), failed_at, summary, width, height)


@dataclass
class History:
    """One monitor's past, as its page shows it."""

    uptimes: list  # [(label, "99.95 %")] for 24 h, 7 d, 30 d
    flapping: str  # "" or what flapping means for it now
    sparkline: Sparkline


def attach_history(monitors, now=None):
    """Give each monitor a `history` (History); one query for all of them. Returns the page's latest changes.

    The monitors should come with their `status` (select_related("status")); a monitor without one
    (never checked) has an empty sparkline.
    """
    now = now or timezone.now()
    longest = max(length for _, length in WINDOWS)
    by_monitor = {monitor.pk: [] for monitor in monitors}
    if by_monitor:
        changes = MonitorTransition.objects.filter(monitor__in=by_monitor, at__gt=now - longest, at__lte=now)
        for change in changes.order_by("at", "pk"):
            by_monitor[change.monitor_id].append(change)
    for monitor in monitors:
        changes = by_monitor[monitor.pk]
        flips = sum(1 for c in changes if c.from_state != UNKNOWN and c.at > now - FLAP_WINDOW)
        monitor.history = History(
            uptimes=[
                (label, percent(uptime(changes, monitor.state, start=now - length, end=now)))
                for label, length in WINDOWS
            ],
            flapping=_flapping_note(monitor, flips),
            sparkline=sparkline(_latencies(monitor)),
        )
    latest = sorted((c for changes in by_monitor.values() for c in changes), key=lambda c: (c.at, c.pk), reverse=True)
    names = {monitor.pk: monitor for monitor in monitors}
    for change in latest[:RECENT_CHANGES]:
        change.monitor = names[change.monitor_id]  # already loaded: no query per row to name it
    return latest[:RECENT_CHANGES]


def _flapping_note(monitor, flips):
    if monitor.state != DOWN or not is_flapping(flips, flap_changes=settings.MONITOR_FLAP_CHANGES):
        return ""
    return f"flapping: counts as up once it has answered for {settings.MONITOR_FLAP_QUIET_MINUTES} minutes"


def _latencies(monitor):
    try:
        return monitor.status.latencies
    except MonitorStatus.DoesNotExist:
        return []
