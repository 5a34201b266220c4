"""Beat's schedule, from settings.BEAT_SCHEDULE into django-celery-beat's tables.

Beat reads its schedule from the database (DatabaseScheduler), so admins can change an
interval or disable a task at run time. The schedule itself is declared in code, in
settings.BEAT_SCHEDULE; this installs each entry the database does not have yet and leaves
every existing one as it is, so an admin's edit survives deploys and beat restarts.
"""

from django.apps import apps as global_apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone


def install_beat_schedule(sender=None, using="default", apps=global_apps, **kwargs):
    """Create the periodic tasks in settings.BEAT_SCHEDULE that do not exist yet; returns the names made.

    Connected to post_migrate (core.apps), so `migrate` keeps the database in step with the code;
    `apps` is the migrated state it passes (without beat's tables after `migrate django_celery_beat zero`).
    """
    try:
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    except LookupError:
        return []
    made = []
    with transaction.atomic(using=using):
        for name, entry in settings.BEAT_SCHEDULE.items():
            if PeriodicTask.objects.using(using).filter(name=name).exists():
                continue
            interval, _ = IntervalSchedule.objects.using(using).get_or_create(every=entry["every"], period="seconds")
            PeriodicTask.objects.using(using).create(
                name=name, task=entry["task"], interval=interval, description=entry.get("description", "")
            )
            made.append(name)
        if made:
            # Tell a running beat that its schedule changed.
            PeriodicTasks.objects.using(using).update_or_create(ident=1, defaults={"last_update": timezone.now()})
    return made
