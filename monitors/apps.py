from django.apps import AppConfig


class MonitorsConfig(AppConfig):
    """The uptime checker: runs hosts.Monitor checks in batches and tells incidents.policy what changed."""

    name = "monitors"
    verbose_name = "Uptime checks"
