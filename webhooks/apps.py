from django.apps import AppConfig
from django.db.models.signals import post_save, pre_save


class WebhooksConfig(AppConfig):
    """Signed JSON POSTs (Standard Webhooks) to the co-op's URLs when something changes, with a delivery log."""

    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from backups.models import BackupCheck
        from incidents.models import Incident, TimelineEntry
        from monitors.models import MonitorTransition

        # The tasks registered in every process, the web's too: deliveries are queued by name.
        from . import listeners, tasks  # noqa: F401

        # The one use of model signals for a side effect (webhooks.listeners says why): the producers sit
        # below webhooks and must not know it listens; each row heard is written only on a real change.
        pre_save.connect(listeners.incident_saving, sender=Incident, dispatch_uid="webhooks.incident_saving")
        post_save.connect(listeners.incident_saved, sender=Incident, dispatch_uid="webhooks.incident_saved")
        post_save.connect(listeners.timeline_entry_saved, sender=TimelineEntry, dispatch_uid="webhooks.timeline")
        post_save.connect(
            listeners.monitor_transition_saved, sender=MonitorTransition, dispatch_uid="webhooks.monitor_transition"
        )
        post_save.connect(listeners.backup_check_saved, sender=BackupCheck, dispatch_uid="webhooks.backup_check")
