from django.apps import AppConfig


class HostReportsConfig(AppConfig):
    """What each host's agent reports running on it, and how that differs from the inventory."""

    name = "hostreports"
    verbose_name = "Host reports"
