"""An admin resets beat with `migrate django_celery_beat zero`: the command goes through (the
schedule installer runs after every migrate and must not reach for tables that are gone), and
migrating beat back installs the schedule again."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import post_migrate

from core.beat import install_beat_schedule

BEAT_TABLE = "django_celery_beat_periodictask"


@pytest.fixture
def beat_unmigrated():
    """Beat's tables dropped by `migrate django_celery_beat zero`; the apps migrate then passed on.

    Beat is migrated back afterwards, whatever the test did, for the tests that follow.
    """
    passed = []

    def keep_apps(sender, apps, **kwargs):
        passed.append(apps)

    post_migrate.connect(keep_apps, weak=False)
    try:
        call_command("migrate", "django_celery_beat", "zero", verbosity=0)
        yield passed[-1]
    finally:
        post_migrate.disconnect(keep_apps)
        call_command("migrate", "django_celery_beat", verbosity=0)


# Migrations change the schema: a real transaction, not the test's wrapper (and SQLite cannot
# alter tables inside one).
@pytest.mark.django_db(transaction=True)
def test_unmigrating_beat_goes_through_and_installs_nothing(beat_unmigrated):
    assert BEAT_TABLE not in connection.introspection.table_names()

    assert install_beat_schedule(apps=beat_unmigrated) == []


@pytest.mark.django_db(transaction=True)
def test_migrating_beat_back_installs_the_schedule_again(beat_unmigrated):
    call_command("migrate", "django_celery_beat", verbosity=0)

    from django_celery_beat.models import PeriodicTask

    assert set(settings.BEAT_SCHEDULE) <= set(PeriodicTask.objects.values_list("name", flat=True))
