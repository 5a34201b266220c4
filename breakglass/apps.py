from django.apps import AppConfig


class BreakGlassConfig(AppConfig):
    """The break-glass bundle: the co-op's contacts, site access, runbooks and inventory in one
    encrypted, offline HTML file, built nightly and kept off-site. Top layer: reads every app."""

    name = "breakglass"
    verbose_name = "Break-glass bundle"
