"""How many uptime checks one worker process sustains: probes and recording, in the checker's batches.

    .venv/bin/python -m bench.monitor_checks                      # 10,000 TCP monitors, 3 rounds
    .venv/bin/python -m bench.monitor_checks --monitors 60000 --rounds 2

Makes its own database (switchboard_bench_monitors, dropped first), one machine per monitor, and
TCP monitors against local listeners on 127.0.0.1: most accept, one in 20 points at a closed port
(refused), so state changes and incidents happen in the first rounds. Each round claims every
monitor (monitors.checker.claim_due, as the dispatch task does) and checks them in batches of
MONITOR_BATCH_SIZE in this one process (monitors.checker.check_batch, as a worker does), then
prints checks/s, the round's wall time and this process's CPU time. A 60 s interval for N
monitors needs N/60 checks/s. It prints figures and never fails.
"""

import argparse
import resource
import socket
import threading
import time
from datetime import timedelta

from bench.env import PG_SERVER, use_database

DATABASE = "switchboard_bench_monitors"


def listeners(count):
    """`count` listening sockets on 127.0.0.1 that accept and close every connection; their ports."""
    ports = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        ports.append(sock.getsockname()[1])
        threading.Thread(target=_accept, args=(sock,), daemon=True).start()
    return ports


def _accept(sock):
    while True:
        conn, _ = sock.accept()
        conn.close()


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_database(monitors):
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    use_database(DATABASE)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from coop.models import Site
    from hosts.models import Machine, Monitor

    site = Site.objects.create(name="Bench Colo", slug="bench-colo")
    Machine.objects.bulk_create(
        [Machine(hostname=f"m{n:05d}.bench.example.org", site=site) for n in range(monitors)], batch_size=5000
    )
    up_ports, down = listeners(8), closed_port()
    machines = Machine.objects.order_by("pk").values_list("pk", flat=True)
    Monitor.objects.bulk_create(
        [
            Monitor(
                machine_id=pk,
                kind=Monitor.Kind.TCP,
                target="127.0.0.1",
                port=down if n % 20 == 0 else up_ports[n % len(up_ports)],
                timeout=timedelta(seconds=2),
                down_after=1,
            )
            for n, pk in enumerate(machines)
        ],
        batch_size=5000,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--monitors", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    started = time.monotonic()
    make_database(args.monitors)
    print(f"{args.monitors:,} TCP monitors made in {time.monotonic() - started:.1f} s")
    from django.conf import settings
    from django.utils import timezone

    from incidents.models import Incident
    from monitors.checker import check_batch, claim_due

    size = settings.MONITOR_BATCH_SIZE
    print(
        f"batches of {size}, {settings.MONITOR_CONCURRENCY} probes in flight; a 60 s interval needs "
        f"{args.monitors / 60:,.0f} checks/s"
    )
    for round_number in range(1, args.rounds + 1):
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        wall = time.monotonic()
        ids = claim_due(timezone.now() + timedelta(days=round_number), limit=args.monitors)
        totals = {"checked": 0, "down": 0, "up": 0}
        for start in range(0, len(ids), size):
            for key, value in check_batch(ids[start : start + size]).items():
                totals[key] = totals.get(key, 0) + value
        wall = time.monotonic() - wall
        used = resource.getrusage(resource.RUSAGE_SELF)
        still_open = Incident.objects.exclude(status="resolved").count()
        cpu_s = (used.ru_utime - cpu.ru_utime) + (used.ru_stime - cpu.ru_stime)
        print(
            f"round {round_number}: {totals['checked']:,} checked in {wall:.1f} s = {totals['checked'] / wall:,.0f}"
            f" checks/s; {totals['down']} went down, {totals['up']} up; CPU {cpu_s:.1f} s;"
            f" max RSS {used.ru_maxrss / 1024:.0f} MB; open outages {still_open}"
        )


if __name__ == "__main__":
    main()
