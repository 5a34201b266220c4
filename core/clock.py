"""Times written into stored text (timeline entries, notes) are in the co-op's own zone.

A page shows times in the viewer's zone, but a sentence saved on a timeline is read later by
everyone: written in whatever zone the request that wrote it had active, one timeline would
mix zones line by line.
"""

from django.utils import timezone


def coop_time(when, format="%Y-%m-%d %H:%M %Z"):
    """`when` in settings.TIME_ZONE, formatted with its zone's abbreviation ("2026-12-02 03:10 PST")."""
    return f"{timezone.localtime(when, timezone.get_default_timezone()):{format}}"
