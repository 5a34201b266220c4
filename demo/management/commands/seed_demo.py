"""`python manage.py seed_demo`: load the demo co-op (see demo/seed/). Safe to run again."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo import seed as demo


class Command(BaseCommand):
    help = (
        "Create the demo co-op (two sites, a Xen host and its outage, a Windows host nobody can reach) "
        "and the demo login. Creates only what is missing; never changes or deletes existing rows."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--even-without-debug",
            action="store_true",
            help="Seed although DEBUG is off. The demo login has a published password: never on a real co-op.",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["even_without_debug"]:
            raise CommandError(
                "DEBUG is off, so this looks like a real installation: the demo adds a superuser with a "
                "published password. Run it with DEBUG=true (make run does), or pass --even-without-debug."
            )
        started = time.monotonic()
        seeder = demo.seed()
        elapsed = time.monotonic() - started

        if options["verbosity"] >= 1:
            self.stdout.write(f"{'created':>8} {'present':>8}  rows")
            for label in sorted(seeder.created.keys() | seeder.present.keys(), key=str.lower):
                self.stdout.write(f"{seeder.created[label]:>8} {seeder.present[label]:>8}  {label}")
        created, present = seeder.created.total(), seeder.present.total()
        self.stdout.write(
            self.style.SUCCESS(f"Demo co-op ready in {elapsed:.1f} s: {created} rows created, {present} already there.")
        )
        if seeder.user_created:
            login = f"Log in at {settings.SITE_URL}/ as {demo.DEMO_EMAIL} / {demo.DEMO_PASSWORD}"
        else:
            login = f"Log in at {settings.SITE_URL}/ as {demo.DEMO_EMAIL} (existing user: password left as it was)"
        self.stdout.write(login)
