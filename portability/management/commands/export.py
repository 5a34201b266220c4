"""`manage.py export FILE [--with-secrets --key-file KEY]`: the whole co-op in one JSON file (portability.archive)."""

import time

from django.core.management.base import BaseCommand, CommandError

from portability import archive


class Command(BaseCommand):
    help = (
        "Write the whole co-op (directory, inventory, incidents, power, backups, monitors, alerts, notices, "
        "their history, users and their groups) to one JSON file, for `manage.py import` on another server. "
        "Secrets (stored passwords and keys, password hashes, authenticator apps, link tokens) are left out "
        "unless --with-secrets is given with --key-file: then they are encrypted with that key."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Where to write the export (replaced if it exists).")
        parser.add_argument(
            "--with-secrets",
            action="store_true",
            help="Include the secrets, encrypted with the Fernet key in --key-file (needed again to import them).",
        )
        parser.add_argument("--key-file", help="A file holding a Fernet key; keep it apart from the export.")

    def handle(self, *args, file, with_secrets, key_file, **options):
        if with_secrets != bool(key_file):
            raise CommandError(
                "--with-secrets needs --key-file (a Fernet key of your own, kept apart from the export; "
                f"{archive.FERNET_HELP}), and --key-file is only for --with-secrets."
            )
        box = archive.read_key(key_file) if key_file else None
        started = time.monotonic()
        envelope, unreadable = archive.export_coop(box)
        size = archive.write_export(envelope, file)
        elapsed = time.monotonic() - started
        for secret in unreadable:
            self.stderr.write(
                f"Left out {secret}: it cannot be decrypted with FIELD_ENCRYPTION_KEY (re-enter it after the import)."
            )
        rows = sum(len(rows) for rows in envelope["models"].values())
        secrets = "with secrets (encrypted with the key in " + key_file + ")" if box else "without secrets"
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {rows} rows of {len(envelope['models'])} models to {file} "
                f"({size / 1024:.0f} KiB, {elapsed:.1f} s), {secrets}."
            )
        )
