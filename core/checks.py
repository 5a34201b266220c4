"""Deployment checks of our own, run by `manage.py check --deploy`."""

import os

from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def keys_set_in_the_environment(app_configs, **kwargs):
    """Warn when the keys were made in var/ on this host instead of set by the deployment.

    A worker or web server on another host would make keys of its own: sessions
    would break and every stored secret would fail to decrypt mid-outage.
    """
    return [
        checks.Warning(
            f"{name} is not set in the environment: this host made one in var/{name.lower()}.",
            hint=f"Set {name} for every web, worker and beat process (README, Production), and back it up.",
            id=f"coop.W00{number}",
        )
        for number, name in enumerate(("SECRET_KEY", "FIELD_ENCRYPTION_KEY"), start=1)
        if not os.environ.get(name)
    ]
