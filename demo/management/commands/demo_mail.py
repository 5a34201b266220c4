"""`manage.py demo_mail`: the demo's SMTP sink on 127.0.0.1:1025 (demo/mailbox.py).

`make run` starts it from Procfile.dev and sends Django's mail to it (EMAIL_URL in the Makefile).
Each message is kept in var/demo-mail/ and shown on /demo/mailbox/; one line per message goes to
the console: who it is for and its subject.
"""

import asyncio
import contextlib
import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.mailbox import MailSink, mail_dir, start_server


class Command(BaseCommand):
    help = "Receive the demo's email on 127.0.0.1:1025 and keep each message in var/demo-mail/ (never relayed)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=1025)

    def handle(self, *args, host, port, **options):
        folder = mail_dir()
        sink = MailSink(folder, on_stored=self.summary)
        # aiosmtpd logs every SMTP command at INFO: the one line per message below says enough.
        logging.getLogger("mail.log").setLevel(logging.WARNING)

        async def main():
            try:
                server = await start_server(sink, host, port)
            except OSError as exc:
                raise CommandError(f"cannot listen for mail on {host}:{port}: {exc.strerror or exc}") from None
            self.stdout.write(f"Demo mail sink on {host}:{port}: messages kept in {folder}")
            self.stdout.write(f"and shown at {settings.SITE_URL}/demo/mailbox/ (members only).")
            self.stdout.flush()
            async with server:
                await server.serve_forever()

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main())

    def summary(self, path, message):
        self.stdout.write(f"mail to {message.to}: {message.subject}  ({path.name})")
        self.stdout.flush()
