"""Ada mistypes things in the admin. Each time she sees what is wrong, and nothing is saved."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from backups.models import BackupTarget
from coop.models import ContactMethod, Contract, Organization, Person, Site
from hosts.models import DNSName, Guest, IPAddress, Machine, Monitor
from incidents.models import Incident
from power.models import PowerController, PowerOutlet
from tests.test_admin import errors_on_page, open_form


@pytest.fixture
def site():
    return Site.objects.create(name="Fremont colo", slug="fremont")


@pytest.fixture
def machine(site):
    return Machine.objects.create(hostname="xen1.fremont.example.org", site=site, hypervisor="xen")


@pytest.fixture
def pdu(site, machine):
    controller = PowerController.objects.create(
        name="pdu-a.fremont", site=site, driver="apc_snmp", host="192.0.2.20", snmp_version="2c", secret="community"
    )
    PowerOutlet.objects.create(controller=controller, number=1, machine=machine, label="PSU A")
    return controller


def snapshot(*models):
    """Every row of `models` and of their change history, to compare before and after."""
    rows = {}
    for model in models:
        rows[model] = list(model.objects.order_by("pk").values())
        history = getattr(model, "history", None)
        if history is not None:
            rows[history.model] = history.count()
    return rows


def assert_shows(response, message):
    errors = errors_on_page(response)
    assert any(message in error for error in errors), errors
    assert "Please correct the error" in response.content.decode()


@pytest.mark.django_db
def test_invalid_hostname_is_refused_and_the_machine_keeps_its_name(admin_client, machine):
    before = snapshot(Machine)

    response = open_form(admin_client, Machine, machine).type(hostname="bad_host!").submit(admin_client)

    assert_shows(response, "“bad_host!” is not a valid hostname")
    assert snapshot(Machine) == before


@pytest.mark.django_db
def test_invalid_hostname_on_a_new_machine_adds_nothing(admin_client, site):
    before = snapshot(Machine)

    response = open_form(admin_client, Machine).type(hostname="bad_host!", site=site.pk).submit(admin_client)

    assert_shows(response, "is not a valid hostname")
    assert snapshot(Machine) == before


@pytest.mark.django_db
def test_two_rows_with_the_same_outlet_number_on_one_pdu_are_refused(admin_client, pdu, machine):
    before = snapshot(PowerController, PowerOutlet)
    form = open_form(admin_client, PowerController, pdu).type(notes="Recabled")
    form.add_row(PowerOutlet, number=3, machine=machine.pk, label="PSU B")
    form.add_row(PowerOutlet, number=3, label="spare")

    response = form.submit(admin_client)

    assert_shows(response, "Please correct the duplicate data for number.")
    assert snapshot(PowerController, PowerOutlet) == before


@pytest.mark.django_db
def test_new_outlet_row_reusing_a_taken_number_is_refused(admin_client, pdu):
    before = snapshot(PowerController, PowerOutlet)
    form = open_form(admin_client, PowerController, pdu).type(notes="Recabled")
    form.add_row(PowerOutlet, number=1, label="spare")

    response = form.submit(admin_client)

    assert_shows(response, "Please correct the duplicate data for number.")
    assert snapshot(PowerController, PowerOutlet) == before


@pytest.mark.django_db
def test_outlet_row_renumbered_onto_another_is_refused(admin_client, pdu):
    PowerOutlet.objects.create(controller=pdu, number=2, label="PSU B")
    before = snapshot(PowerController, PowerOutlet)

    response = open_form(admin_client, PowerController, pdu).type_in_row(PowerOutlet, 1, number=1).submit(admin_client)

    assert_shows(response, "Please correct the duplicate data for number.")
    assert snapshot(PowerController, PowerOutlet) == before


@pytest.mark.django_db
def test_outlet_number_zero_is_refused(admin_client, pdu):
    before = snapshot(PowerOutlet)
    form = open_form(admin_client, PowerController, pdu)
    form.add_row(PowerOutlet, number=0)

    response = form.submit(admin_client)

    assert_shows(response, "greater than or equal to 1")
    assert snapshot(PowerOutlet) == before


@pytest.mark.django_db
def test_impossible_ip_address_on_the_machine_page_is_refused(admin_client, machine):
    before = snapshot(Machine, IPAddress)
    form = open_form(admin_client, Machine, machine).type(os_name="Debian")
    form.add_row(IPAddress, address="999.1.1.1", note="public")

    response = form.submit(admin_client)

    assert_shows(response, "Enter a valid IPv4 or IPv6 address.")
    assert snapshot(Machine, IPAddress) == before


@pytest.mark.django_db
def test_impossible_ip_address_on_its_own_page_is_refused(admin_client, machine):
    before = snapshot(IPAddress)

    response = open_form(admin_client, IPAddress).type(address="999.1.1.1", machine=machine.pk).submit(admin_client)

    assert_shows(response, "Enter a valid IPv4 or IPv6 address.")
    assert snapshot(IPAddress) == before


@pytest.mark.django_db
def test_address_already_used_by_another_machine_is_refused(admin_client, machine, site):
    other = Machine.objects.create(hostname="xen2.fremont.example.org", site=site)
    IPAddress.objects.create(address="192.0.2.10", machine=other)
    before = snapshot(IPAddress)
    form = open_form(admin_client, Machine, machine)
    form.add_row(IPAddress, address="192.0.2.10")

    response = form.submit(admin_client)

    assert_shows(response, "IP address with this Address already exists.")
    assert snapshot(IPAddress) == before


@pytest.mark.django_db
def test_address_for_both_a_machine_and_a_guest_is_refused(admin_client, machine):
    guest = Guest.objects.create(name="wiki.example.org", machine=machine)
    before = snapshot(IPAddress)
    form = open_form(admin_client, IPAddress).type(address="192.0.2.11", machine=machine.pk, guest=guest.pk)

    response = form.submit(admin_client)

    assert_shows(response, "An IP address belongs to exactly one machine or one guest.")
    assert snapshot(IPAddress) == before


@pytest.mark.django_db
def test_invalid_dns_name_on_the_guest_page_is_refused(admin_client, machine):
    guest = Guest.objects.create(name="wiki.example.org", machine=machine)
    before = snapshot(Guest, DNSName)
    form = open_form(admin_client, Guest, guest)
    form.add_row(DNSName, name="-wiki.example.org")

    response = form.submit(admin_client)

    assert_shows(response, "is not a valid hostname")
    assert snapshot(Guest, DNSName) == before


@pytest.mark.django_db
def test_contract_ending_before_it_starts_is_refused(admin_client, site):
    provider = Organization.objects.create(name="Example Colo Inc", slug="example-colo", is_member=False)
    before = snapshot(Contract)
    form = open_form(admin_client, Contract).type(
        provider=provider.pk, covers="Half rack", starts_on=date(2025, 1, 1), ends_on=date(2024, 12, 31)
    )

    response = form.submit(admin_client)

    assert_shows(response, "A contract cannot end before it starts.")
    assert snapshot(Contract) == before


@pytest.mark.django_db
def test_decommissioning_a_machine_without_a_date_is_refused(admin_client, machine):
    before = snapshot(Machine)

    response = open_form(admin_client, Machine, machine).type(lifecycle="decommissioning").submit(admin_client)

    assert_shows(response, "Give the decommission date for a machine leaving service.")
    assert snapshot(Machine) == before


@pytest.mark.django_db
def test_phone_number_with_letters_on_the_person_page_is_refused(admin_client):
    person = Person.objects.create(name="Sam Example")
    before = snapshot(Person, ContactMethod)
    form = open_form(admin_client, Person, person)
    form.add_row(ContactMethod, kind="phone", value="call me maybe", priority=1)

    response = form.submit(admin_client)

    assert_shows(response, "is not a phone number")
    assert snapshot(Person, ContactMethod) == before


@pytest.mark.django_db
def test_same_contact_twice_for_one_person_is_refused(admin_client):
    person = Person.objects.create(name="Sam Example")
    ContactMethod.objects.create(person=person, kind="email", value="sam@example.org")
    before = snapshot(ContactMethod)
    form = open_form(admin_client, Person, person)
    form.add_row(ContactMethod, kind="email", value="sam@example.org", priority=2)

    response = form.submit(admin_client)

    assert_shows(response, "Please correct the duplicate data for kind and value")
    assert snapshot(ContactMethod) == before


@pytest.mark.django_db
def test_pdu_with_a_made_up_address_is_refused(admin_client, pdu):
    before = snapshot(PowerController)

    response = open_form(admin_client, PowerController, pdu).type(host="pdu a!").submit(admin_client)

    assert_shows(response, "is neither an IP address nor a hostname")
    assert snapshot(PowerController) == before


@pytest.mark.django_db
def test_backup_target_for_nothing_is_refused(admin_client):
    before = snapshot(BackupTarget)
    form = open_form(admin_client, BackupTarget).type(name="orphan", kind="s3", bucket="coop-backups")

    response = form.submit(admin_client)

    assert_shows(response, "A backup target protects exactly one machine or one guest.")
    assert snapshot(BackupTarget) == before


@pytest.mark.django_db
def test_tcp_monitor_without_a_port_is_refused(admin_client, machine):
    before = snapshot(Monitor)
    form = open_form(admin_client, Monitor).type(machine=machine.pk, kind="tcp", target="192.0.2.1")

    response = form.submit(admin_client)

    assert_shows(response, "A TCP check needs a port.")
    assert snapshot(Monitor) == before


@pytest.mark.django_db
def test_incident_marked_resolved_without_a_time_is_refused(admin_client):
    incident = Incident.objects.create(title="xen1 is down")
    before = snapshot(Incident)

    response = open_form(admin_client, Incident, incident).type(status="resolved").submit(admin_client)

    assert_shows(response, "Give the time it was resolved")
    assert snapshot(Incident) == before


@pytest.mark.django_db
def test_incident_resolved_before_it_started_is_refused(admin_client):
    started = timezone.now() - timedelta(hours=1)
    incident = Incident.objects.create(title="xen1 is down", started_at=started)
    before = snapshot(Incident)
    earlier = timezone.localtime(started - timedelta(hours=2))
    form = open_form(admin_client, Incident, incident).type(
        status="resolved", resolved_at_0=earlier.date(), resolved_at_1=earlier.time()
    )

    response = form.submit(admin_client)

    assert_shows(response, "An incident cannot be resolved before it started.")
    assert snapshot(Incident) == before


@pytest.mark.django_db
def test_outlet_already_feeding_another_machine_cannot_be_taken_from_the_machine_page(admin_client, pdu, site):
    other = Machine.objects.create(hostname="xen2.fremont.example.org", site=site)
    before = snapshot(PowerOutlet)
    form = open_form(admin_client, Machine, other)
    form.add_row(PowerOutlet, controller=pdu.pk, number=1, label="PSU A")

    response = form.submit(admin_client)

    assert_shows(response, "Power outlet with this Controller and Number already exists.")
    assert snapshot(PowerOutlet) == before
