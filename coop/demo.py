"""The demo co-op: a colo closing in a few weeks, a Xen host that died and took a wiki and a
blog with it, and a Windows host at a provider whose only admin cannot be reached and whose
hosting contract runs out soon. Modelled on the two outage stories; every name, number and
address is invented (example.org/.net, +1 555 01xx, documentation IP ranges).

`seed()` creates only what is missing and never changes a row that is already there, so it is
safe on a database with real data and on a demo someone has been editing. Dates are relative
to the moment it runs.
"""

from collections import Counter
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from coop.models import ContactMethod, Contract, Organization, Person, Site, SiteAccess
from hosts.models import (
    BackupTarget,
    DNSName,
    Guest,
    HostedService,
    IPAddress,
    Lifecycle,
    Machine,
    Monitor,
    PowerController,
    PowerOutlet,
    Runbook,
    SoftwareVersion,
)
from incidents.models import ActionItem, Incident, TimelineEntry

CHANGE_REASON = "seed_demo"
DEMO_USERNAME = "demo"
DEMO_EMAIL = "demo@example.org"
DEMO_PASSWORD = "switchboard-demo"  # noqa: S105 - a published demo login, not a secret

# The simulators a later issue starts on this host; the demo's controllers point at them.
SIMULATOR_HOST = "127.0.0.1"
PDU_PORT = 16161
BMC_PORT = 16230
S3_ENDPOINT = "http://127.0.0.1:15000"

INCIDENT_TITLE = "dom0 down: wiki and blog offline"


class Seeder:
    """Creates demo rows that are missing and counts what it created and what it found."""

    def __init__(self, now):
        self.now = now
        self.today = timezone.localdate(now)
        self.created = Counter()
        self.present = Counter()
        self.user_created = False

    def ensure(self, model, lookup, defaults=None, m2m=None):
        """The row matching `lookup`; if there is none, a new validated one from lookup + defaults.

        An existing row is returned untouched (and its many-to-many links too), so a user's
        edits survive; `m2m` is only applied to a row created now.
        """
        label = str(model._meta.verbose_name_plural)
        obj = model._default_manager.filter(**lookup).first()
        if obj is not None:
            self.present[label] += 1
            return obj, False
        obj = model(**lookup, **(defaults or {}))
        obj.full_clean()
        obj._change_reason = CHANGE_REASON  # read by django-simple-history, also for the m2m records below
        obj.save()
        for name, related in (m2m or {}).items():
            getattr(obj, name).set(related)
        self.created[label] += 1
        return obj, True

    def days_ago(self, days):
        return self.now - timedelta(days=days)

    def in_days(self, days):
        return self.today + timedelta(days=days)


def seed(now=None):
    """Create whatever part of the demo co-op is missing, in one transaction; return the Seeder."""
    s = Seeder(now or timezone.now())
    with transaction.atomic():
        user = _demo_user(s)
        sites = _sites(s)
        orgs = _organizations(s)
        people = _people(s, orgs, user)
        _site_access(s, sites, people)
        machines = _machines(s, sites, orgs, people)
        guests = _xen_guests(s, machines, orgs, people) | _virtuozzo_containers(s, machines, orgs, people)
        _power(s, sites, machines)
        _backups(s, guests, machines)
        _contracts(s, sites, orgs, machines)
        _runbooks(s, sites, machines, guests)
        _monitors(s, machines, guests)
        _past_incident(s, user, machines, guests, people)
    return s


def _demo_user(s):
    User = get_user_model()
    user = User._default_manager.filter(username=DEMO_USERNAME).first()
    if user is not None:
        s.present["users"] += 1
        return user
    user = User(username=DEMO_USERNAME, email=DEMO_EMAIL, first_name="Ines", last_name="Okafor")
    user.is_staff = user.is_superuser = True
    user.set_password(DEMO_PASSWORD)
    user.full_clean()
    user.save()
    s.created["users"] += 1
    s.user_created = True
    return user


# --- Sites and organisations ----------------------------------------------------------------

FOGHORN_ACCESS = """\
Call the security desk (+1 555 0150) at least 30 minutes before you go and give the name on the
co-op's access list and account DEMO-COLO-118. Badge holders sign in with photo ID at the
badge desk on the ground floor and go up alone. Everyone else must be met at the desk by a badge or key
holder: the desk will not let an escort-only visitor up by themselves, and the escort signs
them out again. Our half rack is R3 in cage 2 on the 4th floor; the PDU is at the top, the
serial console server at U40."""

LAKESHORE_ACCESS = """\
The co-op has no badges here: it is the provider's building. Open a remote-hands ticket by
phone (+1 555 0160) or email (remote-hands@lakeshore.example.net) quoting account LKS-DEMO-4417.
Remote hands can power-cycle, reseat cables and read the console to you; allow an hour.
A visit by a volunteer needs a ticket a working day ahead and an escort from the provider."""


def _sites(s):
    closing = s.in_days(21)
    foghorn, _ = s.ensure(
        Site,
        {"slug": "foghorn"},
        {
            "name": "Foghorn Street Colo",
            "address": "1200 Foghorn Street, 4th floor, cage 2\nAnytown, CA 94000",
            "access_procedure": FOGHORN_ACCESS,
            "hours": "Badge holders 24/7; security desk staffed 07:00–19:00 weekdays",
            "timezone": "America/Los_Angeles",
            "lifecycle": Site.Lifecycle.DECOMMISSIONING,
            "decommission_date": closing,
            "pinned_warning": (
                f"This colo closes on {closing:%A %d %B}. Everything in rack R3 must be moved or "
                "switched off by then; xen1's guests move to the new site first."
            ),
            "notes": "Rack R3 (half rack). The co-op has been here since its founding.",
        },
    )
    lakeshore, _ = s.ensure(
        Site,
        {"slug": "lakeshore-dc2"},
        {
            "name": "Lakeshore DC2",
            "address": "88 Harbor Road, Hall B\nLakeside, IL 60000",
            "access_procedure": LAKESHORE_ACCESS,
            "hours": "Remote hands 24/7 by ticket; visits 09:00–17:00 weekdays",
            "timezone": "America/Chicago",
            "lifecycle": Site.Lifecycle.ACTIVE,
        },
    )
    return {"foghorn": foghorn, "lakeshore": lakeshore}


ORGANIZATIONS = [
    # slug, name, website, email, is_member, notes
    (
        "tidewater",
        "Tidewater Hosting Co-op",
        "https://tidewater.example.org",
        "ops@tidewater.example.org",
        True,
        "The co-op itself: owns the rack at Foghorn Street and the machines in it.",
    ),
    ("atlas-wiki", "Atlas Wiki", "https://atlas.example.org", "team@atlas.example.org", True, ""),
    ("field-notes", "Field Notes", "https://fieldnotes.example.org", "noor@fieldnotes.example.org", True, "A blog."),
    (
        "quillmark-docs",
        "Quillmark Docs Archive",
        "https://docs.quillmark.example.org",
        "archive@quillmark.example.org",
        True,
        "Keeps the documentation and public history of a discontinued product online. Pays for vz1.",
    ),
    (
        "lakeshore-hosting",
        "Lakeshore Hosting",
        "https://lakeshore.example.net",
        "billing@lakeshore.example.net",
        False,
        "Hosting provider: rents us the dedicated server vz1 at Lakeshore DC2.",
    ),
    (
        "foghorn-facilities",
        "Foghorn Facilities",
        "https://foghorn.example.net",
        "desk@foghorn.example.net",
        False,
        "Runs the Foghorn Street building; our colo contract is with them.",
    ),
]


def _organizations(s):
    orgs = {}
    for slug, name, website, email, is_member, notes in ORGANIZATIONS:
        orgs[slug], _ = s.ensure(
            Organization,
            {"slug": slug},
            {"name": name, "website": website, "email": email, "is_member": is_member, "notes": notes},
        )
    return orgs


# --- People, how to reach them, who can get in --------------------------------------------

# key: (name, organisation slug, volunteer?, time zone, notes, [(kind, value, verified days ago)])
PEOPLE = {
    "ines": (
        "Ines Okafor",
        "tidewater",
        True,
        "America/Los_Angeles",
        "Co-op admin; the demo login.",
        [
            ("sms", "+1 555 0101", 12),
            ("phone", "+1 555 0101", 12),
            ("signal", "+1 555 0101", 30),
            ("matrix", "@ines:example.org", 5),
            ("email", "ines@example.org", 5),
        ],
    ),
    "tomas": (
        "Tomas Reyes",
        "tidewater",
        True,
        "America/Los_Angeles",
        "Lives ten minutes from Foghorn Street; holds a rack key.",
        [
            ("phone", "+1 555 0102", 20),
            ("sms", "+1 555 0102", 20),
            ("email", "tomas@example.org", 41),
            ("matrix", "@tomas:example.org", 41),
        ],
    ),
    "wen": (
        "Wen Liu",
        "tidewater",
        True,
        "America/New_York",
        "Knows Xen; remote most of the time.",
        [
            ("signal", "+1 555 0103", 9),
            ("email", "wen@example.net", 9),
            ("matrix", "@wen:example.net", 60),
            ("phone", "+1 555 0103", 60),
        ],
    ),
    "dmitri": (
        "Dmitri Valk",
        "tidewater",
        True,
        "America/Chicago",
        "Built vz1 and is the only one who knows it. Has not answered email, phone or chat for over a year.",
        [
            ("phone", "+1 555 0104", 700),
            ("sms", "+1 555 0104", 700),
            ("phone", "+1 555 0105", 640),
            ("email", "dmitri@example.net", 420),
            ("matrix", "@dmitri:example.net", 480),
            ("signal", "+1 555 0104", 610),
        ],
    ),
    "priya": (
        "Priya Raman",
        "atlas-wiki",
        False,
        "America/Los_Angeles",
        "Runs Atlas Wiki; did the restore during the dom0 outage.",
        [
            ("sms", "+1 555 0111", 40),
            ("email", "priya@atlas.example.org", 40),
            ("matrix", "@priya:atlas.example.org", 40),
        ],
    ),
    "noor": (
        "Noor Haddad",
        "field-notes",
        False,
        "Europe/London",
        "Writes Field Notes. Prefers email; UK evenings.",
        [("email", "noor@fieldnotes.example.org", 40), ("signal", "+1 555 0112", 90)],
    ),
    "hal": (
        "Hal Becker",
        "quillmark-docs",
        False,
        "America/New_York",
        "Looks after the Quillmark archive in his spare time.",
        [("email", "hal@quillmark.example.org", 25), ("phone", "+1 555 0113", 25), ("sms", "+1 555 0113", 25)],
    ),
    "lakeshore_hands": (
        "Lakeshore Remote Hands",
        "lakeshore-hosting",
        False,
        "America/Chicago",
        "The provider's 24/7 desk. Quote account LKS-DEMO-4417.",
        [("phone", "+1 555 0160", 15), ("email", "remote-hands@lakeshore.example.net", 15)],
    ),
    "foghorn_desk": (
        "Foghorn Security Desk",
        "foghorn-facilities",
        False,
        "America/Los_Angeles",
        "Staffed 07:00–19:00 weekdays; after hours the phone forwards to the guard on duty.",
        [("phone", "+1 555 0150", 15), ("email", "desk@foghorn.example.net", 15)],
    ),
}


def _people(s, orgs, user):
    people = {}
    for key, (name, org, is_volunteer, tz, notes, methods) in PEOPLE.items():
        defaults = {"organization": orgs[org], "is_volunteer": is_volunteer, "timezone": tz, "notes": notes}
        if key == "ines" and not Person.objects.filter(user=user).exists():
            defaults["user"] = user
        person, _ = s.ensure(Person, {"name": name}, defaults)
        for priority, (kind, value, verified_days_ago) in enumerate(methods, start=1):
            s.ensure(
                ContactMethod,
                {"person": person, "kind": kind, "value": value},
                {"priority": priority, "verified_at": s.days_ago(verified_days_ago)},
            )
        people[key] = person
    _link_demo_user(people["ines"], user)
    return people


def _link_demo_user(person, user):
    """Fill in a missing login link (the demo user was recreated); never move an existing one."""
    if person.user_id is None and not Person.objects.filter(user=user).exists():
        person.user = user
        person._change_reason = CHANGE_REASON
        person.save(update_fields=["user"])


SITE_ACCESS = [
    # person, site, kind, valid for days (None: no expiry), notes
    ("tomas", "foghorn", SiteAccess.Kind.KEY, None, "Rack key and building badge; lives ten minutes away."),
    ("ines", "foghorn", SiteAccess.Kind.BADGE, 21, "Badge ends when the colo closes."),
    ("wen", "foghorn", SiteAccess.Kind.ESCORT_ONLY, None, "Must be met at the badge desk by Tomas or Ines."),
    ("foghorn_desk", "foghorn", SiteAccess.Kind.REMOTE_HANDS, None, "Can read a console or press a key; no tools."),
    ("dmitri", "lakeshore", SiteAccess.Kind.BADGE, 35, "Unreachable: do not count on him."),
    ("wen", "lakeshore", SiteAccess.Kind.ESCORT_ONLY, None, "Ticket a working day ahead."),
    ("lakeshore_hands", "lakeshore", SiteAccess.Kind.REMOTE_HANDS, None, "24/7 by ticket; about an hour."),
]


def _site_access(s, sites, people):
    for person, site, kind, valid_days, notes in SITE_ACCESS:
        s.ensure(
            SiteAccess,
            {"person": people[person], "site": sites[site]},
            {"kind": kind, "valid_until": s.in_days(valid_days) if valid_days else None, "notes": notes},
        )


# --- Machines and guests --------------------------------------------------------------------

XEN1_STARTUP = """\
The guests do **not** start by themselves. Follow the runbook “After a dom0 reboot”:

1. `xm list`: only Domain-0 should be running; `df -h` shows /srv/xen mounted.
2. `xm create /etc/xen/wiki1.cfg` and wait for PostgreSQL on wiki1 to finish recovery.
3. `xm create /etc/xen/blog1.cfg`.
4. On wiki1: start memcached, then lighttpd and lighttpd-ssl.
"""

VZ1_STARTUP = """\
Nothing here runs as a Windows service: it all depends on the auto-logon.

1. After a reboot Windows logs on by itself as `VZADMIN` (auto-logon). Never log that session
   off: the containers' app servers run as programs inside it.
2. The auto-logon runs `C:\\ops\\start-containers.bat`, which starts the Virtuozzo service,
   starts containers 101–110 in order, launches each container's app server and maps the
   static share `\\\\ct102\\static` as S: for the static file server.
3. If the Virtuozzo service does not start (Event Viewer → System), stop there and raise it
   on the co-op list: that is how the last long outage on this machine began.
4. Check every container's monitor; restart a single container with `vzctl restart <CTID>`
   from an administrator prompt and rerun its line of the batch script.
"""


def _machines(s, sites, orgs, people):
    xen1, _ = s.ensure(
        Machine,
        {"hostname": "xen1.foghorn.example.net"},
        {
            "site": sites["foghorn"],
            "rack": "R3",
            "rack_position": "U12–U13",
            "owner": orgs["tidewater"],
            "hypervisor": Machine.Hypervisor.XEN,
            "os_name": "Debian GNU/Linux",
            "os_version": "5.0",
            "patch_policy": Machine.PatchPolicy.MANUAL,
            "reboot_safe": False,
            "startup_steps": XEN1_STARTUP,
            "management_address": "192.0.2.5",
            "serial_number": "DEMO-XEN-0001",
            "lifecycle": Lifecycle.DECOMMISSIONING,
            "decommission_date": s.in_days(18),
            "pinned_warning": (
                "Stop the wiki's database (PostgreSQL on wiki1) before rebooting this dom0, "
                "and start the guests by hand afterwards: nothing comes back by itself."
            ),
            "notes": "Donated years ago by a former volunteer. Boot can stop at a filesystem-check prompt.",
        },
        m2m={"admins": [people["tomas"], people["wen"]]},
    )
    store1, _ = s.ensure(
        Machine,
        {"hostname": "store1.foghorn.example.net"},
        {
            "site": sites["foghorn"],
            "rack": "R3",
            "rack_position": "U20",
            "owner": orgs["tidewater"],
            "os_name": "Debian GNU/Linux",
            "os_version": "12",
            "patch_policy": Machine.PatchPolicy.SECURITY,
            "reboot_safe": True,
            "management_address": "192.0.2.6",
            "lifecycle": Lifecycle.DECOMMISSIONING,
            "decommission_date": s.in_days(20),
            "notes": "Receives the wiki's WAL shipping and keeps a copy of the backup scripts.",
        },
        m2m={"admins": [people["tomas"], people["ines"]]},
    )
    vz1, _ = s.ensure(
        Machine,
        {"hostname": "vz1.lakeshore.example.net"},
        {
            "site": sites["lakeshore"],
            "owner": orgs["quillmark-docs"],
            "hypervisor": Machine.Hypervisor.VIRTUOZZO,
            "os_name": "Windows Server",
            "os_version": "2008, no service packs",
            "patch_policy": Machine.PatchPolicy.NONE,
            "reboot_safe": False,
            "startup_steps": VZ1_STARTUP,
            "serial_number": "LKS-DEDI-20417",
            "pinned_warning": (
                "Not patched: this Virtuozzo release does not run on the current service pack, and an "
                "automatic update would reboot it. Its only admin is unreachable; the hosting contract ends soon."
            ),
        },
        m2m={"admins": [people["dmitri"]]},
    )
    addresses = [
        (xen1, "192.0.2.10", "public"),
        (xen1, "2001:db8:10::10", "public"),
        (store1, "192.0.2.11", "public"),
        (vz1, "203.0.113.100", "public"),
    ]
    for machine, address, note in addresses:
        s.ensure(IPAddress, {"address": address}, {"machine": machine, "note": note})
    for machine in (xen1, store1, vz1):
        s.ensure(DNSName, {"name": machine.hostname}, {"machine": machine})
    return {"xen1": xen1, "store1": store1, "vz1": vz1}


WIKI1_STARTUP = """\
1. PostgreSQL 8.3 starts at boot; wait for “database system is ready” in
   /var/log/postgresql/postgresql-8.3-main.log (after a crash it replays WAL first).
2. `/etc/init.d/memcached start`: it must listen on port 11311, where the wiki expects it.
3. `/etc/init.d/lighttpd start` and `/etc/init.d/lighttpd-ssl start` (HTTPS is the second one).
4. Check WAL shipping to store1 resumed: the heartbeat “wiki1 WAL shipping” turns green within 15 minutes.
"""

BLOG1_STARTUP = """\
1. `/etc/init.d/lighttpd start`.
2. Open https://fieldnotes.example.org/ and check the newest post is there.
"""


def _guest(s, name, machine, owner, contacts, *, addresses, dns, services=(), software=(), **fields):
    """A guest with its addresses, DNS names, hosted services and recorded software versions."""
    guest, _ = s.ensure(
        Guest, {"name": name}, {"machine": machine, "owner": owner, **fields}, m2m={"contacts": contacts}
    )
    for address, note in addresses:
        s.ensure(IPAddress, {"address": address}, {"guest": guest, "note": note})
    for dns_name in dns:
        s.ensure(DNSName, {"name": dns_name}, {"guest": guest})
    for service_name, url, is_public, service_owner in services:
        s.ensure(
            HostedService,
            {"guest": guest, "name": service_name},
            {"url": url, "is_public": is_public, "owner": service_owner},
        )
    for software_name, version, notes in software:
        s.ensure(SoftwareVersion, {"guest": guest, "name": software_name}, {"version": version, "notes": notes})
    return guest


def _xen_guests(s, machines, orgs, people):
    wiki1 = _guest(
        s,
        "wiki1.foghorn.example.net",
        machines["xen1"],
        orgs["atlas-wiki"],
        [people["priya"], people["tomas"]],
        addresses=[("192.0.2.21", "public"), ("2001:db8:10::21", "public")],
        dns=["wiki1.foghorn.example.net", "atlas.example.org", "www.atlas.example.org"],
        services=[
            ("Atlas Wiki", "https://atlas.example.org/", True, None),
            ("Atlas Wiki edit API", "https://atlas.example.org/api/", False, None),
        ],
        software=[
            ("PostgreSQL", "8.3", "A dump restores only into 8.3: Debian 5.0 or a build from source."),
            ("duplicity", "0.4.11", "Backups are readable only with this version or newer."),
            ("lighttpd", "1.4.19", "Two init scripts: lighttpd and lighttpd-ssl."),
            ("memcached", "1.2.2", "Must listen on port 11311."),
        ],
        os_name="Debian GNU/Linux",
        os_version="5.0",
        vcpus=2,
        memory_mb=4096,
        disk_gb=300,
        startup_steps=WIKI1_STARTUP,
        pinned_warning="Stop PostgreSQL before the dom0 reboots. Restore: see “Restore the wiki from backup”.",
    )
    blog1 = _guest(
        s,
        "blog1.foghorn.example.net",
        machines["xen1"],
        orgs["field-notes"],
        [people["noor"], people["wen"]],
        addresses=[("192.0.2.22", "public"), ("2001:db8:10::22", "public")],
        dns=["blog1.foghorn.example.net", "fieldnotes.example.org"],
        services=[("Field Notes", "https://fieldnotes.example.org/", True, None)],
        software=[("lighttpd", "1.4.19", "")],
        os_name="Debian GNU/Linux",
        os_version="5.0",
        vcpus=1,
        memory_mb=1024,
        disk_gb=40,
        startup_steps=BLOG1_STARTUP,
    )
    return {"wiki1": wiki1, "blog1": blog1}


# CTID, short name, DNS name, what it serves, public?, owner of the service (None: Quillmark)
CONTAINERS = [
    (101, "docs", "docs.quillmark.example.org", "Quillmark documentation", True, None),
    (102, "static", "static.quillmark.example.org", "Static file server", False, None),
    (103, "history", "history.quillmark.example.org", "Quillmark public history", True, None),
    (104, "blogs", "blogs.quillmark.example.org", "Field Notes archive", True, "field-notes"),
    (105, "comments", "comments.quillmark.example.org", "Blog comments server", True, None),
    (106, "mail", "mail.quillmark.example.org", "Outbound mail relay", False, None),
    (107, "ns2", "ns2.quillmark.example.org", "Secondary DNS", False, None),
    (108, "forum", "forum.quillmark.example.org", "User forum (read-only)", True, None),
    (109, "downloads", "downloads.quillmark.example.org", "Old releases", True, None),
    (110, "staging", "staging.quillmark.example.org", None, False, None),
]


def _virtuozzo_containers(s, machines, orgs, people):
    guests = {}
    for ctid, short, dns_name, service, is_public, service_owner in CONTAINERS:
        contacts = [people["hal"], people["dmitri"]]
        if service_owner:
            contacts.append(people["noor"])
        url = "" if short in ("mail", "ns2") else f"https://{dns_name}/"
        guests[f"ct{ctid}"] = _guest(
            s,
            f"ct{ctid}.lakeshore.example.net",
            machines["vz1"],
            orgs["quillmark-docs"],
            contacts,
            addresses=[(f"203.0.113.{ctid}", "public")],
            dns=[f"ct{ctid}.lakeshore.example.net", dns_name],
            services=[(service, url, is_public, orgs[service_owner] if service_owner else None)] if service else [],
            os_name="Windows Server (Virtuozzo container)",
            vcpus=1,
            memory_mb=1024,
            startup_steps=(
                f"Started by `C:\\ops\\start-containers.bat` on vz1 after the auto-logon. Alone: "
                f"`vzctl start {ctid}`, then rerun line {ctid - 100} of the batch script."
            ),
            notes=(
                "Nobody remembers what this is for; found while rebuilding the inventory from DNS."
                if short == "staging"
                else ""
            ),
        )
    return guests


# --- Power, backups, contracts --------------------------------------------------------------


def _power(s, sites, machines):
    pdu, _ = s.ensure(
        PowerController,
        {"name": "foghorn-pdu1"},
        {
            "site": sites["foghorn"],
            "driver": PowerController.Driver.APC_SNMP,
            "host": SIMULATOR_HOST,
            "port": PDU_PORT,
            "snmp_version": PowerController.SNMPVersion.V2C,
            "secret": "demo-private",
            "notes": "Top of rack R3. In the demo it is a simulator on this host.",
        },
    )
    bmc, _ = s.ensure(
        PowerController,
        {"name": "store1-bmc"},
        {
            "site": sites["foghorn"],
            "driver": PowerController.Driver.IPMI,
            "host": SIMULATOR_HOST,
            "port": BMC_PORT,
            "username": "demo-admin",
            "secret": "demo-bmc-password",
            "notes": "store1's IPMI BMC. In the demo it is a simulator on this host.",
        },
    )
    hands, _ = s.ensure(
        PowerController,
        {"name": "lakeshore-remote-hands"},
        {
            "site": sites["lakeshore"],
            "driver": PowerController.Driver.MANUAL,
            "notes": "No remote power: call Lakeshore Remote Hands (+1 555 0160), account LKS-DEMO-4417.",
        },
    )
    outlets = [
        (pdu, 1, machines["xen1"], "xen1 PSU A"),
        (pdu, 2, machines["xen1"], "xen1 PSU B"),
        (pdu, 3, machines["store1"], "store1"),
        (pdu, 4, None, "Top-of-rack switch: do not cycle"),
        (bmc, 1, machines["store1"], "Chassis power"),
        (hands, 1, machines["vz1"], "Provider's power switch"),
    ]
    for controller, number, machine, label in outlets:
        s.ensure(PowerOutlet, {"controller": controller, "number": number}, {"machine": machine, "label": label})


def _backups(s, guests, machines):
    s.ensure(
        BackupTarget,
        {"name": "wiki1 nightly (S3)"},
        {
            "kind": BackupTarget.Kind.S3,
            "guest": guests["wiki1"],
            "expected_interval": timedelta(days=1),
            "grace": timedelta(hours=3),
            "encryption_required": True,
            "min_size_bytes": 50 * 1024 * 1024,
            "endpoint_url": S3_ENDPOINT,
            "region": "us-east-1",
            "bucket": "demo-wiki-backups",
            "prefix": "wiki1/duplicity/",
            "access_key_id": "DEMOWIKIBACKUP",
            "secret_access_key": "demo-wiki-secret-key",
            "last_exercised_at": s.days_ago(40),
            "notes": "duplicity, nightly at 03:00 colo time. Encryption was off until the dom0 outage.",
        },
    )
    s.ensure(
        BackupTarget,
        {"name": "blog1 weekly (S3)"},
        {
            "kind": BackupTarget.Kind.S3,
            "guest": guests["blog1"],
            "expected_interval": timedelta(days=7),
            "grace": timedelta(hours=12),
            "encryption_required": True,
            "endpoint_url": S3_ENDPOINT,
            "region": "us-east-1",
            "bucket": "demo-blog-backups",
            "prefix": "blog1/",
            "access_key_id": "DEMOBLOGBACKUP",
            "secret_access_key": "demo-blog-secret-key",
        },
    )
    s.ensure(
        BackupTarget,
        {"name": "store1 configs (S3)"},
        {
            "kind": BackupTarget.Kind.S3,
            "machine": machines["store1"],
            "expected_interval": timedelta(days=1),
            "grace": timedelta(hours=3),
            "encryption_required": True,
            "endpoint_url": S3_ENDPOINT,
            "region": "us-east-1",
            "bucket": "demo-store1-configs",
            "prefix": "etc/",
            "access_key_id": "DEMOSTORE1CONFIGS",
            "secret_access_key": "demo-store1-secret-key",
            "notes": "etckeeper tarball, nightly. The cron job stopped when store1's disk filled up.",
        },
    )
    s.ensure(
        BackupTarget,
        {"name": "wiki1 WAL shipping"},
        {
            "kind": BackupTarget.Kind.HEARTBEAT,
            "guest": guests["wiki1"],
            "expected_interval": timedelta(minutes=15),
            "grace": timedelta(minutes=15),
            "encryption_required": False,
            "notes": "archive_command on wiki1 pings this after each WAL segment lands on store1.",
        },
    )


def _contracts(s, sites, orgs, machines):
    s.ensure(
        Contract,
        {"provider": orgs["lakeshore-hosting"], "reference": "LKS-DEMO-4417"},
        {
            "paid_by": orgs["quillmark-docs"],
            "site": sites["lakeshore"],
            "covers": "Dedicated server vz1 with 16 IPv4 addresses",
            "starts_on": s.in_days(-6 * 365),
            "ends_on": s.in_days(35),
            "notice_days": 30,
            "monthly_cost": Decimal("189.00"),
            "notes": "The payer stops paying on the end date: move or mothball the ten containers, tell every owner.",
        },
        m2m={"machines": [machines["vz1"]]},
    )
    s.ensure(
        Contract,
        {"provider": orgs["foghorn-facilities"], "reference": "FGH-DEMO-118"},
        {
            "paid_by": orgs["tidewater"],
            "site": sites["foghorn"],
            "covers": "Half rack R3, 2 kW, 100 Mbit/s transit",
            "starts_on": s.in_days(-9 * 365),
            "ends_on": s.in_days(21),
            "notice_days": 90,
            "monthly_cost": Decimal("650.00"),
            "notes": "Notice given; ends the day the colo closes.",
        },
        m2m={"machines": [machines["xen1"], machines["store1"]]},
    )


# --- Runbooks and monitors ------------------------------------------------------------------

RESTORE_WIKI = """\
Restores wiki1 (Atlas Wiki) onto a fresh VM from the nightly backup in S3 and the WAL that
wiki1 ships to store1. Takes four to six hours, mostly waiting for downloads. The steps marked
**(new)** were missing during the dom0 outage.

1. **(new) Make a VM that can run PostgreSQL 8.3.** The backup restores only into 8.3: use
   Debian 5.0, or build 8.3 from source on something newer. 2 vCPUs, 4 GB RAM, and a separate
   300 GB volume mounted on /srv/postgresql *before* you restore (not the instance's scratch disk).
2. Install the versions in wiki1's *Software* list: PostgreSQL 8.3, duplicity, lighttpd and
   memcached. Check `duplicity --version`: an older duplicity cannot read the backup sets.
3. Create the system user the wiki runs as: `adduser --system --group atlas`.
4. **(new) Give the backup script its S3 credentials.** Copy `wiki-backup` from
   store1:/srv/tools/. It reads `S3_ACCESS_KEY_ID` and `S3_SECRET_ACCESS_KEY` from
   /etc/atlas/backup.env (mode 600); take them from the backup target “wiki1 nightly (S3)”
   in Switchboard (revealing them is recorded on the incident). Never put them in the script.
5. Point it at the bucket: `DESTINATION=s3://demo-wiki-backups/wiki1/duplicity/`, with the
   endpoint shown on the backup target.
6. Restore: `./wiki-backup --restore /srv/restore`. Load the base backup into
   /srv/postgresql/8.3/main, copy the WAL segments from store1:/srv/wal/wiki1/ and add a
   `recovery.conf` whose `restore_command` reads them. Start PostgreSQL and wait for
   “archive recovery complete”. Check the newest edit is there.
7. **(new) Turn encryption on.** Set `ENCRYPT_KEY` in /etc/atlas/backup.env to the co-op's
   backup key and run one backup; `duplicity collection-status` must report it encrypted.
   Switchboard's backup check marks the target *Unencrypted* otherwise.
8. From the restored /etc copy only: `lighttpd/`, the `lighttpd-ssl` init script (a copy of
   lighttpd's, needed for HTTPS), `memcached.conf` (port **11311**; on the default port every
   page is slow) and `postgresql.conf` (keep the tuning; comment out `archive_command` for now).
9. Start memcached, lighttpd and lighttpd-ssl. Open the VM's IP address in a browser: the
   front page should load.
10. Load-test a few pages (`ab -n 200 -c 5`). Expect well over 50 requests/second; around 12
    means memcached is on the wrong port.
11. **(new) Re-enable WAL shipping:** put the VM's SSH key on store1, uncomment
    `archive_command`, and check the heartbeat “wiki1 WAL shipping” turns green within 15 minutes.
12. Point atlas.example.org and www.atlas.example.org at the new address; update wiki1's IP
    addresses in Switchboard.
13. Reboot the VM once and check everything comes back by itself. Record the drill here.
"""

AFTER_DOM0_REBOOT = """\
xen1's guests do not start by themselves, on purpose: a crash loop must not keep restarting
the wiki's database.

1. **Before a planned reboot**, stop the wiki's database first: `xm console wiki1`, then
   `/etc/init.d/postgresql-8.3 stop`; then `xm shutdown -w -a`.
2. If the dom0 does not come back, it is probably waiting at a filesystem-check prompt.
   Someone on site answers it (see Foghorn Street Colo's access list), or use the serial
   console server at U40.
3. Check the dom0: `xm list` shows only Domain-0; `df -h` shows /srv/xen mounted.
4. Start the database guest first: `xm create /etc/xen/wiki1.cfg`. On wiki1, wait for
   “database system is ready” in /var/log/postgresql/postgresql-8.3-main.log.
5. `xm create /etc/xen/blog1.cfg`.
6. On wiki1 start memcached, lighttpd and lighttpd-ssl (wiki1's startup steps).
7. Check the monitors of xen1, wiki1 and blog1 are green and say so on the incident.
"""

FOGHORN_RUNBOOK = """\
1. Look at the site's access list in Switchboard: who holds a badge or key *today*. Call them
   (tap the number); mind their local time.
2. Call the security desk (+1 555 0150) at least 30 minutes ahead; give your name as it is on
   the co-op's access list and account DEMO-COLO-118.
3. Bring photo ID. Badge holders sign in at the ground-floor badge desk and go up alone.
4. Escort-only volunteers wait at the desk until a badge or key holder collects them; the
   escort stays with them and signs them out.
5. Rack R3, cage 2, 4th floor. PDU foghorn-pdu1 at the top: outlets 1–2 are xen1, 3 is
   store1, 4 is the switch (never cycle it). Serial console server at U40.
6. Before leaving, write what you did on the incident or the machine's page.
"""

VZ1_RUNBOOK = """\
1. Ask Lakeshore Remote Hands (+1 555 0160, account LKS-DEMO-4417) to read the console to you.
2. If Windows is at the logon screen, the auto-logon failed: ask them to log on as VZADMIN
   with the password from the co-op's password store; the batch script then runs.
3. If the Virtuozzo service is stopped, ask for a reboot once. If it still fails, stop and
   raise it on the co-op list: do not reinstall without a copy of the containers.
4. Check the ten containers' monitors; restart single ones with `vzctl restart <CTID>`.
"""


def _runbooks(s, sites, machines, guests):
    s.ensure(
        Runbook,
        {"title": "Restore the wiki from backup", "guest": guests["wiki1"]},
        {
            "body": RESTORE_WIKI,
            "last_exercised_at": s.days_ago(40),
            "last_exercised_note": "Followed during the dom0 outage; steps 1, 4, 7 and 11 added afterwards.",
        },
    )
    s.ensure(Runbook, {"title": "After a dom0 reboot", "machine": machines["xen1"]}, {"body": AFTER_DOM0_REBOOT})
    s.ensure(
        Runbook, {"title": "Getting into Foghorn Street Colo", "site": sites["foghorn"]}, {"body": FOGHORN_RUNBOOK}
    )
    s.ensure(Runbook, {"title": "vz1 does not come back", "machine": machines["vz1"]}, {"body": VZ1_RUNBOOK})


def _monitors(s, machines, guests):
    checks = [
        ("machine", machines["xen1"], Monitor.Kind.PING, "192.0.2.10", None),
        ("machine", machines["store1"], Monitor.Kind.PING, "192.0.2.11", None),
        ("machine", machines["vz1"], Monitor.Kind.PING, "203.0.113.100", None),
        ("guest", guests["wiki1"], Monitor.Kind.HTTP, "https://atlas.example.org/", None),
        ("guest", guests["wiki1"], Monitor.Kind.TCP, "192.0.2.21", 5432),
        ("guest", guests["blog1"], Monitor.Kind.HTTP, "https://fieldnotes.example.org/", None),
        ("guest", guests["ct101"], Monitor.Kind.HTTP, "https://docs.quillmark.example.org/", None),
        ("guest", guests["ct104"], Monitor.Kind.HTTP, "https://blogs.quillmark.example.org/", None),
        ("guest", guests["ct107"], Monitor.Kind.TCP, "203.0.113.107", 53),
    ]
    for subject_field, subject, kind, target, port in checks:
        s.ensure(Monitor, {subject_field: subject, "kind": kind, "target": target}, {"port": port})


# --- The outage -----------------------------------------------------------------------------

# (minutes after the start, kind, public?, written by the demo user?, body)
K = TimelineEntry.Kind  # short, to keep the table below readable
TIMELINE = [
    (0, K.CHECK_FAILED, False, False, "Ping to xen1.foghorn.example.net (192.0.2.10) failed three times in a row."),
    (0, K.STATUS, False, False, "Incident opened for xen1.foghorn.example.net."),
    (1, K.ALERT_SENT, False, False, "SMS to Ines Okafor (+1 555 0101); email to ops@tidewater.example.org."),
    (4, K.NOTE, True, True, "Atlas Wiki and Field Notes are down: the server they run on stopped answering."),
    (9, K.ALERT_ACKNOWLEDGED, False, True, "Ines Okafor acknowledged the alert by SMS."),
    (15, K.NOTE, False, True, "No ping or SSH to xen1; wiki1 and blog1 time out. Serial console server silent."),
    (22, K.POWER_REQUESTED, False, True, "Power cycle of xen1 (foghorn-pdu1 outlets 1–2): dom0 unresponsive."),
    (23, K.POWER_DONE, False, False, "foghorn-pdu1 outlets 1–2: off, 10 s wait, on. Done in 14 s."),
    (
        35,
        K.NOTE,
        False,
        True,
        "xen1 still silent 10 minutes after the power cycle. Tomas can be at the colo in about three "
        "hours. Priya starts restoring wiki1 onto a spare VM in parallel, in case the disk is gone.",
    ),
    (
        40,
        K.NOTE,
        True,
        True,
        "A remote power cycle did not bring the server back. A volunteer is on the way to the colo; "
        "meanwhile we are preparing to restore the wiki from backup. Edits are copied off the server "
        "as they happen, so none should be lost.",
    ),
    (
        95,
        K.NOTE,
        False,
        True,
        "Restore runbook gaps: it does not say PostgreSQL 8.3 is needed, the backup script needs S3 "
        "credentials that were only on xen1 and two laptops, and the backups were not encrypted.",
    ),
    (
        250,
        K.NOTE,
        False,
        True,
        "Tomas on site: xen1 was waiting at a filesystem-check prompt. Answered it; dom0 is up. "
        "The guests did not start by themselves.",
    ),
    (252, K.CHECK_RECOVERED, False, False, "Ping to xen1.foghorn.example.net answers again."),
    (
        270,
        K.NOTE,
        False,
        True,
        "Started wiki1, then blog1, by hand following “After a dom0 reboot”. PostgreSQL replayed its "
        "WAL; the newest edit is there. Spare-VM restore stopped.",
    ),
    (275, K.CHECK_RECOVERED, False, False, "https://atlas.example.org/ answers 200 again."),
    (276, K.CHECK_RECOVERED, False, False, "https://fieldnotes.example.org/ answers 200 again."),
    (
        300,
        K.BACKUP,
        False,
        True,
        "Encryption turned on for the wiki backups; S3 credentials moved out of the backup script into "
        "the backup target. First encrypted backup landed in s3://demo-wiki-backups/wiki1/duplicity/.",
    ),
    (
        310,
        K.NOTE,
        True,
        True,
        "Both sites are back. The server was waiting for a disk check at boot, and a volunteer "
        "answered it on site. No edits were lost.",
    ),
    (360, K.STATUS, True, True, "Resolved. The follow-up work is listed under action items."),
]

# (title, owner, done this many days after the outage (None: open), due in days from today)
ACTION_ITEMS = [
    ("Add the missing steps to “Restore the wiki from backup”", "ines", 2, None),
    ("Turn on backup encryption and take the S3 credentials out of the backup script", "wen", 1, None),
    ("Give two more volunteers PDU access in Switchboard", "ines", 5, None),
    ("Ship the wiki's WAL to a machine outside the closing colo", "wen", None, 10),
    ("Move wiki1 and blog1 off xen1 before the colo closes", "tomas", None, 14),
    ("Drill the wiki restore on a scratch VM and record how long it takes", "priya", None, 30),
]


def _past_incident(s, user, machines, guests, people):
    colo_tz = ZoneInfo("America/Los_Angeles")
    started = datetime.combine(s.today - timedelta(days=40), time(10, 5), tzinfo=colo_tz)
    resolved = started + timedelta(minutes=TIMELINE[-1][0])
    incident, created = s.ensure(
        Incident,
        {"title": INCIDENT_TITLE},
        {
            "severity": Incident.Severity.CRITICAL,
            "status": Incident.Status.RESOLVED,
            "is_public": True,
            "summary": (
                "The server hosting Atlas Wiki and Field Notes stopped answering late in the morning. "
                "A remote power cycle did not help; a volunteer found it waiting at a disk check on boot "
                "and brought it back about four hours later. No edits were lost."
            ),
            "started_at": started,
            "resolved_at": resolved,
        },
        m2m={"machines": [machines["xen1"]], "guests": [guests["wiki1"], guests["blog1"]]},
    )
    if not created:
        # The timeline and action items belong to the incident: a user may have pruned or ticked
        # them off since, so they are written once, with it.
        s.present[str(TimelineEntry._meta.verbose_name_plural)] += incident.timeline.count()
        s.present[str(ActionItem._meta.verbose_name_plural)] += incident.action_items.count()
        return
    for minutes, kind, is_public, by_user, body in TIMELINE:
        s.ensure(
            TimelineEntry,
            {"incident": incident, "kind": kind, "body": body},
            {"at": started + timedelta(minutes=minutes), "is_public": is_public, "author": user if by_user else None},
        )
    for title, owner, done_after_days, due_in_days in ACTION_ITEMS:
        s.ensure(
            ActionItem,
            {"incident": incident, "title": title},
            {
                "owner": people[owner],
                "done_at": resolved + timedelta(days=done_after_days) if done_after_days is not None else None,
                "due_on": s.in_days(due_in_days) if due_in_days is not None else None,
            },
        )
