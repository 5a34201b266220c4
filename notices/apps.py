from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = "Owner notices"

    def ready(self):
        from incidents.models import Incident
        from incidents.signals import incident_resolved, public_update_posted

        # The tasks registered in every process, the web's too: notices are queued by name.
        from . import owners, tasks  # noqa: F401

        public_update_posted.connect(
            owners.on_public_update_posted, sender=Incident, dispatch_uid="notices.tell_subscribers"
        )
        incident_resolved.connect(owners.on_incident_resolved, sender=Incident, dispatch_uid="notices.resolution")
