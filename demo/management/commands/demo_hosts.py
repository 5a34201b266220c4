"""`manage.py demo_hosts`: the demo's machines and guests answering on 127.0.0.1 (demo/hosts.py).

`make run` starts it from Procfile.dev. `manage.py demo_hosts --stop xen1` makes xen1 (and the
guests on it) stop answering, as in story 001; within a check or two the dashboard shows it
down and an incident opens. `--start xen1` brings it back; `--status` lists what is down.
"""

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.hosts import DemoHosts, StandIn, is_down, read_down, write_down
from hosts.models import Monitor

DOWN_FILE = settings.BASE_DIR / "var" / "demo-hosts-down.txt"


def stand_ins():
    """One stand-in per port the demo's monitors check on 127.0.0.1."""
    found = {}
    for monitor in Monitor.objects.select_related("machine", "guest__machine"):
        port = monitor.port if monitor.kind == Monitor.Kind.TCP and monitor.target == "127.0.0.1" else None
        if monitor.kind == Monitor.Kind.HTTP and urlsplit(monitor.target).hostname == "127.0.0.1":
            port = urlsplit(monitor.target).port
        if port:
            subject = monitor.guest or monitor.machine
            host = monitor.guest.machine.hostname if monitor.guest else monitor.machine.hostname
            found[port] = StandIn(port=port, name=str(subject), host=host)
    return list(found.values())


class Command(BaseCommand):
    help = "Answer for the demo's machines and guests on 127.0.0.1; --stop/--start NAME takes one down or up."

    def add_arguments(self, parser):
        parser.add_argument("--stop", metavar="NAME", help="Stop answering for this machine (and its guests) or guest.")
        parser.add_argument("--start", metavar="NAME", help="Answer again for this machine or guest.")
        parser.add_argument("--status", action="store_true", help="List what is down, and exit.")

    def handle(self, *args, **options):
        down = read_down(DOWN_FILE)
        if options["stop"] or options["start"]:
            name = (options["stop"] or options["start"]).strip().lower()
            if not any(is_down(stand_in, {name}) for stand_in in stand_ins()):
                raise CommandError(f"No demo machine or guest called {name!r} (try xen1, store1, vz1, wiki1).")
            down = down | {name} if options["stop"] else down - {name}
            write_down(DOWN_FILE, down)
            verb = "stops" if options["stop"] else "answers again"
            self.stdout.write(f"{name} {verb} within a second; the monitors notice at their next checks.")
            return
        if options["status"]:
            self.stdout.write("Down: " + (", ".join(sorted(down)) or "nothing"))
            return
        logging.getLogger("demo.hosts").setLevel(logging.INFO)
        hosts = DemoHosts(stand_ins(), DOWN_FILE)
        self.stdout.write(f"Demo hosts answering on 127.0.0.1 ({len(hosts.stand_ins)} ports); down: {sorted(down)}")
        self.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(hosts.serve())
