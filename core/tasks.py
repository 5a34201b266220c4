"""Background tasks about Switchboard itself (not one machine or incident)."""

import os

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import connection


@shared_task(bind=True)
def worker_health(self):
    """Report which worker ran this and what database it sees; `manage.py worker_status` sends it.

    Read-only, so it is safe to run any number of times. An answer proves the
    broker delivers tasks, a worker runs them and that worker reaches the database.
    """
    return {
        "worker": self.request.hostname,
        "pid": os.getpid(),
        "database": database_label(),
        "accounts": get_user_model().objects.count(),
    }


def database_label():
    """The vendor and name of the default database (never the password), to compare two processes."""
    return f"{connection.vendor} {connection.settings_dict['NAME']}"
