"""The machines, their guests and containers, and the monitors that watch them."""

from datetime import timedelta

from hosts.models import DNSName, Guest, HostedService, IPAddress, Lifecycle, Machine, Monitor, SoftwareVersion

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


def seed_machines(s, sites, orgs, people):
    """xen1, store1 and vz1 with their addresses and DNS names, by short key."""
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


def seed_xen_guests(s, machines, orgs, people):
    """The wiki and the blog on xen1, by short key."""
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


def seed_virtuozzo_containers(s, machines, orgs, people):
    """vz1's ten containers, keyed ct101 to ct110."""
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


# Where the demo's machines and guests answer: stand-ins on 127.0.0.1 (demo/hosts.py, started by
# `make run`), so the checker finds them up, and `manage.py demo_hosts --stop xen1` takes xen1 down.
DEMO_INTERVAL = timedelta(seconds=20)
DEMO_DOWN_AFTER = 2
STAND_IN_PORTS = {"xen1": 17101, "store1": 17102, "vz1": 17103, "wiki1": 17111, "blog1": 17112, "ct101": 17121}


def seed_monitors(s, machines, guests):
    """A TCP check on each machine and HTTP checks on the busiest guests, all against the local stand-ins."""
    port = STAND_IN_PORTS
    checks = [
        ("machine", machines["xen1"], Monitor.Kind.TCP, "127.0.0.1", port["xen1"], ""),
        ("machine", machines["store1"], Monitor.Kind.TCP, "127.0.0.1", port["store1"], ""),
        ("machine", machines["vz1"], Monitor.Kind.TCP, "127.0.0.1", port["vz1"], ""),
        ("guest", guests["wiki1"], Monitor.Kind.HTTP, f"http://127.0.0.1:{port['wiki1']}/", None, "is up"),
        ("guest", guests["blog1"], Monitor.Kind.HTTP, f"http://127.0.0.1:{port['blog1']}/", None, "is up"),
        ("guest", guests["ct101"], Monitor.Kind.HTTP, f"http://127.0.0.1:{port['ct101']}/", None, "is up"),
    ]
    for subject_field, subject, kind, target, tcp_port, keyword in checks:
        # Every 20 s and down after two failed checks in a row: stopping xen1 opens its incident and
        # alerts the person on call within a minute.
        fields = {
            "port": tcp_port,
            "keyword": keyword,
            "interval": DEMO_INTERVAL,
            "timeout": timedelta(seconds=3),
            "down_after": DEMO_DOWN_AFTER,
        }
        s.ensure(Monitor, {subject_field: subject, "kind": kind, "target": target}, fields)
