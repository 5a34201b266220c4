"""60,000 uptime monitors on the real scheduling path: dispatch every 5 s, batches checked by Celery workers.

    .venv/bin/python -m bench.monitor_load                                 # defaults: prefork -c 2, 500 / 500
    .venv/bin/python -m bench.monitor_load --worker-concurrency 3 --batch-size 2500 --concurrency 500
    .venv/bin/python -m bench.monitor_load --workers 2 --pool solo         # two solo workers instead
    .venv/bin/python -m bench.monitor_load --monitors 20000 --profile      # a third of them; cProfile a batch
    .venv/bin/python -m bench.monitor_load --start herd                    # every monitor due at once

Needs the bench co-op (`python -m bench.make_big_coop`: 10,000 machines with a monitor each,
50,000 guests with an HTTP monitor each), PostgreSQL and Redis. What it does:

1. copies the co-op into a database of its own (`<source>_live`, dropped first; `CREATE DATABASE
   ... TEMPLATE`), so the co-op stays as make_big_coop left it;
2. starts bench.listeners (a process of its own) and points every monitor at it: machines get
   TCP checks (down ones at a refused port or one that never completes a handshake), guests
   HTTP checks (1 in 20 answer after 2 s; the down ones are refused, answer 503 or never answer,
   a third each); every monitor keeps a 60 s interval, a 5 s timeout, down after 2 failures;
   with the alerts app there, a rota of three and a default escalation policy (email to the
   listeners' SMTP server);
3. gives each monitor its checker status with its first check spread over the first interval
   (`--start herd`: all due at once, as after a checker restart) and logs every claim and every
   recorded check through a statement trigger on monitors_monitorstatus (bench tables only);
4. starts real Celery workers (`celery -A switchboard worker`, the broker on Redis database 5,
   MONITOR_BATCH_SIZE and MONITOR_CONCURRENCY from the options; one more solo worker sends the
   alerts, on ALERT_QUEUE) and sends monitors.dispatch_due_monitors every 5 s, as beat's entry
   does (beat itself and the rest of its schedule do not run); the dispatch runs on a worker;
5. after one interval of warm-up measures for `--steady` seconds, then stops the "victim"
   listeners (100 machines and their guests) and waits until their monitors are down and
   their incidents open, then starts them again and waits until they are up;
6. prints: checks/s; lag from due to checked (p50/p99/max) and the gaps between two checks of a
   monitor (target: every monitor checked within its interval + 5 s); batch times, how busy
   the worker slots were and what a change of state costs a batch; CPU and peak RSS of the
   workers, the listeners, PostgreSQL and Redis; false alarms; what else was running; listener
   stopped → monitor down → incident opened → first notification sent p50/p99 (target:
   down_after × interval + 5 s), and back up → monitor up → incident resolved.

`--serve` keeps the load running until stdin closes (bench.pages --with-checker uses it) and
then prints its figures as one JSON line. A benchmark: it prints figures and never fails.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta

from bench import proc
from bench.env import DEFAULT_DATABASE, PG_SERVER, ROOT, bench_environ, use_database

INTERVAL = 60  # seconds, every monitor
TIMEOUT = 5
DOWN_AFTER, UP_AFTER = 2, 1
DISPATCH_EVERY = 5  # seconds: beat's entry for monitors.dispatch_due_monitors
SLOW_SHARE = 20  # 1 guest in SLOW_SHARE answers after listeners.SLOW_SECONDS
ALERT_QUEUE = "bench-alerts"
WORKERS_START_SECONDS = 30  # the first checks are due this long after the statuses are made


def live_database(source):
    return f"{source}_live"


def copy_database(source, target):
    """Drop `target` and make it again as a copy of `source` (no one may be connected to `source`)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(target), sql.Identifier(source)))


# --- The data: monitors pointed at the listeners ---------------------------------------------------


def pick_victims(count):
    """`count` machines that are up, with guests that are up, in no open incident: the ones that will die."""
    from hosts.models import Machine, Monitor
    from incidents.models import Incident

    open_incidents = Incident.objects.exclude(status=Incident.Status.RESOLVED)
    candidates = list(
        Machine.objects.filter(monitors__state=Monitor.State.UP)
        .exclude(incidents__in=open_incidents)
        .exclude(guests__incidents__in=open_incidents)
        .exclude(guests__monitors__state=Monitor.State.DOWN)
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    step = max(len(candidates) // max(count, 1), 1)
    return candidates[::step][:count]


def retarget(ports, victims):
    """Point every monitor at the listeners (see the module docstring); returns {kind of answer: monitors}."""
    from django.db import connection

    from hosts.models import Guest, Monitor

    table = Monitor._meta.db_table
    guests = Guest._meta.db_table

    def pick(kind):
        return "(ARRAY[" + ",".join(str(p) for p in ports[kind]) + f"])[1 + id % {len(ports[kind])}]"

    def tcp(kind):
        return f"kind = 'tcp', target = '127.0.0.1', port = {pick(kind)}"

    def http(kind):
        return f"kind = 'http', port = NULL, target = 'http://127.0.0.1:' || {pick(kind)} || '/'"

    def share(n):  # 0 .. n-1, evenly over the monitors whatever their ids
        return f"abs(hashtext(id::text)) % {n}"

    victim_list = ",".join(str(pk) for pk in victims) or "NULL"
    machine, guest, down = "machine_id IS NOT NULL", "guest_id IS NOT NULL", "state = 'down'"
    # (what it stands for, which monitors, what they check), in order: a monitor takes the first that fits.
    plans = [
        ("machine, will be stopped (TCP)", f"machine_id IN ({victim_list})", tcp("victim_tcp")),
        (
            "guest of such a machine (HTTP)",
            f"guest_id IN (SELECT id FROM {guests} WHERE machine_id IN ({victim_list}))",  # noqa: S608 - ids
            http("victim_http"),
        ),
        ("machine down: refused (TCP)", f"{machine} AND {down} AND {share(2)} = 0", tcp("refused")),
        ("machine down: no handshake (TCP)", f"{machine} AND {down}", tcp("tcp_hung")),
        ("machine up (TCP)", machine, tcp("tcp")),
        ("guest down: refused (HTTP)", f"{guest} AND {down} AND {share(3)} = 0", http("refused")),
        ("guest down: 503 (HTTP)", f"{guest} AND {down} AND {share(3)} = 1", http("http_error")),
        ("guest down: never answers (HTTP)", f"{guest} AND {down}", http("http_hung")),
        ("guest up, answers after 2 s (HTTP)", f"{guest} AND {share(SLOW_SHARE)} = 0", http("http_slow")),
        ("guest up (HTTP)", guest, http("http")),
    ]
    common = (
        f"interval = interval '{INTERVAL} seconds', timeout = interval '{TIMEOUT} seconds', "
        f"down_after = {DOWN_AFTER}, up_after = {UP_AFTER}, is_enabled = true, "
        "expected_status = NULL, keyword = '', follow_redirects = true"
    )
    mix = {}
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bench_done (id bigint PRIMARY KEY)")
        for label, where, check in plans:
            cursor.execute(
                f"WITH changed AS (UPDATE {table} SET {check}, {common} "  # noqa: S608 - the bench's own SQL
                f"WHERE {where} AND id NOT IN (SELECT id FROM bench_done) RETURNING id) "
                "INSERT INTO bench_done SELECT id FROM changed"
            )
            mix[label] = cursor.rowcount
        cursor.execute("DROP TABLE bench_done")
    return mix


def keep_only(count, victims):
    """Disable all but `count` monitors (the victims' kept), for a quick try at a smaller scale."""
    from django.db.models import Q

    from hosts.models import Monitor

    victims_q = Q(machine__in=victims) | Q(guest__machine__in=victims)
    kept = list(Monitor.objects.filter(victims_q).values_list("pk", flat=True))
    rest = Monitor.objects.exclude(victims_q).order_by("?").values_list("pk", flat=True)[: max(count - len(kept), 0)]
    Monitor.objects.exclude(pk__in=kept + list(rest)).update(is_enabled=False)


def seed_statuses(first_due, herd):
    """Every monitor's checker status, consistent with its state; the first checks spread over one interval
    (or all due at once: `herd`)."""
    from hosts.models import Monitor
    from monitors.models import MonitorStatus

    MonitorStatus.objects.all().delete()
    monitors = list(Monitor.objects.filter(is_enabled=True).order_by("pk").values_list("pk", "state"))
    step = 0 if herd else INTERVAL / max(len(monitors), 1)
    MonitorStatus.objects.bulk_create(
        [
            MonitorStatus(
                monitor_id=pk,
                next_check_at=first_due + timedelta(seconds=n * step),
                failures=DOWN_AFTER if state == Monitor.State.DOWN else 0,
                successes=UP_AFTER if state == Monitor.State.UP else 0,
            )
            for n, (pk, state) in enumerate(monitors)
        ],
        batch_size=5000,
    )


def setup_alerting():
    """An on-call rota of three people (email) and a default escalation policy, when the alerts app is there.

    Returns False without it. The people's email goes to the listeners' mail server (EMAIL_URL).
    """
    from django.apps import apps

    if not apps.is_installed("alerts"):
        return False
    from django.utils import timezone

    from alerts.models import EscalationPolicy, EscalationStep, Rota, RotaMember
    from coop.models import ContactMethod, Person

    people = list(Person.objects.filter(contact_methods__kind=ContactMethod.Kind.EMAIL).distinct().order_by("pk")[:3])
    rota = Rota.objects.create(name="Bench on call", starts_on=timezone.localdate() - timedelta(days=1))
    for position, person in enumerate(people):
        RotaMember.objects.create(rota=rota, person=person, position=position)
    ContactMethod.objects.filter(person__in=people, kind=ContactMethod.Kind.EMAIL).update(gets_alerts=True)
    EscalationPolicy.objects.filter(is_default=True).update(is_default=False)
    policy = EscalationPolicy.objects.create(name="Bench default", is_default=True, repeat=0)
    EscalationStep.objects.create(policy=policy, notify=EscalationStep.Notify.ROTA, rota=rota, wait_minutes=10)
    return True


LOG_SQL = """
CREATE UNLOGGED TABLE bench_claim (monitor_id bigint, due timestamptz, claimed timestamptz);
CREATE UNLOGGED TABLE bench_check (monitor_id bigint, checked timestamptz, logged timestamptz);
CREATE FUNCTION bench_log_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bench_claim SELECT n.monitor_id, o.next_check_at, clock_timestamp()
        FROM new_rows n JOIN old_rows o USING (monitor_id) WHERE n.next_check_at IS DISTINCT FROM o.next_check_at;
    INSERT INTO bench_check SELECT n.monitor_id, n.last_checked_at, clock_timestamp()
        FROM new_rows n JOIN old_rows o USING (monitor_id) WHERE n.last_checked_at IS DISTINCT FROM o.last_checked_at;
    RETURN NULL;
END $$;
CREATE TRIGGER bench_log_status AFTER UPDATE ON monitors_monitorstatus
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bench_log_status();
"""


def install_log():
    """Log every claim (the due time it had) and every recorded check, in two bench tables of this database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(LOG_SQL)


def clear_broker(app):
    """Empty the bench broker's queues, and the tasks a killed run's workers held unacknowledged (kombu's
    Redis transport would hand those out again): nothing from an earlier run may check this database."""
    with app.connection_for_write() as conn:
        conn.default_channel.client.delete("celery", ALERT_QUEUE, "unacked", "unacked_index")


# --- The processes ------------------------------------------------------------------------------------


class Load:
    """The listeners, the workers, and the dispatch every 5 s; `stop()` ends what was started."""

    def __init__(self, args, database):
        self.args, self.database = args, database
        self.listeners = None
        self.workers, self.alert_workers = [], []
        self.logs, self.log_folder, self.keep_logs = [], None, False

    def start_listeners(self):
        self.listeners = subprocess.Popen(
            [sys.executable, "-m", "bench.listeners"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.listeners.stdout.readline()
        if not line:
            raise RuntimeError("bench.listeners did not start")
        return json.loads(line)

    def tell_listeners(self, command):
        """'stop' or 'start' the victims (returns the wall-clock time it happened), or count the 'mails'."""
        self.listeners.stdin.write(command + "\n")
        self.listeners.stdin.flush()
        reply = json.loads(self.listeners.stdout.readline())
        if command == "mails":
            return reply["mails"]
        return datetime.fromtimestamp(reply["stopped" if command == "stop" else "started"], tz=UTC)

    def worker_environ(self, smtp_port):
        return {
            **os.environ,
            **bench_environ(self.database),
            "C_FORCE_ROOT": "1",
            "MONITOR_BATCH_SIZE": str(self.args.batch_size),
            "MONITOR_CONCURRENCY": str(self.args.concurrency),
            # Alerts: to the listeners' mail server, sent by a worker of their own (ALERT_QUEUE).
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "ALERT_QUEUE": ALERT_QUEUE,
        }

    def start_workers(self, app, smtp_port):
        """The checker's workers (on Celery's default queue) and one solo worker for ALERT_QUEUE."""
        folder = self.log_folder = tempfile.mkdtemp(prefix="switchboard-bench-workers-")
        pool = [f"--pool={self.args.pool}", f"--concurrency={self.args.worker_concurrency}"]
        kinds = [("checker", n, pool) for n in range(self.args.workers)]
        kinds.append(("alerts", 0, ["--pool=solo", f"--queues={ALERT_QUEUE}"]))
        names = []
        for kind, n, options in kinds:
            name = f"bench-{kind}-{n}@{os.uname().nodename}"
            log = open(os.path.join(folder, f"{kind}-{n}.log"), "w+")  # noqa: SIM115 - closed in stop()
            command = [
                sys.executable, "-m", "celery", "-A", "switchboard", "worker", *options,
                f"--hostname={name}", "--loglevel=INFO", "--without-gossip", "--without-mingle",
            ]  # fmt: skip
            env = self.worker_environ(smtp_port)
            worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
            (self.workers if kind == "checker" else self.alert_workers).append(worker)
            self.logs.append(log)
            names.append(name)
        deadline = time.monotonic() + 60
        while len(app.control.ping(destination=names, timeout=1)) < len(names):
            if time.monotonic() > deadline or any(w.poll() is not None for w in self.workers + self.alert_workers):
                self.keep_logs = True
                raise RuntimeError(f"the workers did not start; see {folder}")

    def pids(self):
        return [w.pid for w in self.workers]

    def stop(self):
        for worker in self.workers + self.alert_workers:
            if worker.poll() is None:
                worker.terminate()  # a warm shutdown: the batch in hand is finished
        for worker in self.workers + self.alert_workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        for log in self.logs:
            log.close()
        if self.log_folder and not self.keep_logs:
            shutil.rmtree(self.log_folder, ignore_errors=True)
        if self.listeners is not None and self.listeners.poll() is None:
            self.listeners.stdin.close()  # the listeners end when their stdin closes
            try:
                self.listeners.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.listeners.kill()
                self.listeners.wait()


class Dispatcher:
    """Sends monitors.dispatch_due_monitors every DISPATCH_EVERY seconds (as beat would) and samples the queue."""

    def __init__(self, app):
        from monitors.tasks import dispatch_due_monitors

        self.app, self.task = app, dispatch_due_monitors
        self.next_at = time.monotonic()
        self.queue_lengths, self.time_waits = [], []

    def run_until(self, done, poll=None):
        """Dispatch on schedule until `done()` is true; `poll()` (if given) is called once a second."""
        while not done():
            now = time.monotonic()
            if now >= self.next_at:
                self.task.delay()
                self.next_at += DISPATCH_EVERY
                self.sample()
            if poll is not None:
                poll()
            time.sleep(min(1.0, max(self.next_at - time.monotonic(), 0.01)))

    def sample(self):
        with self.app.connection_for_read() as conn:
            self.queue_lengths.append(conn.default_channel.client.llen("celery"))
        self.time_waits.append(proc.time_wait_sockets())


# --- The figures --------------------------------------------------------------------------------------


def percentiles(values, *points):
    values = sorted(values)
    if not values:
        return [None] * len(points)
    return [values[min(len(values) - 1, round(p * (len(values) - 1)))] for p in points]


def spread(values):
    """{"p50", "p99", "max"} of `values` in seconds (None when there are none)."""
    found = percentiles(values, 0.5, 0.99, 1.0)
    return {name: None if v is None else round(v, 2) for name, v in zip(["p50", "p99", "max"], found, strict=True)}


def check_figures(since, until):
    """Checks, lag (due → checked) and gaps between checks, from the bench log, for checks in [since, until]."""
    from django.db import connection

    with connection.cursor() as cursor:
        # The k-th check of a monitor answers its k-th claim (FIFO), even when a backlog has it claimed twice.
        cursor.execute(
            """
            WITH claims AS (SELECT monitor_id, due, row_number() OVER (PARTITION BY monitor_id ORDER BY claimed) AS k
                            FROM bench_claim),
                 checks AS (SELECT monitor_id, checked, logged,
                                   row_number() OVER (PARTITION BY monitor_id ORDER BY logged) AS k,
                                   checked - lag(checked) OVER (PARTITION BY monitor_id ORDER BY logged) AS gap
                            FROM bench_check)
            SELECT EXTRACT(EPOCH FROM c.checked - cl.due), EXTRACT(EPOCH FROM c.logged - cl.due),
                   EXTRACT(EPOCH FROM c.gap)
            FROM checks c LEFT JOIN claims cl USING (monitor_id, k)
            WHERE c.checked BETWEEN %s AND %s
            """,
            [since, until],
        )
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT count(*) FROM monitors_monitorstatus s WHERE NOT EXISTS "
            "(SELECT 1 FROM bench_check c WHERE c.monitor_id = s.monitor_id AND c.checked >= %s)",
            [until - timedelta(seconds=INTERVAL + 5)],
        )
        late_at_end = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM monitors_monitorstatus")
        monitors = cursor.fetchone()[0]
    lags = [float(r[0]) for r in rows if r[0] is not None]
    recorded = [float(r[1]) for r in rows if r[1] is not None]
    gaps = [float(r[2]) for r in rows if r[2] is not None]
    seconds = (until - since).total_seconds()
    return {
        "monitors": monitors,
        "window_s": round(seconds, 1),
        "checks": len(rows),
        "checks_per_s": round(len(rows) / seconds, 1),
        "needed_per_s": round(monitors / INTERVAL, 1),
        "lag_s": spread(lags),
        "lag_recorded_s": spread(recorded),
        "gap_s": spread(gaps),
        "gaps": len(gaps),
        "gaps_over_target": sum(g > INTERVAL + 5 for g in gaps),
        "gaps_over_target_plus_1": sum(g > INTERVAL + 6 for g in gaps),
        "late_at_end": late_at_end,
    }


TASK_LINE = re.compile(r"Task (monitors\.\w+)\[[^\]]+\] succeeded in ([\d.]+)s: (.*)")
CHANGES = re.compile(r"'down': (\d+), 'up': (\d+)")


def false_alarms(victims, since, until):
    """State changes of monitors whose listener never stopped: a check starved of CPU past its timeout."""
    from django.db.models import Q

    from monitors.models import MonitorTransition

    changes = MonitorTransition.objects.filter(at__range=(since, until)).exclude(
        Q(monitor__machine__in=victims) | Q(monitor__guest__machine__in=victims)
    )
    return {"state_changes": changes.count(), "false_downs": changes.filter(to_state="down").count()}


def task_figures(logs, offsets, seconds, slots):
    """Per task name: count, p50/p99/max seconds; and how busy the worker slots were, from the workers' logs."""
    durations, batches = {}, []
    for log, offset in zip(logs, offsets, strict=True):
        log.flush()
        with open(log.name) as f:
            f.seek(offset)
            for match in TASK_LINE.finditer(f.read()):
                durations.setdefault(match.group(1), []).append(float(match.group(2)))
                changes = CHANGES.search(match.group(3))
                if changes:
                    batches.append((float(match.group(2)), int(changes.group(1)) + int(changes.group(2))))
    figures = {}
    for name, values in durations.items():
        figures[name] = {"count": len(values), **spread(values)}
    busy = sum(sum(values) for values in durations.values())
    figures["slots_busy"] = round(busy / (slots * seconds), 2) if seconds else None
    # What a change of state costs a batch: its time beyond a batch without changes, per change.
    quiet = [duration for duration, changed in batches if not changed]
    busy_batches = [(duration, changed) for duration, changed in batches if changed]
    if quiet and busy_batches:
        usual = statistics.median(quiet)
        extra = sum(duration - usual for duration, _ in busy_batches)
        figures["per_state_change_s"] = round(extra / sum(changed for _, changed in busy_batches), 3)
        figures["batches_with_changes"] = len(busy_batches)
    return figures


def outage_figures(victims, stopped_at, started_at, alerting):
    """Listener stopped → monitor down → incident opened (→ first notification), and back, per victim."""
    from django.apps import apps
    from django.db.models import Count, Q

    from hosts.models import Monitor
    from incidents.models import Incident

    watched = Monitor.objects.filter(Q(machine__in=victims) | Q(guest__machine__in=victims), is_enabled=True)
    transitions = {}
    for monitor in watched:
        transitions[monitor.pk] = monitor
    went_down = [
        t.at for t in _transitions(transitions, "down") if stopped_at <= t.at and (not started_at or t.at < started_at)
    ]
    came_up = [t.at for t in _transitions(transitions, "up") if started_at and t.at >= started_at]
    # The victims' outages: a host's, or a guest's its host joined (or not yet: the guest went down first).
    outages = Incident.objects.filter(
        Q(machines__in=victims) | Q(guests__machine__in=victims),
        cause=Incident.Cause.OUTAGE,
        started_at__gte=stopped_at,
    ).distinct()
    opened = _per_machine(victims, outages, "", "started_at", min)
    resolved = _per_machine(victims, outages, "", "resolved_at", max) if started_at else {}
    figures = {
        "monitors": len(transitions),
        "machines": len(victims),
        "incidents_opened": Incident.objects.filter(started_at__gte=stopped_at).count(),
        "down_s": _since(stopped_at, went_down, len(transitions)),
        "incident_opened_s": _since(stopped_at, list(opened.values()), len(victims)),
        "up_s": _since(started_at, came_up, len(transitions)) if started_at else None,
        "incident_resolved_s": _since(started_at, list(resolved.values()), len(victims)) if started_at else None,
        "target_down_s": DOWN_AFTER * INTERVAL + 5,
    }
    notification = _notification_model(apps) if alerting else None
    if notification is None:
        figures["first_notification"] = "the alerts app is not there yet: no Notification model with sent_at"
    else:
        sent = notification.objects.filter(created_at__gte=stopped_at)
        figures["notifications"] = dict(sent.order_by().values_list("status").annotate(n=Count("pk")))
        figures["alerts_started"] = (
            notification._meta.get_field("alert").related_model.objects.filter(started_at__gte=stopped_at).count()
        )
        reached = notification.objects.filter(alert__incident__in=outages, sent_at__isnull=False)
        firsts = _per_machine(victims, reached, "alert__incident__", "sent_at", min)
        figures["first_notification_s"] = _since(stopped_at, list(firsts.values()), len(victims))
    return figures


def _per_machine(victims, rows, to_incident, field, pick):
    """{victim machine: pick(field)} over `rows` (incidents, or rows `to_incident` leads to an incident from)
    whose incident lists the machine or one of its guests; a machine whose rows lack the field is left out."""
    found, victims = {}, set(victims)
    for listed in ("machines", "guests__machine"):
        for machine, value in rows.values_list(f"{to_incident}{listed}", field):
            if machine in victims:
                found.setdefault(machine, []).append(value)
    return {machine: pick(values) for machine, values in found.items() if None not in values}


def _transitions(monitors, to_state):
    from monitors.models import MonitorTransition

    return MonitorTransition.objects.filter(monitor__in=list(monitors), to_state=to_state)


def _notification_model(apps):
    try:
        model = apps.get_model("alerts", "Notification")
    except LookupError:
        return None
    names = {field.name for field in model._meta.get_fields()}
    return model if {"sent_at", "alert"} <= names else None


def _since(start, times, expected):
    seconds = [(at - start).total_seconds() for at in times]
    p50, p99, top = percentiles(seconds, 0.5, 0.99, 1.0)
    return {
        "count": len(seconds),
        "of": expected,
        "p50": round(p50, 1) if p50 is not None else None,
        "p99": round(p99, 1) if p99 is not None else None,
        "max": round(top, 1) if top is not None else None,
    }


def cost_figures(meter, load, checks):
    cpu, peak, processes = meter.of(*load.pids())
    listeners_cpu, listeners_peak, _ = meter.of(load.listeners.pid)
    alerts_cpu, alerts_peak, _ = meter.of(*[w.pid for w in load.alert_workers])
    return {
        "alert_worker_cpu_s": round(alerts_cpu, 1),
        "alert_worker_peak_rss_mb": round(alerts_peak),
        "workers_cpu_s": round(cpu, 1),
        "workers_cpu_ms_per_check": round(cpu * 1000 / checks, 2) if checks else None,
        "workers_cores": round(cpu / meter.seconds, 2),
        "workers_processes": processes,
        "workers_peak_rss_mb": round(peak),
        "listeners_cpu_s": round(listeners_cpu, 1),
        "listeners_peak_rss_mb": round(listeners_peak),
        "postgres_cpu_s": round(meter.shared("postgres"), 1),
        "redis_cpu_s": round(meter.shared("redis-server"), 1),
        "elsewhere": meter.describe_rest(*load.pids(), *[w.pid for w in load.alert_workers], load.listeners.pid),
    }


def profile_batch(size):
    """cProfile one batch of `size` monitors in this process, as a worker runs it; the top of the profile."""
    from django.utils import timezone

    from monitors.checker import check_batch, claim_due

    soon = timezone.now() + timedelta(days=1)  # claims the oldest-due monitors: the usual mix
    ids = claim_due(soon, limit=size)
    wall, cpu = time.monotonic(), time.process_time()
    counts = check_batch(ids)
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    ids = claim_due(soon + timedelta(days=1), limit=size)
    profiler = cProfile.Profile()
    profiler.enable()
    check_batch(ids)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(15)
    # Where the batch's own steps go: probing, recording, the ORM.
    stats.sort_stats("cumulative").print_stats(r"monitors/|incidents/|django/db/models/query\.py", 20)
    return (
        f"one batch of {len(ids)} ({counts}): {wall:.2f} s wall, {cpu:.2f} s CPU in this process "
        f"({cpu * 1000 / max(len(ids), 1):.2f} ms a check); then under cProfile:\n{out.getvalue()}"
    )


# --- The run ------------------------------------------------------------------------------------------


def describe(args):
    return (
        f"{args.workers} worker(s), --pool={args.pool} --concurrency={args.worker_concurrency}; "
        f"MONITOR_BATCH_SIZE={args.batch_size}, MONITOR_CONCURRENCY={args.concurrency}; start {args.start}"
    )


def run(args):
    """Set up, run the timeline of the module docstring, return the figures."""
    database = live_database(args.source)
    started = time.monotonic()
    copy_database(args.source, database)
    load = Load(args, database)
    try:
        ports = load.start_listeners()
        use_database(database)
        from django.db import connection
        from django.utils import timezone

        from switchboard.celery import app

        victims = [] if args.serve else pick_victims(args.victims)
        mix = retarget(ports, victims)
        alerting = setup_alerting()
        if args.monitors:
            keep_only(args.monitors, victims)
        install_log()
        # Every monitor gets its status before any worker runs: a claim never has to make one.
        first_due = timezone.now() + timedelta(seconds=WORKERS_START_SECONDS)
        seed_statuses(first_due, herd=args.start == "herd")
        clear_broker(app)
        log(
            f"{database}: {sum(mix.values()):,} monitors pointed at the listeners in {time.monotonic() - started:.0f} s"
        )
        for label, count in mix.items():
            log(f"  {count:6,}  {label}")
        load.start_workers(app, ports["smtp"][0])
        log(f"workers up: {describe(args)}")
        connection.close()  # the dispatcher process holds no transaction open while it waits
        time.sleep(max((first_due - timezone.now()).total_seconds(), 0))
        dispatcher = Dispatcher(app)
        warm_until = time.monotonic() + INTERVAL + 2
        dispatcher.run_until(lambda: time.monotonic() >= warm_until)
        log("warm-up done (one interval)")

        since = timezone.now()
        offsets = [os.path.getsize(log_file.name) for log_file in load.logs]
        meter = proc.Meter()
        stopped_at = started_at = None
        if args.serve:
            print(json.dumps({"ready": since.isoformat()}), flush=True)
            closed = threading.Event()
            threading.Thread(target=lambda: (sys.stdin.read(), closed.set()), daemon=True).start()
            dispatcher.run_until(closed.is_set)
        else:
            steady_until = time.monotonic() + args.steady
            dispatcher.run_until(lambda: time.monotonic() >= steady_until)
        if victims:
            stopped_at = load.tell_listeners("stop")
            log(f"{len(victims)} machines' listeners stopped; waiting for their monitors to go down")
            watch = Watch(victims, "down", deadline=DOWN_AFTER * INTERVAL + 30)
            dispatcher.run_until(watch.done, poll=watch.poll)
            started_at = load.tell_listeners("start")
            log("listeners started again; waiting for their monitors to come up")
            watch = Watch(victims, "up", deadline=UP_AFTER * INTERVAL + 30)
            dispatcher.run_until(watch.done, poll=watch.poll)
            time.sleep(2)  # the incident a last recovery resolves
        meter.stop()
        until = timezone.now()
        figures = {
            "when": since.strftime("%Y-%m-%d %H:%M UTC"),
            "setup": describe(args),
            "kernel": kernel_settings(),
            "mix": mix,
            **check_figures(since, until),
            "queue_max": max(dispatcher.queue_lengths, default=0),
            "time_wait_max": max(dispatcher.time_waits, default=0),
            "tasks": task_figures(load.logs, offsets, meter.seconds, args.workers * args.worker_concurrency),
        }
        figures.update(cost_figures(meter, load, figures["checks"]))
        figures.update(false_alarms(victims, since, until))
        if stopped_at:
            figures["outage"] = outage_figures(victims, stopped_at, started_at, alerting)
            figures["outage"]["mails_received"] = load.tell_listeners("mails")
        if args.profile:  # the workers are idle now (nothing dispatches) and the listeners still answer
            figures["profile"] = profile_batch(args.batch_size)
        connection.close()
    finally:
        load.stop()
    return figures


class Watch:
    """Counts, once a second, the victims' monitors in `state`; done when all are, or after `deadline` s."""

    def __init__(self, victims, state, deadline):
        from django.db.models import Q

        from hosts.models import Monitor

        self.monitors = Monitor.objects.filter(Q(machine__in=victims) | Q(guest__machine__in=victims), is_enabled=True)
        self.total = self.monitors.count()
        self.state, self.deadline = state, time.monotonic() + deadline
        self.count = 0
        self.next_poll = 0.0

    def poll(self):
        if time.monotonic() >= self.next_poll:
            self.count = self.monitors.filter(state=self.state).count()
            self.next_poll = time.monotonic() + 1

    def done(self):
        return self.count >= self.total or time.monotonic() >= self.deadline


def kernel_settings():
    """The loopback-relevant TCP settings, as sysctl names them."""
    values = {}
    for name in ("ip_local_port_range", "tcp_tw_reuse", "tcp_max_tw_buckets", "tcp_fin_timeout"):
        with open(f"/proc/sys/net/ipv4/{name}") as f:
            values[f"net.ipv4.{name}"] = " ".join(f.read().split())
    return values


def log(message):
    print(message, file=sys.stderr, flush=True)


def report(f):
    """The figures as the lines to read."""
    lag, gap = f["lag_s"], f["gap_s"]
    tasks = f["tasks"]
    lines = [
        f"{f['when']}: {f['monitors']:,} monitors, {INTERVAL} s interval; {f['setup']}",
        f"  checks: {f['checks']:,} in {f['window_s']:.0f} s = {f['checks_per_s']:,.0f}/s"
        f" (needed {f['needed_per_s']:,.0f}/s);"
        f" Celery queue at most {f['queue_max']} tasks; TIME_WAIT sockets at most {f['time_wait_max']:,}",
        f"  lag due → checked: p50 {lag['p50']} s, p99 {lag['p99']} s, max {lag['max']} s"
        f" (→ recorded: p99 {f['lag_recorded_s']['p99']} s)",
        f"  gap between two checks of a monitor: p50 {gap['p50']} s, p99 {gap['p99']} s, max {gap['max']} s;"
        f" {f['gaps_over_target']:,} of {f['gaps']:,} gaps over {INTERVAL + 5} s ({f['gaps_over_target_plus_1']:,}"
        f" over {INTERVAL + 6} s); {f['late_at_end']:,} monitors not checked in the last {INTERVAL + 5} s",
    ]
    for name, t in tasks.items():
        if isinstance(t, dict):
            lines.append(f"  {name}: {t['count']} runs, p50 {t['p50']} s, p99 {t['p99']} s, max {t['max']} s")
    if "per_state_change_s" in tasks:
        lines.append(
            f"  a change of state costs its batch about {tasks['per_state_change_s']} s"
            f" ({tasks['batches_with_changes']} batches had changes)"
        )
    lines += [
        f"  worker slots busy {tasks['slots_busy']:.0%} of the time",
        f"  workers: {f['workers_cpu_s']} CPU-s ({f['workers_cores']} cores,"
        f" {f['workers_cpu_ms_per_check']} ms a check),"
        f" {f['workers_processes']} processes, peak RSS {f['workers_peak_rss_mb']} MB per process;"
        f" listeners {f['listeners_cpu_s']} CPU-s, {f['listeners_peak_rss_mb']} MB",
        f"  PostgreSQL {f['postgres_cpu_s']} CPU-s, Redis {f['redis_cpu_s']} CPU-s (whole servers)",
        f"  state changes of monitors whose listener never stopped: {f['state_changes']}"
        f" ({f['false_downs']} to down: false alarms)",
        f"  elsewhere: {f['elsewhere']}",
        "  kernel: " + ", ".join(f"{name} = {value}" for name, value in f["kernel"].items()),
    ]
    outage = f.get("outage")
    if outage:

        def show(name, figure):
            if not figure:
                return f"  {name}: not measured"
            return (
                f"  {name}: {figure['count']} of {figure['of']}, p50 {figure['p50']} s, p99 {figure['p99']} s,"
                f" max {figure['max']} s"
            )

        lines += [
            f"  outage of {outage['machines']} machines ({outage['monitors']} monitors),"
            f" target {outage['target_down_s']} s:",
            show("listener stopped → monitor down", outage["down_s"]),
            show("listener stopped → incident opened", outage["incident_opened_s"]),
        ]
        if "first_notification_s" in outage:
            lines.append(show("listener stopped → first notification sent", outage["first_notification_s"]))
            lines.append(
                f"  {outage['incidents_opened']} incidents and {outage['alerts_started']} alerts started for"
                f" {outage['machines']} machines; notifications since by status: {outage['notifications']};"
                f" mails the listeners' server took: {outage['mails_received']}; the alert worker used"
                f" {f['alert_worker_cpu_s']} CPU-s"
            )
        else:
            lines.append(f"  first notification: {outage['first_notification']}")
        lines += [
            show("listener started → monitor up", outage["up_s"]),
            show("listener started → incident resolved", outage["incident_resolved_s"]),
        ]
    if "profile" in f:
        lines.append(f["profile"])
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default=DEFAULT_DATABASE, help="the bench co-op to copy (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=1, help="celery worker processes (default: %(default)s)")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "solo"])
    parser.add_argument("--worker-concurrency", type=int, default=2, help="--concurrency of each worker")
    parser.add_argument("--batch-size", type=int, default=500, help="MONITOR_BATCH_SIZE (default: %(default)s)")
    parser.add_argument("--concurrency", type=int, default=500, help="MONITOR_CONCURRENCY (default: %(default)s)")
    parser.add_argument("--start", choices=["spread", "herd"], default="spread")
    parser.add_argument("--steady", type=int, default=60, help="seconds measured before the outage (default: 60)")
    parser.add_argument("--victims", type=int, default=100, help="machines whose listeners are stopped (0: no outage)")
    parser.add_argument("--monitors", type=int, help="keep only this many monitors enabled (a quick try; default: all)")
    parser.add_argument("--profile", action="store_true", help="cProfile one batch at the end")
    parser.add_argument("--serve", action="store_true", help="run until stdin closes, then print JSON figures")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.pool == "solo":
        args.worker_concurrency = 1

    figures = run(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    if args.serve:
        print(json.dumps(figures), flush=True)
    else:
        print(report(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
