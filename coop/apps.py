from django.apps import AppConfig


class CoopConfig(AppConfig):
    name = "coop"
    verbose_name = "Co-op directory"

    def ready(self):
        from allauth.mfa.signals import authenticator_added

        from .adapters import setup_counts_as_a_code

        authenticator_added.connect(setup_counts_as_a_code, dispatch_uid="coop.setup_counts_as_a_code")
