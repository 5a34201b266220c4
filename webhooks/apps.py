from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Signed JSON POSTs (Standard Webhooks) to the co-op's URLs when something changes, with a delivery log."""

    name = "webhooks"
    verbose_name = "Webhooks"
