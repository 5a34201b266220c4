"""Prove the Celery broker, a worker and the database are wired together: send a task, wait for the answer."""

import time

from celery import current_app
from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.core.management.base import BaseCommand, CommandError
from kombu.exceptions import OperationalError
from kombu.utils.url import maybe_sanitize_url

from core.tasks import database_label, worker_health

# The project's Celery app (switchboard/celery.py), made current when Django loads its settings.
app = current_app


def broker_for_humans(url, transport_options=None):
    """The broker URL with any password masked, plus the folder for the filesystem transport."""
    shown = maybe_sanitize_url(url)  # redis://:secret@host → redis://:**@host
    folder = (transport_options or {}).get("data_folder_in")
    if shown.startswith("filesystem:") and folder:
        shown += f" (folder {folder})"
    return shown


class Command(BaseCommand):
    help = "Send a health-check task to a Celery worker and wait for its answer; exit 1 if none comes."

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout", type=float, default=10.0, help="Seconds to wait for a worker to answer (default 10)."
        )
        parser.add_argument(
            "--queue",
            default=None,
            help=f"Queue to send the task to (default {app.conf.task_default_queue!r}, as the workers consume).",
        )

    def handle(self, *args, timeout, queue, **options):
        queue = queue or app.conf.task_default_queue
        broker = broker_for_humans(app.conf.broker_url, app.conf.broker_transport_options)
        started = time.monotonic()
        try:
            # An unanswered check expires rather than running later on a worker that starts after we gave up.
            result = worker_health.apply_async(queue=queue, expires=timeout)
        except OperationalError as exc:
            raise CommandError(f"cannot reach the broker {broker}: {exc}") from None
        try:
            result.get(timeout=timeout, interval=0.1, propagate=False)
        except CeleryTimeoutError:
            raise CommandError(
                f"no worker answered within {timeout:g} s: is `celery -A switchboard worker` running "
                f"and consuming queue {queue!r}? broker: {broker}"
            ) from None
        elapsed = time.monotonic() - started
        if result.failed():
            raise CommandError(f"a worker took the task but it failed: {result.result!r} (broker: {broker})")

        answer = result.result
        here = database_label()
        if answer["database"] != here:
            raise CommandError(
                f"worker {answer['worker']} (pid {answer['pid']}) answered, but it uses the database "
                f"{answer['database']} while this process uses {here}: give both the same DATABASE_URL"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: worker {answer['worker']} (pid {answer['pid']}) answered in {elapsed:.2f} s "
                f"through {broker}; it sees {answer['accounts']} account(s) in the {answer['database']} database"
            )
        )
