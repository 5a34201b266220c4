"""What the checker keeps about each monitor: its bookkeeping (MonitorStatus) and its history of
state changes (MonitorTransition).

MonitorStatus is written after every check, in one UPDATE per batch, and holds only what no
page depends on to be exact within a minute (last checked, latency, the runs of results that
decide a state change). Its table is left out of the page cache's watch
(settings.PAGE_CACHE_UNWATCHED_TABLES): 60,000 monitors checked every minute must not make
every kept page stale. What pages show as news — a monitor going down or up — is a change of
hosts.Monitor.state, a MonitorTransition row and a timeline entry, written only when it happens.
"""

from django.db import models
from django.utils import timezone

from hosts.models import Monitor


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

    class Meta:
        verbose_name_plural = "monitor statuses"

    def __str__(self):
        return f"{self.monitor} due {self.next_check_at:%H:%M:%S}"


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
