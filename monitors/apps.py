from django.apps import AppConfig
from django.db.models.signals import post_save, pre_save


class MonitorsConfig(AppConfig):
    """The uptime checker: runs hosts.Monitor checks in batches and tells incidents.policy what changed."""

    name = "monitors"
    verbose_name = "Uptime checks"

    def ready(self):
        from hosts.models import Monitor

        from .checker import monitor_saved, monitor_saving

        # Scheduling, not business logic: hosts may not import the checker, yet a shorter interval or a
        # re-enabled monitor saved there (admin, shell, import) must move its next check here.
        pre_save.connect(monitor_saving, sender=Monitor, dispatch_uid="monitors.was_enabled")
        post_save.connect(monitor_saved, sender=Monitor, dispatch_uid="monitors.reschedule")
