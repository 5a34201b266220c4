from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo co-op (`manage.py seed_demo`) and the simulators `make run` and the tests start."""

    name = "demo"
    verbose_name = "Demo"
