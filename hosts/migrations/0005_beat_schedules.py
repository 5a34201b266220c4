"""Install Switchboard's periodic tasks into django-celery-beat's tables, once.

Made here rather than in CELERY_BEAT_SCHEDULE: beat rewrites those entries at
every start, which would undo an admin's change of an interval. Created with
get_or_create, so an entry an admin edited or disabled is left as it is.
"""

from django.db import migrations
from django.utils import timezone

SCHEDULES = [
    # (name, task, every seconds, what it is for)
    ("check-due-backups", "hosts.check_due_backups", 300, "Queue due S3 backup checks and judge heartbeats."),
    ("sweep-power-actions", "hosts.sweep_power_actions", 30, "Re-send power actions a worker never got."),
    ("prune-backup-history", "hosts.prune_backup_history", 86400, "Delete backup history past BACKUP_HISTORY_DAYS."),
]


def install(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    for name, task, seconds, description in SCHEDULES:
        interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": interval, "description": description}
        )
    # Tell a running beat that its schedule changed.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def uninstall(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, *_ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("hosts", "0004_backup_checks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
