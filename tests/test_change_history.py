"""Every edit to the records a volunteer relies on is kept: who, when, before and after.

Edits made outside a web request (a worker, the shell) are kept as well as
admin edits; the admin's per-object history page is covered in test_admin.
"""

from datetime import date

import pytest
from django.utils import timezone
from simple_history.utils import update_change_reason

from coop.models import ContactMethod, Contract, SiteAccess
from power.models import PowerOutlet

from .factories import make_guest, make_machine, make_org, make_pdu, make_person, make_site

pytestmark = pytest.mark.django_db


def changes_of(obj):
    """(field, before, after) for the newest edit of obj."""
    newest, previous = obj.history.order_by("-history_date", "-history_id")[:2]
    return {(c.field, str(c.old), str(c.new)) for c in newest.diff_against(previous).changes}


def test_a_machine_edit_from_the_shell_keeps_before_and_after():
    machine = make_machine(os_name="Debian", os_version="11")
    machine.os_version = "12"
    machine.save()
    update_change_reason(machine, "upgraded during maintenance window")
    assert ("os_version", "11", "12") in changes_of(machine)
    newest = machine.history.first()
    assert newest.history_type == "~"
    assert newest.history_change_reason == "upgraded during maintenance window"
    assert newest.history_user is None  # made by a task or the shell: no web user


def test_moving_a_guest_to_another_host_is_recorded():
    guest = make_guest()
    old_host, new_host = guest.machine, make_machine()
    guest.machine = new_host
    guest.save()
    assert ("machine", str(old_host.pk), str(new_host.pk)) in changes_of(guest)


def test_people_contact_methods_and_site_access_keep_their_history():
    person = make_person(name="Robin")
    method = ContactMethod.objects.create(person=person, kind="phone", value="+1 555 0100")
    access = SiteAccess.objects.create(person=person, site=make_site(), kind=SiteAccess.Kind.BADGE)

    person.name = "Robin Q."
    person.save()
    method.mark_verified(timezone.now())
    access.kind = SiteAccess.Kind.ESCORT_ONLY
    access.save()

    assert ("name", "Robin", "Robin Q.") in changes_of(person)
    assert any(field == "verified_at" for field, _, _ in changes_of(method))
    assert ("kind", "badge", "escort") in changes_of(access)


def test_rewiring_an_outlet_to_another_machine_is_recorded():
    outlet = PowerOutlet.objects.create(controller=make_pdu(), number=4, machine=make_machine())
    before = outlet.machine
    outlet.machine = make_machine()
    outlet.save()
    assert ("machine", str(before.pk), str(outlet.machine_id)) in changes_of(outlet)


def test_a_contract_keeps_its_end_date_and_a_machine_the_contracts_it_depends_on():
    contract = Contract.objects.create(provider=make_org(), covers="dedicated server", ends_on=date(2027, 1, 1))
    contract.ends_on = date(2027, 3, 1)
    contract.save()
    assert ("ends_on", "2027-01-01", "2027-03-01") in changes_of(contract)

    machine = make_machine()
    machine.contracts.add(contract)
    newest = machine.history.first()
    assert [c.contract_id for c in newest.contracts.all()] == [contract.pk]
    assert list(contract.machines.all()) == [machine]


def test_deleting_a_person_leaves_the_record_of_who_they_were():
    person = make_person(name="Former volunteer")
    pk = person.pk
    person.delete()
    deleted = person.history.model.objects.filter(id=pk).order_by("-history_date").first()
    assert deleted.history_type == "-" and deleted.name == "Former volunteer"
