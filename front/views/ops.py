"""Operating Switchboard: /health/ for a load balancer or an outside monitor, /metrics for Prometheus.

/health/ answers 200 {"status": "ok", "checks": {...}} when the database, every cache, the Celery
broker and a worker are fine, else 503 with what failed. No login, nothing personal, never cached,
and an answer within HEALTH_DEADLINE_SECONDS even when Redis or the broker accepts connections and
then says nothing: those probes run in threads, each with its own short socket timeouts, and a
probe still running at the deadline is reported as not answering.

"A worker answered recently" is read from the newest Celery task result (django-celery-results'
TaskResult, written by a worker for every task it finishes). Beat sends small periodic tasks every
few seconds (settings.BEAT_SCHEDULE), so a fresh row proves beat, the broker, a worker and its
database together. CheckerClock (monitors.watcher) would not do: it ticks only while there are
monitors to check.

/metrics is Prometheus' text format, computed per request from the database (so several gunicorn
workers agree, with no shared state); it exists only when METRICS_TOKEN is set and answers only to
"Authorization: Bearer <METRICS_TOKEN>".
"""

import hmac
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import timedelta
from functools import partial

import redis
from celery import current_app
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_celery_results.models import TaskResult
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder

from alerts.models import Alert, Notification
from backups.models import BackupState, BackupTarget, HeartbeatPing
from hosts.models import Monitor
from incidents.models import Incident
from notices.models import OwnerNotice
from power.models import PowerAction

logger = logging.getLogger(__name__)

# The whole page answers within this (a monitor's own timeout is usually 5-10 s).
HEALTH_DEADLINE_SECONDS = 2.5
# Each Redis and broker probe's own connect and read timeout: well inside the deadline.
PROBE_TIMEOUT_SECONDS = 1
# No task finished for this long: beat or every worker has stopped. Beat's quickest tasks run every
# 5-10 s (monitors.dispatch_due_monitors, alerts.escalate_due_alerts).
WORKER_QUIET_SECONDS = 120


class Unhealthy(Exception):
    """A check failed for a reason safe to show anyone (no address, no secret)."""


# --- /health/ ----------------------------------------------------------------------------------


def check_database():
    """The default database answers a query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_worker(now=None):
    """A worker finished a task within WORKER_QUIET_SECONDS."""
    last = TaskResult.objects.aggregate(last=Max("date_done"))["last"]
    if last is None:
        raise Unhealthy("no task has finished yet")
    if (now or timezone.now()) - last > timedelta(seconds=WORKER_QUIET_SECONDS):
        raise Unhealthy(f"no task finished in the last {WORKER_QUIET_SECONDS} s")


def _redis_location(alias):
    """The (first, written-to) server of a Redis cache alias, as Django's RedisCache reads LOCATION."""
    location = settings.CACHES[alias]["LOCATION"]
    servers = location.split(",") if isinstance(location, str) else location
    return servers[0].strip()


def check_cache(alias):
    """The cache answers: a Redis one is PINGed itself, so a process-local fallback in front of it
    cannot hide that it is down; any other does a set and a get."""
    backend = caches[alias]
    if isinstance(backend, RedisCache):
        client = redis.Redis.from_url(
            _redis_location(alias),
            socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
            socket_timeout=PROBE_TIMEOUT_SECONDS,
        )
        try:
            client.ping()
        finally:
            client.close()
        return
    key, value = f"health:{get_random_string(12)}", get_random_string(12)
    backend.set(key, value, 10)
    if backend.get(key) != value:
        raise Unhealthy("a value just stored could not be read back")
    backend.delete(key)


def _broker_connection():
    """A new connection to Celery's broker with short timeouts (the app's own may retry for seconds)."""
    return current_app.connection_for_write(
        connect_timeout=PROBE_TIMEOUT_SECONDS,
        transport_options={
            "socket_connect_timeout": PROBE_TIMEOUT_SECONDS,
            "socket_timeout": PROBE_TIMEOUT_SECONDS,
        },
    )


def check_broker():
    """Celery's broker takes a connection and opens a channel (Redis answers a PING doing so)."""
    with _broker_connection() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=PROBE_TIMEOUT_SECONDS)
        conn.default_channel  # noqa: B018 (opening it is the check)


def _outcome(name, probe):
    """Run `probe`: "ok", or why it failed, in its own words for Unhealthy, else only the kind of
    error (an error's text may name a host, or carry a URL with its password)."""
    try:
        probe()
    except Unhealthy as exc:
        return str(exc)
    except Exception as exc:
        logger.warning("health check %s failed: %s", name, type(exc).__name__)
        return f"failed ({type(exc).__name__})"
    return "ok"


class _Probes:
    """Probes started side by side in threads; collected with a deadline.

    A probe still running at the deadline did not answer; its thread is left to end at its own
    socket timeout, and the answer does not wait for it.
    """

    def __init__(self, probes):
        self._pool = ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="health")
        self._futures = {name: self._pool.submit(_outcome, name, probe) for name, probe in probes.items()}

    def outcomes(self, seconds):
        done, _ = wait(self._futures.values(), timeout=max(seconds, 0))
        self._pool.shutdown(wait=False, cancel_futures=True)
        late = f"no answer within {HEALTH_DEADLINE_SECONDS:g} s"
        return {name: future.result() if future in done else late for name, future in self._futures.items()}


def _cache_check_name(alias):
    return "cache" if alias == "default" else f"cache:{alias}"


@never_cache
@require_safe
def health(request: HttpRequest):
    """200 when every part works, 503 naming the parts that do not; within HEALTH_DEADLINE_SECONDS.

    The answer is kept settings.HEALTH_KEEP_SECONDS per process, and callers meanwhile share one run: a monitor
    polling hard (or anyone: it needs no login) cannot make every request open connections and threads.
    """
    global _last_health
    with _health_lock:
        if settings.HEALTH_KEEP_SECONDS and _last_health is not None and _last_health[0] > time.monotonic():
            payload, status = _last_health[1:]
        else:
            payload, status = _run_health_checks()
            _last_health = (time.monotonic() + settings.HEALTH_KEEP_SECONDS, payload, status)
    return JsonResponse(payload, status=status)


_health_lock = threading.Lock()
_last_health = None


def _run_health_checks():
    started = time.monotonic()
    remote = {_cache_check_name(alias): partial(check_cache, alias) for alias in settings.CACHES}
    remote["broker"] = check_broker
    probes = _Probes(remote)
    # Meanwhile the database, on this request's own connection (a thread's would be opened afresh).
    database = _outcome("database", check_database)
    worker = _outcome("worker", check_worker) if database == "ok" else "unknown (no database)"
    checks = {"database": database, **probes.outcomes(HEALTH_DEADLINE_SECONDS - (time.monotonic() - started))}
    checks["worker"] = worker
    healthy = all(outcome == "ok" for outcome in checks.values())
    return {"status": "ok" if healthy else "fail", "checks": checks}, 200 if healthy else 503


# --- /metrics ----------------------------------------------------------------------------------


def queue_depths():
    """Messages waiting in each queue Switchboard sends to (Redis lists, or the filesystem queue's
    files): Celery's default queue, and ALERT_QUEUE and POWER_QUEUE when set."""
    names = sorted({current_app.conf.task_default_queue, settings.ALERT_QUEUE, settings.POWER_QUEUE} - {""})
    with _broker_connection() as conn:
        channel = conn.default_channel
        # A plain declare on kombu's virtual transports counts the messages and changes nothing.
        return {name: channel.queue_declare(queue=name).message_count for name in names}


def _by(model, field, choices, queryset=None):
    """{value: how many rows have it} for every choice, zeros included (one GROUP BY)."""
    counts = dict.fromkeys(choices.values, 0)
    rows = (model.objects.all() if queryset is None else queryset).values_list(field).annotate(n=Count("pk"))
    counts.update(dict(rows.order_by()))
    return counts


def _gauge(name, documentation, label, counts):
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value, count in counts.items():
        family.add_metric([value], count)
    return family


class SwitchboardCollector:
    """Every number /metrics shows, read from the database (and the broker) when it is asked."""

    def __init__(self, now=None):
        self.now = now or timezone.now()

    def collect(self):
        yield from self._queue()
        actions = _by(PowerAction, "state", PowerAction.State)
        yield _gauge("switchboard_power_actions", "Power actions by state.", "state", actions)
        yield _gauge(
            "switchboard_backup_targets", "Backup targets by state.", "state", _by(BackupTarget, "state", BackupState)
        )
        recent = HeartbeatPing.objects.filter(received_at__gte=self.now - timedelta(hours=1))
        yield _gauge(
            "switchboard_heartbeat_pings_stored",
            "Heartbeat pings kept, by kind (the newest PING_KEEP_PER_TARGET per target, for BACKUP_HISTORY_DAYS).",
            "kind",
            _by(HeartbeatPing, "kind", HeartbeatPing.Kind),
        )
        yield _gauge(
            "switchboard_heartbeat_pings_last_hour",
            "Heartbeat pings received in the last hour, by kind.",
            "kind",
            _by(HeartbeatPing, "kind", HeartbeatPing.Kind, recent),
        )
        enabled = Monitor.objects.filter(is_enabled=True)
        yield _gauge(
            "switchboard_monitors", "Enabled monitors by state.", "state", _by(Monitor, "state", Monitor.State, enabled)
        )
        open_incidents = Incident.objects.exclude(status=Incident.Status.RESOLVED)
        yield _gauge(
            "switchboard_incidents_open",
            "Open (not resolved) incidents by cause.",
            "cause",
            _by(Incident, "cause", Incident.Cause, open_incidents),
        )
        yield _gauge("switchboard_alerts", "Alerts by status.", "status", _by(Alert, "status", Alert.Status))
        yield _gauge(
            "switchboard_alert_notifications",
            "Alert notifications (one message to one contact method) by status.",
            "status",
            _by(Notification, "status", Notification.Status),
        )
        yield _gauge(
            "switchboard_owner_notices",
            "Notices to affected owners by status.",
            "status",
            _by(OwnerNotice, "status", OwnerNotice.Status),
        )
        last = TaskResult.objects.aggregate(last=Max("date_done"))["last"]
        if last is not None:
            yield GaugeMetricFamily(
                "switchboard_worker_last_task_age_seconds",
                "Seconds since a Celery worker last finished a task.",
                value=max(0.0, (self.now - last).total_seconds()),
            )

    def _queue(self):
        # In a thread with a deadline, like /health/: a hung broker must not hang the scrape.
        depths = {}
        probes = _Probes({"queue": lambda: depths.update(queue_depths())})
        answered = probes.outcomes(HEALTH_DEADLINE_SECONDS)["queue"] == "ok"
        yield GaugeMetricFamily(
            "switchboard_broker_up", "1 if the Celery broker answered this scrape, else 0.", value=int(answered)
        )
        if answered:
            yield _gauge(
                "switchboard_queue_messages", "Celery messages waiting in the broker, by queue.", "queue", depths
            )


def _authorized(request):
    """The request carries "Authorization: Bearer <METRICS_TOKEN>" (compared in constant time)."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), settings.METRICS_TOKEN.encode())


@never_cache
@require_safe
def metrics(request: HttpRequest):
    """Prometheus' text format; 404 unless METRICS_TOKEN is set, 401 without it as a bearer token."""
    if not settings.METRICS_TOKEN:
        raise Http404("Metrics are off: METRICS_TOKEN is not set.")
    if not _authorized(request):
        response = HttpResponse("A bearer token is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encode(SwitchboardCollector()), content_type=content_type)
