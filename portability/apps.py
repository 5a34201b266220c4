from django.apps import AppConfig


class PortabilityConfig(AppConfig):
    """Export the whole co-op to one versioned JSON file and import it into an empty database."""

    name = "portability"
    verbose_name = "Export and import"
