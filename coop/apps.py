from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoopConfig(AppConfig):
    name = "coop"
    verbose_name = "Co-op directory"

    def ready(self):
        from django.db import connections
        from django.db.backends.signals import connection_created

        from . import checks  # noqa: F401 (registers the deploy checks)
        from .page_cache import watch_connection

        # Every write through Django marks stored pages stale (coop.page_cache).
        connection_created.connect(watch_connection)
        for connection in connections.all(initialized_only=True):
            watch_connection(sender=None, connection=connection)


class SwitchboardAdminConfig(admin_apps.AdminConfig):
    """The Django admin, on a site that demands a second factor (coop.admin_site)."""

    default = False  # named in INSTALLED_APPS; CoopConfig stays coop's own config
    default_site = "coop.admin_site.SwitchboardAdminSite"
