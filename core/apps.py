from django.apps import AppConfig, apps
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    """Plumbing every other app uses: roles and second factor, secret and hostname fields, the page
    cache, page helpers, template tags, beat's schedule. Imports no Switchboard app."""

    name = "core"
    verbose_name = "Switchboard core"

    def ready(self):
        from django.db import connections
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from . import checks  # noqa: F401 (registers the deploy checks)
        from .beat import install_beat_schedule
        from .page_cache import watch_connection

        # Every write through Django marks stored pages stale (core.page_cache).
        connection_created.connect(watch_connection)
        for connection in connections.all(initialized_only=True):
            watch_connection(sender=None, connection=connection)
        # Beat's schedule (settings.BEAT_SCHEDULE) is installed after every migrate, once per entry.
        # Sent for apps with models only, so hooked to beat's own app (core has no models).
        post_migrate.connect(install_beat_schedule, sender=apps.get_app_config("django_celery_beat"))


class SwitchboardAdminConfig(admin_apps.AdminConfig):
    """The Django admin, on a site that demands a second factor (core.admin_site)."""

    default = False  # named in INSTALLED_APPS; CoreConfig stays core's own config
    default_site = "core.admin_site.SwitchboardAdminSite"
