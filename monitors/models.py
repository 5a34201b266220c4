"""What the checker keeps about each monitor: its bookkeeping (MonitorStatus) and its history of
state changes (MonitorTransition).

MonitorStatus is written after every check, in one UPDATE per batch, and holds only what no
page depends on to be exact within a minute (last checked, latency, the runs of results that
decide a state change). Its table is left out of the page cache's watch
(settings.PAGE_CACHE_UNWATCHED_TABLES): 60,000 monitors checked every minute must not make
every kept page stale. What pages show as news — a monitor going down or up — is a change of
hosts.Monitor.state, a MonitorTransition row and a timeline entry, written only when it happens.

The history a page shows stays bounded: the last SPARKLINE_CHECKS latencies ride in each
monitor's MonitorStatus row (one row per monitor, rewritten in the batch's UPDATE), and
transitions older than MONITOR_HISTORY_DAYS are deleted daily (monitors.tasks). CheckerClock,
one row, says when a batch of checks last finished: the dashboard, /status/ and the heartbeat
to an outside dead man's switch read it to notice a checker that stopped.

DNSNameCheck keeps, per recorded DNS name, the verdict of the hourly DNS drift check
(monitors.dnscheck): its fields change only when the verdict, the answers or the reason it could not
check change; `checked_at` is bookkeeping, moved for the whole round in one UPDATE.
"""

from django.db import models
from django.utils import timezone

from hosts.models import DNSName, Monitor

# How many recent checks the response-time sparkline keeps per monitor.
SPARKLINE_CHECKS = 60
# What stands for a failed check among the recent latencies: a gap in the sparkline.
FAILED_CHECK = "-"


class MonitorStatus(models.Model):
    """The checker's notes on one monitor: when it is due, and how its last checks went."""

    monitor = models.OneToOneField(Monitor, on_delete=models.CASCADE, primary_key=True, related_name="status")
    next_check_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_latency_ms = models.FloatField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_warning = models.CharField(max_length=300, blank=True)
    failures = models.PositiveIntegerField(default=0, help_text="Failed checks in a row.")
    successes = models.PositiveIntegerField(default=0, help_text="Good checks in a row.")
    recent_latencies = models.TextField(
        blank=True, help_text=f"The last {SPARKLINE_CHECKS} checks' latencies in ms, oldest first; “-” a failed check."
    )

    class Meta:
        verbose_name_plural = "monitor statuses"

    def __str__(self):
        return f"{self.monitor} due {self.next_check_at:%H:%M:%S}"

    def remember_latency(self, latency_ms):
        """Add one check's latency (None for a failed check) to recent_latencies, keeping the last
        SPARKLINE_CHECKS; the checker saves it with the batch, the machine and guest pages draw it."""
        value = FAILED_CHECK if latency_ms is None else f"{latency_ms:.1f}".removesuffix(".0")
        kept = self.recent_latencies.split()[-(SPARKLINE_CHECKS - 1) :]
        self.recent_latencies = " ".join([*kept, value])

    @property
    def latencies(self):
        """The recent latencies in ms, oldest first; None for a failed check."""
        return [None if value == FAILED_CHECK else float(value) for value in self.recent_latencies.split()]


class MonitorTransition(models.Model):
    """A monitor went down or came back: kept for the page's history and uptime figures."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="transitions")
    at = models.DateTimeField(default=timezone.now)
    from_state = models.CharField(max_length=10, choices=Monitor.State.choices)
    to_state = models.CharField(max_length=10, choices=Monitor.State.choices)
    error = models.CharField(max_length=300, blank=True, help_text="What the check saw when it went down.")

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["monitor", "-at"], name="transition_monitor_idx")]

    def __str__(self):
        return f"{self.monitor} {self.from_state} → {self.to_state} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def new_state(self):
        """The state it moved to as a Monitor.State, for a badge on the machine and guest pages."""
        return Monitor.State(self.to_state)


class CheckerClock(models.Model):
    """One row: when a batch of uptime checks last finished. Who watches the watcher reads it."""

    ONLY = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=ONLY, editable=False)
    last_round_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"checks last ran {self.last_round_at:%Y-%m-%d %H:%M:%S}" if self.last_round_at else "checks never ran"

    @classmethod
    def tick(cls, at):
        """Note that a batch of checks finished at `at` (never moving the clock back); the checker calls it.

        One small UPDATE per batch, to a table the page cache does not watch.
        """
        moved = (
            cls.objects.filter(pk=cls.ONLY)
            .filter(models.Q(last_round_at__lt=at) | models.Q(last_round_at__isnull=True))
            .update(last_round_at=at)
        )
        if not moved and not cls.objects.filter(pk=cls.ONLY).exists():
            cls.objects.bulk_create([cls(pk=cls.ONLY, last_round_at=at)], ignore_conflicts=True)

    @classmethod
    def last_ran(cls):
        """When a batch of checks last finished, or None if none ever did."""
        return cls.objects.filter(pk=cls.ONLY).values_list("last_round_at", flat=True).first()


class DNSNameCheck(models.Model):
    """The DNS drift check's verdict on one recorded DNS name (monitors.dnscheck writes it, the machine and
    guest pages and the gaps report read it)."""

    class Verdict(models.TextChoices):
        UNKNOWN = "unknown", "Not checked yet"
        OK = "ok", "Points at its recorded addresses"
        DRIFTED = "drifted", "Points elsewhere"
        UNRESOLVED = "unresolved", "Does not resolve"

        @property
        def colour(self):
            return {"unknown": "grey", "ok": "green", "drifted": "red", "unresolved": "red"}[self.value]

    # The verdicts the pages and the gaps report flag.
    FLAGGED = (Verdict.DRIFTED, Verdict.UNRESOLVED)

    dns_name = models.OneToOneField(DNSName, on_delete=models.CASCADE, primary_key=True, related_name="dns_check")
    verdict = models.CharField(max_length=12, choices=Verdict.choices, default=Verdict.UNKNOWN)
    resolved = models.CharField(
        max_length=1000, blank=True, help_text="The addresses it resolved to at the last answer, separated by spaces."
    )
    note = models.CharField(max_length=300, blank=True, help_text="What is wrong, for people; empty when OK.")
    changed_at = models.DateTimeField(null=True, blank=True, help_text="When the verdict or the answers last changed.")
    checked_at = models.DateTimeField(null=True, blank=True, help_text="When a check last got an answer.")
    error = models.CharField(
        max_length=300, blank=True, help_text="Why the last check could not be made; the verdict is the one before."
    )
    error_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "DNS name check"
        indexes = [models.Index(fields=["verdict"], name="dnscheck_verdict_idx")]

    def __str__(self):
        return f"{self.dns_name_id}: {self.verdict}"

    @property
    def is_flagged(self):
        return self.verdict in self.FLAGGED

    @property
    def addresses(self):
        """What it resolved to at the last answer, as a list of strings."""
        return self.resolved.split()
