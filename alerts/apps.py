from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts and on-call"

    def ready(self):
        from incidents.models import Incident
        from incidents.signals import incident_opened, incident_resolved

        # The tasks registered in every process, the web's too: escalation queues them by name.
        from . import checks, escalation, tasks  # noqa: F401

        incident_opened.connect(escalation.on_incident_opened, sender=Incident, dispatch_uid="alerts.start")
        incident_resolved.connect(escalation.on_incident_resolved, sender=Incident, dispatch_uid="alerts.stop")
