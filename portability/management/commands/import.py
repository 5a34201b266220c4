"""`manage.py import FILE [--key-file KEY]`: restore an export into an empty database (portability.archive).

The module is named for the command, although `import` is a Python keyword: Django loads commands with
importlib.import_module("portability.management.commands.import"), which takes any file name.
"""

import time

from django.core.management.base import BaseCommand

from portability import archive


class Command(BaseCommand):
    help = (
        "Restore a file written by `manage.py export` into an empty, migrated database, in one transaction: "
        "a damaged file or one whose rows do not fit together imports nothing. An export with secrets needs "
        "the key it was made with (--key-file)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A file written by `manage.py export`.")
        parser.add_argument("--key-file", help="The Fernet key the export's secrets were encrypted with.")

    def handle(self, *args, file, key_file, **options):
        box = archive.read_key(key_file) if key_file else None
        started = time.monotonic()
        envelope = archive.read_export(file)
        written = archive.import_coop(envelope, box)
        elapsed = time.monotonic() - started
        if options["verbosity"] >= 2:
            for label, count in written.items():
                self.stdout.write(f"{count:>8}  {label}")
        if envelope.get("secrets", {}).get("included"):
            secrets = "with its secrets"
        else:
            secrets = (
                "without secrets: users reset their passwords and set up their authenticator again, stored "
                "passwords and keys are re-entered in the admin, invitation, calendar and heartbeat links are new"
            )
        self.stdout.write(
            self.style.SUCCESS(f"Imported {sum(written.values())} rows from {file} in {elapsed:.1f} s, {secrets}.")
        )
