"""Who watches the watcher: has the checker run lately?

Every finished batch of checks ticks CheckerClock (monitors.checker.record). If beat or every
worker stops, the clock stops with them; checker_health() says so, the dashboard and /status/
turn red, and the heartbeat to the co-op's outside dead man's switch (ping_heartbeat, every
minute from beat) goes quiet, so that service tells someone even when Switchboard cannot.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from hosts.models import Monitor

from .models import CheckerClock
from .verdicts import checks_are_stale, stale_after

logger = logging.getLogger(__name__)

HEARTBEAT_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class CheckerHealth:
    """What a page says about the checker: when checks last ran, and whether that is too long ago."""

    has_monitors: bool  # no enabled monitor: nothing to check, nothing alarming to say
    last_ran: datetime | None  # None: no batch of checks ever finished
    shortest_interval: timedelta | None
    now: datetime

    @property
    def stale_after(self):
        return stale_after(self.shortest_interval)

    @property
    def stale(self):
        """True when there is something to check and the checks last ran too long ago (or never)."""
        return self.has_monitors and checks_are_stale(self.last_ran, self.now, self.shortest_interval)

    @property
    def seconds_ago(self):
        return None if self.last_ran is None else max(0, int((self.now - self.last_ran).total_seconds()))


def checker_health(now=None):
    """When checks last ran and whether the checker looks stopped; two small queries."""
    shortest = Monitor.objects.filter(is_enabled=True).aggregate(shortest=Min("interval"))["shortest"]
    return CheckerHealth(
        has_monitors=shortest is not None,
        last_ran=CheckerClock.last_ran(),
        shortest_interval=shortest,
        now=now or timezone.now(),
    )


def ping_heartbeat(url=None, now=None):
    """GET the co-op's dead man's switch URL if checks ran lately; returns "off", "quiet", "sent" or "failed".

    Never raises: a heartbeat service that is down must not break beat's other work. With no
    enabled monitor there is nothing the checker could have missed, so it pings (beat and a
    worker are alive, or this would not run).
    """
    url = settings.SWITCHBOARD_HEARTBEAT_URL if url is None else url
    if not url:
        return "off"
    health = checker_health(now)
    if health.stale:
        logger.warning("heartbeat withheld: uptime checks last ran %s", health.last_ran or "never")
        return "quiet"
    # The URL's path is often the secret that identifies the check: log the host only.
    host = urlsplit(url).hostname
    try:
        response = requests.get(url, timeout=HEARTBEAT_TIMEOUT_SECONDS)
        response.raise_for_status()
    except (requests.RequestException, ValueError) as exc:
        # Only the kind of failure: requests' messages repeat the whole URL.
        status = getattr(getattr(exc, "response", None), "status_code", "")
        logger.warning("heartbeat to %s failed: %s %s", host, type(exc).__name__, status)
        return "failed"
    return "sent"
