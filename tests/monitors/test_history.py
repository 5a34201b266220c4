"""A volunteer opens xen1's page and sees how it has been doing: uptime over 24 hours, 7 and 30 days,
the latest changes of state and a sparkline of its response times — and the history stays bounded:
60 latencies per monitor, changes older than MONITOR_HISTORY_DAYS pruned daily. Real TCP listeners on
127.0.0.1 for the checks; transitions written at controlled times for the uptime figures."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hosts.models import Monitor
from monitors.checker import check_batch
from monitors.history import attach_history, percent, sparkline, uptime
from monitors.models import SPARKLINE_CHECKS, MonitorStatus, MonitorTransition
from monitors.tasks import prune_monitor_history

from ..factories import make_guest, make_machine
from ..test_settings import PRODUCTION, run_manage
from .test_a_host_that_stops_answering import Listener

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def service():
    listener = Listener().start()
    yield listener
    listener.stop()


@pytest.fixture
def xen1():
    return make_machine(hostname="xen1.harbor.example.org")


def watch(subject, port, **fields):
    field = "guest" if subject._meta.model_name == "guest" else "machine"
    return Monitor.objects.create(
        kind="tcp", target="127.0.0.1", port=port, timeout=timedelta(seconds=1), **{field: subject}, **fields
    )


def went(monitor, *changes):
    """Write the monitor's history: (hours ago, from, to) for each change, then leave it in the last state."""
    for hours_ago, old, new in changes:
        at = NOW - timedelta(hours=hours_ago)
        MonitorTransition.objects.create(monitor=monitor, at=at, from_state=old, to_state=new)
    Monitor.objects.filter(pk=monitor.pk).update(state=changes[-1][2])
    monitor.refresh_from_db()


def uptimes(monitor, now=NOW):
    monitors = list(Monitor.objects.filter(pk=monitor.pk).select_related("status"))
    attach_history(monitors, now=now)
    return dict(monitors[0].history.uptimes)


# --- Uptime, from the changes of state ---------------------------------------------------------


def test_a_monitor_up_all_month_is_100_percent(xen1):
    monitor = watch(xen1, 1)
    went(monitor, (24 * 40, "unknown", "up"))  # before every window: up throughout

    assert uptimes(monitor) == {"24 h": "100 %", "7 d": "100 %", "30 d": "100 %"}


def test_six_hours_down_yesterday_evening(xen1):
    monitor = watch(xen1, 1)
    went(monitor, (24 * 40, "unknown", "up"), (30, "up", "down"), (24, "down", "up"))

    # Down 6 h, all of it before the last 24 h: 6 of 168 hours in the week, 6 of 720 in the month.
    assert uptimes(monitor) == {"24 h": "100 %", "7 d": "96.42 %", "30 d": "99.16 %"}


def test_down_now_since_an_hour_ago(xen1):
    monitor = watch(xen1, 1)
    went(monitor, (24 * 40, "unknown", "up"), (1, "up", "down"))

    # The state at the start of each window is the first change's from_state: up; then down for 1 h.
    assert uptimes(monitor)["24 h"] == "95.83 %"


def test_with_no_change_inside_the_window_the_current_state_counts(xen1):
    monitor = watch(xen1, 1)
    went(monitor, (24 * 45, "unknown", "up"), (24 * 40, "up", "down"))  # down for 40 days, and still

    assert uptimes(monitor) == {"24 h": "0.00 %", "7 d": "0.00 %", "30 d": "0.00 %"}


def test_a_new_monitor_counts_only_the_time_it_was_known(xen1):
    monitor = watch(xen1, 1)
    went(monitor, (10, "unknown", "up"), (2, "up", "down"), (1, "down", "up"))

    # Known for 10 hours, down for 1 of them; the hours before its first check are not downtime.
    assert uptimes(monitor) == {"24 h": "90.00 %", "7 d": "90.00 %", "30 d": "90.00 %"}


def test_a_monitor_never_checked_has_no_uptime_yet(xen1):
    assert uptimes(watch(xen1, 1)) == {"24 h": "—", "7 d": "—", "30 d": "—"}


def test_uptime_is_never_rounded_up_to_100_percent():
    assert percent(0.99999) == "99.99 %"
    assert percent(1.0) == "100 %"
    assert percent(None) == "—"


def test_uptime_ignores_changes_outside_the_window(xen1):
    class Change:
        def __init__(self, hours_ago, old, new):
            self.at, self.from_state, self.to_state = NOW - timedelta(hours=hours_ago), old, new

    history = [Change(50, "up", "down"), Change(48, "down", "up"), Change(-1, "up", "down")]  # one in the future
    assert uptime(history, "down", start=NOW - timedelta(hours=24), end=NOW) == 1.0


# --- The sparkline: the last 60 latencies, kept in the status row, drawn as SVG ------------------


def test_each_check_adds_its_latency_and_a_failed_one_leaves_a_gap(xen1, service):
    monitor = watch(xen1, service.port)
    check_batch([monitor.pk])
    check_batch([monitor.pk])
    service.stop()
    check_batch([monitor.pk])

    latencies = MonitorStatus.objects.get(monitor=monitor).latencies
    assert len(latencies) == 3
    assert all(value is not None and value >= 0 for value in latencies[:2])
    assert latencies[2] is None


def test_only_the_last_60_latencies_are_kept(xen1, service):
    monitor = watch(xen1, service.port)
    check_batch([monitor.pk])
    MonitorStatus.objects.filter(monitor=monitor).update(recent_latencies=" ".join(str(n) for n in range(100)))

    check_batch([monitor.pk])

    latencies = MonitorStatus.objects.get(monitor=monitor).latencies
    assert len(latencies) == SPARKLINE_CHECKS
    assert latencies[0] == 41.0  # the oldest 41 are gone; the newest is this check's
    assert latencies[-2] == 99.0


def test_a_batch_keeps_writing_its_bookkeeping_in_one_update(xen1, service):
    monitors = [watch(xen1, service.port) for _ in range(5)]
    check_batch([m.pk for m in monitors])  # unknown → up: news, written on its own

    with CaptureQueriesContext(connection) as queries:
        check_batch([m.pk for m in monitors])

    updates = [q["sql"] for q in queries if "monitors_monitorstatus" in q["sql"] and q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert all(len(status.latencies) == 2 for status in MonitorStatus.objects.all())


def test_the_sparkline_breaks_at_a_failed_check_and_marks_it():
    line = sparkline([10.0, 20.0, None, 10.0])

    assert line.path.count("M") == 2  # two pieces of line, the gap between them
    assert len(line.failed_at) == 1
    assert "10–20 ms, 1 failed" in line.summary


def test_a_sparkline_of_nothing_says_so():
    line = sparkline([])
    assert line.path == "" and line.summary == "No checks yet."


# --- On the pages ---------------------------------------------------------------------------------


def test_the_machine_page_shows_the_sparkline_uptime_and_latest_changes(member_client, xen1, service):
    monitor = watch(xen1, service.port)
    check_batch([monitor.pk])
    service.stop()
    check_batch([monitor.pk])
    check_batch([monitor.pk])  # down after two failures

    html = member_client.get(f"/machines/{xen1.hostname}/").content.decode()

    start = html.index('<ul class="monitors">')
    head = html[start : html.index("</section>", start)]
    assert '<svg class="sparkline"' in head and "<path d=" in head
    assert head.count('<rect class="failed"') == 2
    svg = head[head.index("<svg") : head.index("</svg>")]
    assert not re.search(r"<script|href=|src=|url\(", svg)  # drawn here: nothing to run, nothing fetched
    assert re.search(r"uptime 24 h <strong>\d+\.\d\d %</strong> · 7 d <strong>", head)
    changes = head[head.index("Latest changes of state") :]
    assert changes.index("Down") < changes.index("Up")  # newest first
    assert "refused" in changes.lower()


def test_the_guest_page_shows_its_monitors_history_too(member_client, service):
    wiki = make_guest(name="wiki.example.org")
    monitor = watch(wiki, service.port)
    check_batch([monitor.pk])

    html = member_client.get("/guests/wiki.example.org/").content.decode()

    assert '<svg class="sparkline"' in html
    assert "uptime 24 h <strong>100 %</strong>" in html


def test_the_machine_page_does_not_query_once_per_monitor(member_client, xen1, service):
    def queries_for_page():
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert member_client.get(f"/machines/{xen1.hostname}/").status_code == 200
        return len(queries)

    member_client.get("/")
    first = watch(xen1, service.port)
    check_batch([first.pk])
    one = queries_for_page()

    more = [watch(xen1, service.port) for _ in range(6)]
    check_batch([m.pk for m in more])
    went(more[0], (3, "up", "down"), (2, "down", "up"))

    assert queries_for_page() == one


# --- Pruning --------------------------------------------------------------------------------------


def test_changes_older_than_the_history_policy_are_pruned_daily(xen1, settings):
    settings.MONITOR_HISTORY_DAYS = 90
    monitor = watch(xen1, 1)
    went(monitor, (24 * 100, "unknown", "up"), (24 * 91, "up", "down"), (24 * 89, "down", "up"))

    assert prune_monitor_history(now=NOW) == 2

    assert list(MonitorTransition.objects.values_list("to_state", flat=True)) == ["up"]
    # 30-day uptime needs nothing older than 30 days: still right after pruning.
    assert uptimes(monitor)["30 d"] == "100 %"


def test_a_history_shorter_than_30_days_is_refused_at_start(tmp_path):
    result = run_manage("check", env={**PRODUCTION, "MONITOR_HISTORY_DAYS": "7"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "MONITOR_HISTORY_DAYS must be 30 or more" in result.stderr
