"""Beat's schedule is declared in settings.BEAT_SCHEDULE, installed by migrate, and stays as an admin edits it."""

import pytest
from django.conf import settings
from django_celery_beat.models import PeriodicTask

from core.beat import install_beat_schedule
from switchboard.celery import app

pytestmark = pytest.mark.django_db


def install_schedule():
    # Transactional tests elsewhere empty every table: install the schedule as migrate does
    # (it is idempotent) instead of hoping it is still there.
    install_beat_schedule()


def test_migrate_installs_every_entry_of_the_schedule():
    # The test database was made by `migrate`: nothing here installs anything.
    installed = set(PeriodicTask.objects.values_list("name", flat=True))
    assert set(settings.BEAT_SCHEDULE) <= installed


def test_installing_again_leaves_an_entry_an_admin_disabled_as_it_is():
    install_schedule()
    PeriodicTask.objects.filter(name="check-due-backups").update(enabled=False)

    assert install_beat_schedule() == []

    assert not PeriodicTask.objects.get(name="check-due-backups").enabled


def test_every_scheduled_job_names_a_task_the_worker_knows():
    install_schedule()
    app.loader.import_default_modules()  # what a worker does at start: autodiscover tasks.py
    scheduled = dict(PeriodicTask.objects.exclude(task="celery.backend_cleanup").values_list("name", "task"))
    assert scheduled == {
        "dispatch-due-monitors": "monitors.dispatch_due_monitors",
        "prune-monitor-history": "monitors.prune_monitor_history",
        "ping-heartbeat": "monitors.ping_heartbeat",
        "check-dns-names": "monitors.check_dns_names",
        "escalate-alerts": "alerts.escalate_due_alerts",
        "sweep-owner-notices": "notices.sweep_owner_notices",
        "check-due-backups": "backups.check_due_backups",
        "sweep-power-actions": "power.sweep_power_actions",
        "prune-backup-history": "backups.prune_backup_history",
        "ask-contacts-to-confirm": "coop.ask_contacts_to_confirm",
        "send-gap-digest": "front.send_gap_digest",
        "build-break-glass-bundle": "breakglass.build_bundle_nightly",
        "sweep-webhook-deliveries": "webhooks.sweep_webhook_deliveries",
    }
    assert scheduled == {name: entry["task"] for name, entry in settings.BEAT_SCHEDULE.items()}
    for task in scheduled.values():
        assert task in app.tasks, f"{task} is scheduled but no module registers it"


# Beat's scheduler closes database connections as it starts: a real transaction, not the test's wrapper.
@pytest.mark.django_db(transaction=True)
def test_an_interval_changed_in_the_admin_survives_a_beat_restart():
    from django_celery_beat.models import IntervalSchedule
    from django_celery_beat.schedulers import DatabaseScheduler

    install_schedule()
    sweep = PeriodicTask.objects.get(name="sweep-power-actions")
    sweep.interval = IntervalSchedule.objects.create(every=90, period="seconds")
    sweep.save()

    DatabaseScheduler(app=app, lazy=True).setup_schedule()  # what beat does when it starts

    sweep.refresh_from_db()
    assert sweep.interval.every == 90
