from django.apps import AppConfig


class FrontConfig(AppConfig):
    """The pages that bring every app together: dashboard, search, status, and the machine,
    guest, site, person and organisation pages."""

    name = "front"
    verbose_name = "Pages"
