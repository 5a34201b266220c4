"""Make a big invented co-op in its own PostgreSQL database, for bench/pages.py.

    .venv/bin/python -m bench.make_big_coop                       # 10,000 machines, 50,000 guests, 1,000,000 entries
    .venv/bin/python -m bench.make_big_coop --scale 0.1 --database switchboard_bench_small
    .venv/bin/python -m bench.make_big_coop --reset                # drop and make again

The database is created (and migrated) when missing; one that already holds machines is left
alone unless --reset. Most tables are filled with bulk_create in batches, the timeline with one
INSERT ... SELECT over generate_series. Invented data only: example.org/example.net names,
+1 555 01xx numbers, 2001:db8::/32 and the IPv4 documentation ranges.

The shape: a few sites; one "big dom0" with BIG_DOM0_GUESTS guests, an open incident with a long
timeline and its monitor down (the outage page at its worst); the other guests spread over the
other machines; most incidents resolved; people with phone and email; site access per site.
"""

import argparse
import ipaddress
import sys
import time
from datetime import timedelta

import psycopg
from psycopg import sql

from bench.env import DEFAULT_DATABASE, PG_SERVER, use_database

BATCH = 5000
SITES = [("Harbor Colo", "harbor"), ("Riverside DC", "riverside"), ("North Exchange", "north"), ("Old Mill", "mill")]
BIG_DOM0_GUESTS = 1000
BIG_INCIDENT_ENTRIES = 30_000
IPV4_RANGES = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"]


STARTED = time.monotonic()


def log(message):
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


def create_database(name, reset):
    """Create the database (dropping it first with reset); True when it is new."""
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reset:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    return False


def bulk(model, rows):
    """Insert `rows` (unsaved instances) in batches; returns them with their primary keys."""
    made = model.objects.bulk_create(rows, batch_size=BATCH)
    log(f"{model.__name__}: {len(made):,}")
    return made


def ipv6_for(n):
    return ipaddress.IPv6Address((0x20010DB8 << 96) | (0x10 << 80) | n).compressed  # 2001:db8:10::<n>


def ipv4_addresses():
    for network in IPV4_RANGES:
        yield from (str(host) for host in ipaddress.ip_network(network).hosts())


def generate(machines_total, guests_total, entries_total):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.utils import timezone

    from backups.models import BackupState, BackupTarget
    from coop.models import ContactMethod, Contract, Organization, Person, Site, SiteAccess
    from core.access import MEMBERS
    from hosts.models import DNSName, Guest, HostedService, IPAddress, Machine, Monitor, Runbook
    from incidents.models import ActionItem, Incident
    from power.models import PowerController, PowerOutlet

    now = timezone.now()
    n_orgs = max(guests_total // 25, 10)
    n_people = max(guests_total // 10, 20)
    n_incidents = max(entries_total // 50, 20)

    with transaction.atomic():
        sites = bulk(
            Site,
            [
                Site(
                    name=name,
                    slug=slug,
                    address=f"{i + 1} Example Street\nHarbor City",
                    access_procedure=f"Call the badge desk at +1 555 01{i:02d}; escort required after 22:00.",
                    hours="24/7 with badge",
                )
                for i, (name, slug) in enumerate(SITES)
            ],
        )
        orgs = bulk(
            Organization,
            [
                Organization(name=f"Tenant {n:05d}", slug=f"tenant-{n:05d}", email=f"ops@tenant{n}.example.org")
                for n in range(n_orgs)
            ],
        )
        people = bulk(
            Person,
            [
                Person(
                    name=f"Volunteer {n:05d}",
                    organization=orgs[n % n_orgs],
                    is_volunteer=n % 3 == 0,
                    timezone=["UTC", "Europe/Berlin", "America/Los_Angeles"][n % 3],
                )
                for n in range(n_people)
            ],
        )
        methods = []
        for n, person in enumerate(people):
            verified = None if n % 10 == 0 else now - timedelta(days=n % 300)
            methods.append(
                ContactMethod(person=person, kind="phone", value=f"+1 555 01{n % 100:02d}", verified_at=verified)
            )
            methods.append(ContactMethod(person=person, kind="email", value=f"v{n}@example.org", priority=2))
        bulk(ContactMethod, methods)
        kinds = list(SiteAccess.Kind)
        bulk(
            SiteAccess,
            [
                SiteAccess(person=people[(s * 30 + k) % n_people], site=site, kind=kinds[k % len(kinds)])
                for s, site in enumerate(sites)
                for k in range(30)
            ],
        )

        machines = bulk(
            Machine,
            [
                Machine(
                    hostname=f"m{n:05d}.{sites[n % len(sites)].slug}.example.net"
                    if n
                    else "big-dom0.harbor.example.net",
                    site=sites[n % len(sites)],
                    owner=orgs[n % n_orgs],
                    hypervisor=Machine.Hypervisor.KVM,
                    rack=f"R{n % 40}",
                    rack_position=f"U{n % 42 + 1}",
                    os_name="Debian",
                    os_version="12",
                    management_address=ipaddress.IPv6Address((0x20010DB8 << 96) | (0xFF << 80) | n).compressed,
                    pinned_warning="Stop the guests' databases before a reboot." if n % 50 == 0 else "",
                )
                for n in range(machines_total)
            ],
        )
        big = machines[0]
        admins = Machine.admins.through
        bulk(
            admins,
            [
                admins(machine_id=m.pk, person_id=people[(i * 3 + k) % n_people].pk)
                for i, m in enumerate(machines)
                for k in range(3)
            ],
        )
        # About 0.5% of machines are down, the big dom0 among them.
        bulk(
            Monitor,
            [
                Monitor(
                    machine=m,
                    kind="ping",
                    target=m.management_address,
                    state=Monitor.State.DOWN if i % 200 == 0 else Monitor.State.UP,
                    state_changed_at=now,
                )
                for i, m in enumerate(machines)
            ],
        )

        def host_of(n):  # the big dom0 first, then round robin over the others
            return big if n < BIG_DOM0_GUESTS else machines[1 + n % (machines_total - 1)]

        guests = bulk(
            Guest,
            [
                Guest(
                    name=f"vps{n:05d}.example.org",
                    machine=host_of(n),
                    owner=orgs[n % n_orgs],
                    os_name="Debian",
                    os_version="12",
                    vcpus=2,
                    memory_mb=2048,
                    disk_gb=40,
                )
                for n in range(guests_total)
            ],
        )
        contacts = Guest.contacts.through
        bulk(contacts, [contacts(guest_id=g.pk, person_id=people[n % n_people].pk) for n, g in enumerate(guests)])
        addresses = [IPAddress(address=ipv6_for(n), guest=g) for n, g in enumerate(guests)]
        v4 = zip(ipv4_addresses(), guests, strict=False)  # a few hundred guests also have an IPv4 address
        addresses += [IPAddress(address=a, guest=g, note="public") for a, g in v4]
        bulk(IPAddress, addresses)
        bulk(DNSName, [DNSName(name=f"www.vps{n:05d}.example.org", guest=g) for n, g in enumerate(guests)])
        bulk(
            HostedService,
            [
                HostedService(
                    guest=g, name=f"Site {n:05d}", url=f"https://site{n:05d}.example.net/", is_public=n % 50 == 0
                )
                for n, g in enumerate(guests)
            ],
        )
        bulk(
            Monitor,
            [
                Monitor(
                    guest=g,
                    kind="http",
                    target=f"https://site{n:05d}.example.net/",
                    state=Monitor.State.DOWN if n % 100 == 7 else Monitor.State.UP,
                    state_changed_at=now,
                )
                for n, g in enumerate(guests)
            ],
        )
        runbooks = [
            Runbook(title=f"Bring up {m.hostname}", machine=m, body="1. Power on.\n2. Start the guests.")
            for m in machines
        ]
        runbooks += [Runbook(title=f"Restore {g.name}", guest=g, body="Restore with borg.") for g in guests[::10]]
        runbooks += [Runbook(title=f"Getting into {s.name}", site=s, body="Badge desk first.") for s in sites]
        bulk(Runbook, runbooks)
        failing = [BackupState.STALE, BackupState.UNENCRYPTED, BackupState.SHRUNK, BackupState.ERROR]
        targets = [
            BackupTarget(
                name=f"etc-{m.hostname}",
                kind="heartbeat",
                machine=m,
                state=failing[i % 4] if i % 33 == 0 else BackupState.OK,
                last_checked_at=now,
            )
            for i, m in enumerate(machines)
        ]
        targets += [
            BackupTarget(name=f"s3-{g.name}", kind="s3", guest=g, bucket="backups", prefix=g.name, state=BackupState.OK)
            for g in guests[::5]
        ]
        bulk(BackupTarget, targets)

        controllers, outlets = [], []
        for s, site in enumerate(sites):
            on_site = [m for m in machines if m.site_id == site.pk]
            for start in range(0, len(on_site), 24):
                controller = PowerController(
                    name=f"pdu-{site.slug}-{start // 24:03d}",
                    site=site,
                    driver=PowerController.Driver.APC_SNMP,
                    snmp_version="2c",
                    host=f"198.51.100.{s + 1}",
                )
                controllers.append(controller)
                outlets += [
                    PowerOutlet(controller=controller, number=k + 1, machine=m, label="PSU A")
                    for k, m in enumerate(on_site[start : start + 24])
                ]
        bulk(PowerController, controllers)
        bulk(PowerOutlet, outlets)

        contracts = bulk(
            Contract,
            [
                Contract(
                    provider=orgs[n % n_orgs],
                    paid_by=orgs[(n + 1) % n_orgs],
                    site=sites[n % len(sites)],
                    covers=f"transit {n}",
                    ends_on=(now + timedelta(days=n * 7)).date(),
                )
                for n in range(100)
            ],
        )
        covered = Contract.machines.through
        bulk(
            covered,
            [
                covered(contract_id=c.pk, machine_id=machines[(i * 10 + k) % machines_total].pk)
                for i, c in enumerate(contracts)
                for k in range(10)
            ],
        )

        # Incidents: the big dom0's open one first, then ~1 in 500 still open, the rest resolved.
        incidents = []
        for n in range(n_incidents):
            started = now - timedelta(hours=n or 24)
            is_open = n % 500 == 0
            incidents.append(
                Incident(
                    title="big dom0 down: 1,000 guests offline" if n == 0 else f"Outage {n}",
                    severity=Incident.Severity.CRITICAL if n == 0 else Incident.Severity.MAJOR,
                    status=Incident.Status.INVESTIGATING if is_open else Incident.Status.RESOLVED,
                    resolved_at=None if is_open else started + timedelta(hours=1),
                    is_public=n % 10 == 0,
                    summary="Invented outage for the benchmark.",
                    started_at=started,
                )
            )
        incidents = bulk(Incident, incidents)
        hit = Incident.machines.through
        # The big dom0 appears in 1 incident in 100; every other incident hits one other machine.
        bulk(
            hit,
            [
                hit(incident_id=inc.pk, machine_id=(big if n % 100 == 0 else machines[1 + n % (machines_total - 1)]).pk)
                for n, inc in enumerate(incidents)
            ],
        )
        hit_guest = Incident.guests.through
        bulk(
            hit_guest,
            [hit_guest(incident_id=incidents[0].pk, guest_id=g.pk) for g in guests[:BIG_DOM0_GUESTS]]
            + [
                hit_guest(incident_id=inc.pk, guest_id=guests[(n * 7) % guests_total].pk)
                for n, inc in enumerate(incidents[1:], start=1)
            ],
        )
        bulk(
            ActionItem,
            [
                ActionItem(incident=inc, title=f"Follow-up {k}", owner=people[k])
                for inc in incidents
                if inc.status != Incident.Status.RESOLVED
                for k in range(2)
            ],
        )

        # The timeline: BIG_INCIDENT_ENTRIES on the big open incident, the rest spread over all incidents.
        big_entries = min(BIG_INCIDENT_ENTRIES, entries_total // 10)
        first, count = incidents[0].pk, len(incidents)
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO incidents_timelineentry (incident_id, at, kind, body, author_id, is_public)
                SELECT %s, %s + i * interval '1 second', 'check_failed', 'Check failed: ping timeout (' || i || ')',
                       NULL, i %% 100 = 0
                FROM generate_series(1, %s) AS i
                """,
                [first, incidents[0].started_at, big_entries],
            )
            cursor.execute(
                """
                INSERT INTO incidents_timelineentry (incident_id, at, kind, body, author_id, is_public)
                SELECT inc.id, inc.started_at + (i / %s) * interval '1 minute',
                       (ARRAY['note', 'status', 'check_failed', 'alert_sent', 'alert_ack'])[1 + i %% 5],
                       'Step ' || i || ': invented timeline entry for the benchmark.', NULL, inc.is_public
                FROM generate_series(0, %s - 1) AS i
                JOIN incidents_incident AS inc ON inc.id = %s + i %% %s
                """,
                [count, entries_total - big_entries, first, count],
            )
        log(f"TimelineEntry: {entries_total:,}")

        user, _ = get_user_model().objects.get_or_create(
            username="bench", defaults={"email": "bench@example.org", "is_active": True}
        )
        user.set_unusable_password()
        user.save()
        user.groups.add(Group.objects.get_or_create(name=MEMBERS)[0])
        Person.objects.filter(pk=people[-1].pk).update(user=user)

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log("ANALYZE done")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="PostgreSQL database (default: %(default)s)")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 10,000 machines; 0.1: 1,000 (default: 1.0)")
    parser.add_argument("--reset", action="store_true", help="drop the database first")
    args = parser.parse_args(argv)

    machines = max(int(10_000 * args.scale), 10)
    guests = max(int(50_000 * args.scale), BIG_DOM0_GUESTS + machines)
    entries = max(int(1_000_000 * args.scale), 1000)

    create_database(args.database, args.reset)
    use_database(args.database)
    from django.core.management import call_command

    from hosts.models import Machine

    call_command("migrate", verbosity=0, interactive=False)
    log(f"migrated {args.database}")
    if Machine.objects.exists():
        print(f"{args.database} already has {Machine.objects.count():,} machines: left as is (--reset to remake it).")
        return 0
    print(f"Making {machines:,} machines, {guests:,} guests, {entries:,} timeline entries in {args.database}")
    generate(machines, guests, entries)
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
