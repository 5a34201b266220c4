"""Celery tasks of the inventory app; the worker finds them here (app.autodiscover_tasks)."""

from .backup_tasks import check_backup_target, check_due_backups
from .power.tasks import check_machine_answers, run_power_action, sweep_power_actions

__all__ = [
    "check_backup_target",
    "check_due_backups",
    "check_machine_answers",
    "run_power_action",
    "sweep_power_actions",
]
