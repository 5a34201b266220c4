"""`manage.py seed_demo`: a volunteer opening the demo finds the co-op from the stories — the Xen
host and its guests, who can get into the closing colo, the Windows host whose only admin
vanished, the contract running out, and the outage already written up. Running it again, or on
a database with a real co-op in it, changes nothing that is already there."""

import ipaddress
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict
from django.utils import timezone

from coop.models import ContactMethod, Contract, Organization, Person, Site, SiteAccess
from hosts.models import Guest, IPAddress, Machine, Runbook, SoftwareVersion
from incidents.models import Incident, TimelineEntry
from power.models import PowerController

from .factories import make_guest, make_machine, make_org, make_person, make_site

pytestmark = pytest.mark.django_db

XEN_HOST = "xen1.foghorn.example.net"
WINDOWS_HOST = "vz1.lakeshore.example.net"
WIKI = "wiki1.foghorn.example.net"


@pytest.fixture(autouse=True)
def _demo_machine(settings):
    # The demo is for a laptop: `make run` sets DEBUG=true.
    settings.DEBUG = True


def seed_demo():
    """Run the command as an operator would; return what it printed."""
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts():
    """Rows per table, history and many-to-many tables included."""
    return {model._meta.label: model._default_manager.count() for model in apps.get_models(include_auto_created=True)}


def test_the_xen_host_lists_its_guests_and_who_owns_them():
    seed_demo()
    xen = Machine.objects.get(hostname=XEN_HOST)
    assert xen.hypervisor == Machine.Hypervisor.XEN
    assert xen.site.lifecycle == Site.Lifecycle.DECOMMISSIONING
    assert not xen.reboot_safe
    assert xen.patch_policy == Machine.PatchPolicy.MANUAL
    assert "database" in xen.pinned_warning
    guests = {guest.name: guest for guest in xen.guests.all()}
    assert set(guests) == {WIKI, "blog1.foghorn.example.net"}
    for guest in guests.values():
        assert guest.owner is not None
        assert guest.contacts.exists()
        assert guest.startup_steps
        assert guest.addresses.exists() and guest.dns_names.exists()
    assert guests[WIKI].owner.name == "Atlas Wiki"
    assert xen.outlets.filter(controller__driver=PowerController.Driver.APC_SNMP).count() == 2


def test_the_wiki_answers_on_its_ip_and_records_the_postgresql_it_needs():
    seed_demo()
    wiki = Guest.objects.get(name=WIKI)
    assert wiki.addresses.filter(address="192.0.2.21").exists()
    assert wiki.dns_names.filter(name="atlas.example.org").exists()
    assert wiki.services.filter(is_public=True, url="https://atlas.example.org/").exists()
    assert wiki.monitors.exists()
    software = {row.name: row.version for row in SoftwareVersion.objects.filter(guest=wiki)}
    assert software["PostgreSQL"] == "8.3"
    assert {"duplicity", "lighttpd", "memcached"} <= set(software)


def test_the_wiki_restore_runbook_has_the_steps_that_were_missing():
    seed_demo()
    runbook = Runbook.objects.get(guest__name=WIKI, title="Restore the wiki from backup")
    assert "PostgreSQL 8.3" in runbook.body
    assert "S3 credentials" in runbook.body
    assert "Turn encryption on" in runbook.body
    assert runbook.last_exercised_at < timezone.now()
    assert Runbook.objects.filter(machine__hostname=XEN_HOST, title="After a dom0 reboot").exists()
    assert Runbook.objects.filter(site__slug="foghorn").exists()
    wiki_backup = Guest.objects.get(name=WIKI).backup_targets.get(kind="s3")
    assert wiki_backup.encryption_required
    assert wiki_backup.endpoint_url == "http://127.0.0.1:15000"
    assert wiki_backup.secret_access_key  # stored encrypted, read back clear for the checker
    assert Guest.objects.get(name=WIKI).backup_targets.filter(kind="heartbeat").exists()


def test_the_closing_colo_has_people_who_can_get_in():
    seed_demo()
    colo = Site.objects.get(slug="foghorn")
    today = timezone.localdate()
    assert colo.lifecycle == Site.Lifecycle.DECOMMISSIONING
    assert today < colo.decommission_date <= today + timedelta(days=42)
    assert "badge desk" in colo.access_procedure and "escort" in colo.access_procedure
    kinds = {access.kind for access in colo.access.all() if access.is_current()}
    assert {SiteAccess.Kind.BADGE, SiteAccess.Kind.KEY, SiteAccess.Kind.ESCORT_ONLY} <= kinds
    for access in colo.access.select_related("person"):
        assert access.person.contact_methods.exists()
    other_site = Site.objects.get(slug="lakeshore-dc2")
    assert str(other_site.timezone) != str(colo.timezone)
    assert other_site.access.exists()


def test_the_windows_hosts_only_admin_cannot_be_reached():
    seed_demo()
    windows = Machine.objects.get(hostname=WINDOWS_HOST)
    assert windows.hypervisor == Machine.Hypervisor.VIRTUOZZO
    assert windows.patch_policy == Machine.PatchPolicy.NONE
    assert "auto-logon" in windows.startup_steps
    (admin,) = windows.admins.all()
    assert admin.is_volunteer
    assert not admin.is_reachable()
    methods = list(admin.contact_methods.all())
    assert {method.kind for method in methods} >= {"phone", "email", "matrix", "signal"}
    for method in methods:
        assert method.is_stale()
        assert timedelta(days=365) <= timezone.now() - method.verified_at <= timedelta(days=2 * 365)
    reachable = Person.objects.filter(is_volunteer=True).exclude(pk=admin.pk)
    assert reachable.exists() and all(person.is_reachable() for person in reachable)


def test_the_windows_hosts_ten_containers_are_at_risk_from_a_contract_ending_soon():
    seed_demo()
    windows = Machine.objects.get(hostname=WINDOWS_HOST)
    containers = windows.guests.all()
    assert containers.count() == 10
    for container in containers:
        assert container.owner is not None
        assert container.addresses.exists() and container.dns_names.exists()
    assert containers.filter(services__is_public=True).exists()
    (contract,) = windows.contracts.all()
    assert contract.provider.name == "Lakeshore Hosting"
    assert contract.is_ending_soon()
    assert 0 < contract.days_left() <= 40
    assert Contract.objects.filter(site__slug="foghorn").exists()


def test_the_power_controllers_point_at_the_local_simulators():
    seed_demo()
    pdu = PowerController.objects.get(driver=PowerController.Driver.APC_SNMP)
    assert (pdu.host, pdu.port, pdu.snmp_version, pdu.secret) == ("127.0.0.1", 16161, "2c", "demo-private")
    bmc = PowerController.objects.get(driver=PowerController.Driver.IPMI)
    assert (bmc.host, bmc.port) == ("127.0.0.1", 16230)
    assert bmc.username and bmc.has_secret
    assert bmc.outlets.filter(machine__isnull=False).exists()
    manual = PowerController.objects.get(driver=PowerController.Driver.MANUAL)
    assert manual.site.slug == "lakeshore-dc2"


def test_the_past_outage_is_resolved_with_its_story_in_order_and_its_owners_listed():
    seed_demo()
    incident = Incident.objects.get(title="dom0 down: wiki and blog offline")
    assert incident.status == Incident.Status.RESOLVED
    assert incident.is_public
    assert incident.started_at < incident.resolved_at < timezone.now()
    assert {guest.name for guest in incident.affected_guests()} == {WIKI, "blog1.foghorn.example.net"}
    assert {"Atlas Wiki", "Field Notes"} <= {org.name for org in incident.affected_owners()}

    entries = list(incident.timeline.all())
    times = [entry.at for entry in entries]
    assert times == sorted(times)
    assert all(incident.started_at <= at <= incident.resolved_at for at in times)
    assert entries[0].kind == TimelineEntry.Kind.CHECK_FAILED
    assert entries[-1].kind == TimelineEntry.Kind.STATUS and entries[-1].is_public
    kinds = [entry.kind for entry in entries]
    for kind in ("alert_sent", "power_requested", "power_done", "check_recovered", "backup", "note"):
        assert kind in kinds
    assert kinds.index("power_requested") < kinds.index("power_done")
    assert {entry.is_public for entry in entries} == {True, False}

    items = list(incident.action_items.all())
    assert any(item.is_done for item in items) and any(not item.is_done for item in items)
    assert all(item.owner is not None for item in items)


def test_every_demo_row_passes_model_validation():
    seed_demo()
    for model in (Site, Organization, Person, ContactMethod, SiteAccess, Contract, Machine, Guest, PowerController):
        for obj in model.objects.all():
            obj.full_clean()


def test_demo_rows_are_recorded_in_history_as_made_by_seed_demo():
    seed_demo()
    xen = Machine.objects.get(hostname=XEN_HOST)
    assert {record.history_change_reason for record in xen.history.all()} == {"seed_demo"}
    assert Person.history.filter(history_change_reason="seed_demo").count() == Person.objects.count()


def test_the_demo_login_works_and_belongs_to_a_volunteer(client):
    out = seed_demo()
    assert "demo@example.org / switchboard-demo" in out
    response = client.post("/accounts/login/", {"login": "demo@example.org", "password": "switchboard-demo"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    user = get_user_model().objects.get(username="demo")
    assert user.is_superuser and user.email == "demo@example.org"
    assert user.person.is_volunteer


def test_running_it_twice_changes_no_row_counts():
    seed_demo()
    first = row_counts()
    out = seed_demo()
    assert row_counts() == first
    assert "0 rows created" in out
    assert "password left as it was" in out


def test_a_users_edits_to_demo_rows_survive_a_second_run():
    seed_demo()
    xen = Machine.objects.get(hostname=XEN_HOST)
    xen.os_version = "5.0.10, patched by hand"
    xen.pinned_warning = "Migrated: do not use."
    xen.save()
    xen.admins.remove(xen.admins.first())
    admins_before = set(xen.admins.all())
    incident = Incident.objects.get(title="dom0 down: wiki and blog offline")
    incident.timeline.filter(kind=TimelineEntry.Kind.ALERT_SENT).delete()
    open_item = incident.action_items.filter(done_at__isnull=True).first()
    open_item.mark_done()

    seed_demo()

    xen.refresh_from_db()
    assert xen.os_version == "5.0.10, patched by hand"
    assert xen.pinned_warning == "Migrated: do not use."
    assert set(xen.admins.all()) == admins_before
    assert not incident.timeline.filter(kind=TimelineEntry.Kind.ALERT_SENT).exists()
    open_item.refresh_from_db()
    assert open_item.is_done


def test_a_deleted_demo_row_comes_back_on_the_next_run():
    seed_demo()
    SoftwareVersion.objects.filter(guest__name=WIKI, name="memcached").delete()
    seed_demo()
    assert SoftwareVersion.objects.filter(guest__name=WIKI, name="memcached").exists()


def test_an_existing_coop_is_left_untouched(admin_user):
    site = make_site(name="Basement Rack", slug="basement", timezone="Europe/Berlin")
    org = make_org(name="Neighbourhood Radio", slug="radio")
    person = make_person(name="Sam Example", organization=org)
    ContactMethod.objects.create(person=person, kind="email", value="sam@example.org")
    machine = make_machine(hostname="nas.basement.example.org", site=site, owner=org, os_version="12")
    guest = make_guest(name="radio.example.org", machine=machine, owner=org)
    before = {(type(obj), obj.pk): model_to_dict(obj) for obj in (site, org, person, machine, guest, admin_user)}

    seed_demo()

    for (model, pk), fields in before.items():
        assert model_to_dict(model.objects.get(pk=pk)) == fields
    assert list(person.contact_methods.values_list("value", flat=True)) == ["sam@example.org"]
    assert list(machine.guests.all()) == [guest]
    assert not Person.objects.filter(user=admin_user).exists()
    assert Site.objects.count() == 1 + 2
    assert Organization.objects.count() == 1 + 6


def test_it_refuses_to_add_the_demo_login_to_a_real_installation(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo", stdout=StringIO())
    assert not get_user_model().objects.exists()
    assert not Machine.objects.exists()


def test_the_past_outage_has_a_public_page_with_its_postmortem(client):
    from incidents.models import Incident

    seed_demo()
    incident = Incident.objects.get(title__startswith="dom0 down")
    page = client.get(incident.get_public_url()).content.decode()
    assert "What we change" in page and "No edits were lost" in page  # the published postmortem
    assert "Tomas" not in page and "555" not in page  # nothing private


def test_the_demo_login_goes_by_the_name_of_its_person():
    seed_demo()
    user = get_user_model().objects.get(username="demo")
    assert user.get_full_name() == user.person.name == "Ines Okafor"


def test_nobody_holds_a_badge_at_a_site_whose_procedure_says_the_coop_has_none():
    seed_demo()
    for site in Site.objects.all():
        if "no badges" in site.access_procedure:
            kinds = set(site.access.values_list("kind", flat=True))
            assert not kinds & {SiteAccess.Kind.BADGE, SiteAccess.Kind.KEY}, site


def test_the_vanished_admin_is_listed_last_and_flagged_where_he_has_access():
    seed_demo()
    lakeshore = Site.objects.get(slug="lakeshore-dc2")
    roster = list(SiteAccess.objects.roster(lakeshore))
    assert roster[-1].person.name == "Dmitri Valk"
    assert roster[-1].unreachable and "over a year" in roster[-1].unreachable_reason
    assert not any(access.unreachable for access in roster[:-1])
    first_at_the_colo = SiteAccess.objects.roster(Site.objects.get(slug="foghorn")).first()
    assert first_at_the_colo.kind in {SiteAccess.Kind.BADGE, SiteAccess.Kind.KEY}
    assert first_at_the_colo.contact_verified and not first_at_the_colo.unreachable


def test_every_demo_phone_number_email_and_ip_address_is_one_reserved_for_examples():
    seed_demo()
    documentation = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
    documentation.append(ipaddress.ip_network("2001:db8::/32"))
    for address in IPAddress.objects.values_list("address", flat=True):
        assert any(ipaddress.ip_address(address) in network for network in documentation), address
    for method in ContactMethod.objects.all():
        if method.kind in {"phone", "sms", "signal"}:
            assert re.fullmatch(r"\+1 555 01\d\d", method.value), method
        if method.kind == "email":
            assert re.search(r"[@.]example\.(org|net)$", method.value), method
    texts = [site.access_procedure for site in Site.objects.all()]
    texts += [runbook.body for runbook in Runbook.objects.all()]
    texts += [entry.body for entry in TimelineEntry.objects.all()]
    texts += list(PowerController.objects.values_list("notes", flat=True))
    for text in texts:
        for number in re.findall(r"\+1 \d{3} \d{4}", text):
            assert re.fullmatch(r"\+1 555 01\d\d", number), number
