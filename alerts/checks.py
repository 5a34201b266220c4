"""Deployment checks for alerts: every alert carries links built from SITE_URL."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Warning, register


@register("alerts", deploy=True)
def site_url_is_public(app_configs, **kwargs):
    host = urlsplit(settings.SITE_URL).hostname or ""
    if host in ("localhost", "127.0.0.1", "::1") or not settings.SITE_URL.startswith("https://"):
        return [
            Warning(
                f"SITE_URL is {settings.SITE_URL!r}: the acknowledge links in alerts would not open on a phone.",
                hint="Set SITE_URL to the https:// address volunteers reach Switchboard at.",
                id="alerts.W001",
            )
        ]
    return []
