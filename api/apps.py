from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API under /api/v1/: members read, operators write, personal tokens, an OpenAPI schema."""

    name = "api"
    verbose_name = "API"

    def ready(self):
        from . import schema  # noqa: F401 -- registers the schema's description of the token and the session
