from django.apps import AppConfig


class PowerConfig(AppConfig):
    name = "power"
    verbose_name = "Power control"
