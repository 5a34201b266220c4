"""The inventory refuses data that would mislead a volunteer in an outage."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from coop.models import ContactMethod, Contract
from core.validators import validate_hostname
from hosts.models import DNSName, Guest, HostedService, IPAddress, Lifecycle, Machine, Monitor, Runbook
from incidents import policy
from incidents.models import Incident, TimelineEntry
from power.models import PowerOutlet

from .factories import make_guest, make_machine, make_org, make_pdu, make_person, make_site

pytestmark = pytest.mark.django_db


def test_hostnames_are_stored_lower_case_without_the_trailing_dot():
    machine = make_machine(hostname="Xen1.Colo.Example.ORG.")
    machine.refresh_from_db()
    assert machine.hostname == "xen1.colo.example.org"
    assert Machine.objects.get(hostname="XEN1.colo.example.org") == machine


def test_two_machines_cannot_share_a_hostname_whatever_the_case():
    site = make_site()
    make_machine(hostname="xen1.colo.example.org", site=site)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_machine(hostname="XEN1.colo.example.org", site=site)


@pytest.mark.parametrize("bad", ["bad_host!", "-leading.example.org", "a..b.example.org", "x" * 64 + ".org", ""])
def test_a_mistyped_hostname_is_explained(bad):
    machine = Machine(hostname=bad, site=make_site())
    with pytest.raises(ValidationError) as error:
        machine.full_clean()
    assert "hostname" in error.value.message_dict


label = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?\Z")


@given(st.lists(label, min_size=1, max_size=5))
def test_any_well_formed_dns_name_is_accepted(labels):
    validate_hostname(".".join(labels))


# Surrounding spaces are trimmed (a pasted name); characters inside the name are refused.
@given(st.text(min_size=1, max_size=40).filter(lambda s: any(c in s.strip() for c in "_!@ /\\'\"<>;")))
def test_names_with_shell_or_html_characters_are_refused(text):
    with pytest.raises(ValidationError):
        validate_hostname(text)


def test_an_ip_address_must_be_a_real_address():
    address = IPAddress(address="999.1.1.1", machine=make_machine())
    with pytest.raises(ValidationError) as error:
        address.full_clean()
    assert "address" in error.value.message_dict


def test_an_address_belongs_to_exactly_one_machine_or_guest():
    guest = make_guest()
    with pytest.raises(ValidationError):
        IPAddress(address="192.0.2.20", machine=guest.machine, guest=guest).full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        IPAddress.objects.create(address="192.0.2.21")
    with pytest.raises(IntegrityError), transaction.atomic():
        DNSName.objects.create(name="wiki.example.org", machine=guest.machine, guest=guest)


def test_one_address_cannot_be_given_to_two_guests():
    IPAddress.objects.create(address="2001:db8::10", guest=make_guest())
    with pytest.raises(IntegrityError), transaction.atomic():
        IPAddress.objects.create(address="2001:db8::10", guest=make_guest())


def test_an_outlet_number_is_used_once_per_pdu():
    pdu = make_pdu()
    PowerOutlet.objects.create(controller=pdu, number=3, machine=make_machine())
    with pytest.raises(IntegrityError), transaction.atomic():
        PowerOutlet.objects.create(controller=pdu, number=3, machine=make_machine())
    # The same number on another PDU is a different outlet.
    PowerOutlet.objects.create(controller=make_pdu(), number=3)


def test_a_remote_pdu_needs_an_address_and_an_snmp_version():
    pdu = make_pdu(host="", snmp_version="")
    with pytest.raises(ValidationError) as error:
        pdu.full_clean()
    assert set(error.value.message_dict) >= {"host", "snmp_version"}


@pytest.mark.parametrize(
    ("kind", "value"),
    [("phone", "call me maybe"), ("sms", "12"), ("email", "not-an-address"), ("matrix", "alex@example.org")],
)
def test_a_contact_method_value_must_fit_its_kind(kind, value):
    method = ContactMethod(person=make_person(), kind=kind, value=value)
    with pytest.raises(ValidationError) as error:
        method.full_clean()
    assert "value" in error.value.message_dict


def test_a_phone_number_becomes_a_tap_to_call_link():
    method = ContactMethod(kind="phone", value="+1 (555) 0123")
    assert method.dial_link() == "tel:+15550123"
    assert ContactMethod(kind="sms", value="+1 555 0101").dial_link() == "sms:+15550101"
    assert ContactMethod(kind="matrix", value="@alex:example.org").dial_link() is None


def test_a_contact_nobody_confirmed_for_months_is_stale_until_verified_again(settings):
    settings.CONTACT_VERIFICATION_MAX_AGE_DAYS = 180
    person = make_person()
    method = ContactMethod.objects.create(
        person=person, kind="email", value="sam@example.org", verified_at=timezone.now() - timedelta(days=400)
    )
    assert method.is_stale()
    assert not person.is_reachable()
    method.mark_verified()
    method.refresh_from_db()
    assert not method.is_stale()
    assert person.is_reachable()


def test_a_contract_cannot_end_before_it_starts():
    contract = Contract(provider=make_org(), covers="half rack", starts_on=date(2026, 5, 1), ends_on=date(2026, 4, 1))
    with pytest.raises(ValidationError) as error:
        contract.full_clean()
    assert "ends_on" in error.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        contract.save()


def test_a_contract_ending_next_month_is_flagged_but_a_rolling_one_is_not(settings):
    settings.CONTRACT_WARNING_DAYS = 60
    today = date(2026, 11, 21)
    ending = Contract(provider=make_org(), covers="server hosting", ends_on=today + timedelta(days=40), notice_days=30)
    rolling = Contract(provider=make_org(), covers="transit")
    assert ending.days_left(today) == 40
    assert ending.is_ending_soon(today)
    assert not rolling.is_ending_soon(today)


def test_a_machine_being_decommissioned_needs_its_date():
    machine = Machine(hostname="old.example.org", site=make_site(), lifecycle=Lifecycle.DECOMMISSIONING)
    with pytest.raises(ValidationError) as error:
        machine.full_clean()
    assert "decommission_date" in error.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        machine.save()


def test_a_runbook_belongs_to_exactly_one_machine_guest_or_site():
    machine = make_machine()
    with pytest.raises(IntegrityError), transaction.atomic():
        Runbook.objects.create(title="Orphan", body="1. ?")
    with pytest.raises(ValidationError):
        Runbook(title="Two homes", body="x", machine=machine, site=machine.site).full_clean()


def test_every_runbook_edit_is_kept_as_a_version():
    runbook = Runbook.objects.create(title="Restore the wiki", body="1. Install PostgreSQL", machine=make_machine())
    runbook.body = "1. Install PostgreSQL 8.3\n2. Give the backup script its S3 credentials"
    runbook.save()
    versions = list(runbook.history.order_by("history_date"))
    assert [v.body for v in versions] == ["1. Install PostgreSQL", runbook.body]


def test_a_host_incident_lists_every_guest_on_it_and_their_owners():
    dom0 = make_machine(hostname="dom0.example.org")
    wiki_owner, blog_owner, bystander = make_org(name="Wiki project"), make_org(name="Blog"), make_org()
    make_guest(name="wiki.example.org", machine=dom0, owner=wiki_owner)
    make_guest(name="blog.example.org", machine=dom0, owner=blog_owner)
    make_guest(name="elsewhere.example.org", owner=bystander)

    incident = policy.open_by_person(title="dom0 down", by=None, cause=Incident.Cause.OUTAGE, machines=[dom0])

    assert {g.name for g in incident.affected_guests()} == {"wiki.example.org", "blog.example.org"}
    assert set(incident.affected_owners()) == {wiki_owner, blog_owner}


def test_an_incident_counts_a_guest_named_and_on_an_affected_host_once():
    dom0 = make_machine(hostname="dom0.example.org")
    host_owner, guest_owner, service_owner = make_org(name="Host"), make_org(name="Guests"), make_org(name="Service")
    dom0.owner = host_owner
    dom0.save()
    on_dom0 = make_guest(name="wiki.example.org", machine=dom0, owner=guest_owner)
    elsewhere = make_guest(name="mail.example.org")
    make_guest(name="bystander.example.org", owner=make_org())
    HostedService.objects.create(guest=elsewhere, name="Webmail", owner=service_owner)

    incident = policy.open_by_person(title="dom0 down", by=None, machines=[dom0])
    incident.guests.add(on_dom0, elsewhere)

    assert {g.name for g in incident.affected_guests()} == {"wiki.example.org", "mail.example.org"}
    assert incident.affected_guest_count() == 2
    assert set(incident.affected_owners()) == {host_owner, guest_owner, service_owner}


@pytest.mark.parametrize(
    "monitors, verdict",
    [
        ([], Monitor.State.UNKNOWN),
        ([("up", True)], Monitor.State.UP),
        ([("up", True), ("down", True)], Monitor.State.DOWN),
        ([("up", True), ("down", False)], Monitor.State.UP),
        ([("unknown", True), ("down", False)], Monitor.State.UNKNOWN),
    ],
)
def test_a_monitor_verdict_is_the_same_in_a_list_and_on_its_own(monitors, verdict):
    guest = make_guest()
    for i, (state, enabled) in enumerate(monitors):
        Monitor.objects.create(guest=guest, kind="ping", target=f"192.0.2.{i + 1}", state=state, is_enabled=enabled)

    listed = Guest.objects.with_monitor_state().get(pk=guest.pk)

    assert listed.monitor_state == Guest.objects.get(pk=guest.pk).monitor_state == verdict


def test_resolving_an_incident_is_recorded_on_its_timeline():
    incident = policy.open_by_person(title="dom0 down", by=None, machines=[make_machine()])
    incident.resolve(note="Back after a power-cycle.")
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED and incident.resolved_at is not None
    last = incident.timeline.last()
    assert last.kind == TimelineEntry.Kind.STATUS and last.body == "Back after a power-cycle."


def test_an_incident_cannot_be_resolved_without_a_time():
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(title="x", status=Incident.Status.RESOLVED)
