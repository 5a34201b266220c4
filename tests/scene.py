"""The scene for page tests: the co-op a visitor finds. Invented data only
(example.org, +1 555 01xx, documentation IP ranges).

It follows story 001: a Xen dom0 in a colo goes down and takes the wiki with it;
someone must find who can get into the building and call them.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from backups.models import BackupState, BackupTarget
from coop.models import ContactMethod, Contract, Organization, Person, Site, SiteAccess
from hosts.models import DNSName, Guest, HostedService, IPAddress, Machine, Monitor, Runbook
from incidents import policy
from incidents.models import Incident, TimelineEntry
from power.models import PowerController, PowerOutlet

WIKI_IPV4 = "192.0.2.10"
WIKI_IPV6 = "2001:db8::10"
NOOR_PHONE = "+1 555 0142"
PRIVATE_NOTE = "Spare key is taped under the second drawer"


@dataclass
class Scene:
    site: Site
    machine: Machine
    wiki: Guest
    noor: Person
    wiki_owner: Organization
    incident: Incident
    runbook: Runbook
    service: HostedService


def build_scene(extra=0):
    """The dom0-down co-op, plus `extra` of everything around it (machines, guests, people...).

    With a larger `extra`, every list and every related set on every page grows, so a page
    that queries per row shows a different query count.
    """
    now = timezone.now()
    site = Site.objects.create(
        name="Harbor Colo",
        slug="harbor-colo",
        address="1 Example Street, Suite 5\nHarbor City",
        access_procedure="Call the badge desk at +1 555 0100, give the co-op's account number; escort required.",
        hours="24/7 with badge",
        pinned_warning="The colo closes on the 30th: move everything before then.",
        notes=PRIVATE_NOTE,
    )
    wiki_owner = Organization.objects.create(name="Wiki Project", slug="wiki-project", email="ops@wiki.example.org")
    noor = Person.objects.create(
        name="Noor Example", timezone="America/Los_Angeles", is_volunteer=True, notes=PRIVATE_NOTE
    )
    ContactMethod.objects.create(person=noor, kind="phone", value=NOOR_PHONE, priority=1, verified_at=now)
    ContactMethod.objects.create(person=noor, kind="email", value="noor@example.org", priority=2)
    SiteAccess.objects.create(person=noor, site=site, kind=SiteAccess.Kind.BADGE, notes="lives 10 minutes away")
    machine = Machine.objects.create(
        hostname="dom0.harbor.example.org",
        site=site,
        owner=wiki_owner,
        hypervisor=Machine.Hypervisor.XEN,
        rack="R4",
        rack_position="U12",
        pinned_warning="Never reboot without stopping the wiki's database first.",
        notes=PRIVATE_NOTE,
        management_address="198.51.100.4",
    )
    machine.admins.add(noor)
    Monitor.objects.create(machine=machine, kind="ping", target="198.51.100.5", state=Monitor.State.DOWN)
    controller = PowerController.objects.create(
        name="pdu-sf-1", site=site, driver=PowerController.Driver.APC_SNMP, snmp_version="2c", host="198.51.100.2"
    )
    PowerOutlet.objects.create(controller=controller, number=4, machine=machine, label="PSU A")
    wiki = Guest.objects.create(
        name="wiki.example.org",
        machine=machine,
        owner=wiki_owner,
        pinned_warning="Stop PostgreSQL before touching the disk.",
        notes=PRIVATE_NOTE,
    )
    wiki.contacts.add(noor)
    IPAddress.objects.create(address=WIKI_IPV4, guest=wiki, note="public")
    IPAddress.objects.create(address=WIKI_IPV6, guest=wiki)
    DNSName.objects.create(name="www.wiki.example.org", guest=wiki)
    service = HostedService.objects.create(
        guest=wiki, name="Community Wiki", url="https://wiki.example.org/", is_public=True
    )
    Monitor.objects.create(guest=wiki, kind="http", target="https://wiki.example.org/", state=Monitor.State.DOWN)
    runbook = Runbook.objects.create(
        title="Restore the wiki", guest=wiki, body="1. Start an Ubuntu 8.04 VM\n2. Restore with duplicity"
    )
    Runbook.objects.create(title="Bring up dom0", machine=machine, body="Power on, then start xend.")
    Runbook.objects.create(title="Getting into Harbor Colo", site=site, body="Badge desk first.")
    BackupTarget.objects.create(
        name="wiki-s3", kind="s3", guest=wiki, bucket="wiki-backups", state=BackupState.STALE, last_checked_at=now
    )
    BackupTarget.objects.create(name="dom0-etc", kind="heartbeat", machine=machine, state=BackupState.OK)
    provider = Organization.objects.create(name="Colo Provider", slug="colo-provider", is_member=False)
    contract = Contract.objects.create(
        provider=provider, paid_by=wiki_owner, site=site, covers="half rack", ends_on=now.date() + timedelta(days=20)
    )
    contract.machines.add(machine)
    # Opened and written up by a volunteer: the public reads only what a person wrote.
    writer = get_user_model().objects.create_user("scene-writer", "scene-writer@example.org", first_name="Ada")
    incident = policy.open_by_person(
        title="dom0 down: wiki offline", by=writer, cause=Incident.Cause.OUTAGE, machines=[machine]
    )
    incident.is_public = True
    incident.summary = "The wiki is down while we restore it."
    incident.save()
    incident.guests.add(wiki)
    incident.note("The wiki is offline; we are working on it.", by=writer, is_public=True)
    incident.note(f"Texted Noor at {NOOR_PHONE}; {PRIVATE_NOTE}", is_public=False)

    scene = Scene(site, machine, wiki, noor, wiki_owner, incident, runbook, service)
    grow(scene, range(extra + 1))
    return scene


def grow(scene, numbers):
    """Add one more of everything around the scene for each number (numbers must be new)."""
    now = timezone.now()
    for n in numbers:
        _grow(n, scene.site, scene.machine, scene.wiki_owner, scene.incident, now)


def _grow(n, site, dom0, owner, incident, now):
    """One more of everything, hung off the scene's site, dom0, owner and incident."""
    person = Person.objects.create(name=f"Volunteer {n}", organization=owner)
    ContactMethod.objects.create(person=person, kind="phone", value=f"+1 555 01{n % 100:02d}", verified_at=None)
    ContactMethod.objects.create(person=person, kind="matrix", value=f"@v{n}:example.org")
    SiteAccess.objects.create(person=person, site=site, kind=SiteAccess.Kind.KEY)
    dom0.admins.add(person)
    machine = Machine.objects.create(hostname=f"host{n}.harbor.example.org", site=site, owner=owner)
    machine.admins.add(person)
    Monitor.objects.create(machine=machine, kind="ping", target=f"203.0.113.{n % 250 + 1}", state=Monitor.State.UP)
    org = Organization.objects.create(name=f"Tenant {n}", slug=f"tenant-{n}")
    person.organization = org
    person.save()
    for host in (dom0, machine):
        guest = Guest.objects.create(name=f"vps{n}.{host.hostname}", machine=host, owner=org)
        guest.contacts.add(person)
        IPAddress.objects.create(address=f"2001:db8:1:{n:x}::{host.pk:x}", guest=guest)
        DNSName.objects.create(name=f"www.vps{n}.{host.hostname}", guest=guest)
        HostedService.objects.create(guest=guest, name=f"Site {n} on {host.pk}", url=f"https://s{n}.example.org/")
        Monitor.objects.create(guest=guest, kind="ping", target=f"vps{n}", state=Monitor.State.UP)
        BackupTarget.objects.create(name=f"b{n}-{host.pk}", kind="heartbeat", guest=guest, state=BackupState.SHRUNK)
        Runbook.objects.create(title=f"Runbook {n}", guest=guest, body="Steps.")
        incident.guests.add(guest)
    Runbook.objects.create(title=f"Host runbook {n}", machine=dom0, body="More steps.")
    Contract.objects.create(provider=org, covers=f"transit {n}", ends_on=now.date() + timedelta(days=n % 30))
    other = policy.open_by_person(title=f"host{n} flapping", by=None, cause=Incident.Cause.OUTAGE, machines=[machine])
    other.note(f"Check failed on host{n}", kind=TimelineEntry.Kind.CHECK_FAILED)
    incident.note(f"Step {n} done", by=None)
    incident.action_items.create(title=f"Follow-up {n}", owner=person)
