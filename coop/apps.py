from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoopConfig(AppConfig):
    name = "coop"
    verbose_name = "Co-op directory"

    def ready(self):
        from . import checks  # noqa: F401 (registers the deploy checks)


class SwitchboardAdminConfig(admin_apps.AdminConfig):
    """The Django admin, on a site that demands a second factor (coop.admin_site)."""

    default = False  # named in INSTALLED_APPS; CoopConfig stays coop's own config
    default_site = "coop.admin_site.SwitchboardAdminSite"
