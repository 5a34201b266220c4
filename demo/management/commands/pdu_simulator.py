"""Run the APC-like PDU simulator (demo/pdu_simulator.py) for the demo: `manage.py pdu_simulator --port 16161`."""

import asyncio
import contextlib
import logging

from django.core.management.base import BaseCommand

from demo.pdu_simulator import PDUSimulator


class Command(BaseCommand):
    help = "Answer SNMP v1/v2c like an APC switched PDU's outlet table on 127.0.0.1 (for the demo)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=16161)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--community", default="demo-private", help="The read-write community it accepts.")
        parser.add_argument("--outlets", type=int, default=8)
        parser.add_argument("--reboot-seconds", type=float, default=5.0, help="How long a rebooted outlet stays off.")

    def handle(self, *args, **options):
        logging.getLogger("demo.pdu_simulator").setLevel(logging.INFO)
        simulator = PDUSimulator(
            community=options["community"],
            outlets=options["outlets"],
            host=options["host"],
            port=options["port"],
            reboot_seconds=options["reboot_seconds"],
        )

        async def main():
            await simulator.serve()
            self.stdout.write(f"PDU simulator answering SNMP on {simulator.host}:{simulator.port}", ending="\n")
            self.stdout.flush()
            await asyncio.Event().wait()

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main())
