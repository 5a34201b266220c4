"""Ada's everyday admin work: ticking off contacts, resolving incidents, adding machines and guests."""

from datetime import timedelta

import pytest
from django.contrib.admin import helpers
from django.utils import timezone

from backups.models import BackupTarget, RestoreDrill
from coop.models import ContactMethod, Invitation, Person, Site, SiteAccess
from hosts.models import Guest, HostedService, IPAddress, Machine, SoftwareVersion
from incidents.models import ActionItem, Incident, TimelineEntry
from tests.test_admin import admin_url, errors_on_page, open_form


def run_action(client, model, action, objects):
    return client.post(
        admin_url(model, "changelist"),
        {"action": action, helpers.ACTION_CHECKBOX_NAME: [obj.pk for obj in objects]},
        follow=True,
    )


@pytest.fixture
def sam():
    return Person.objects.create(name="Sam Example", is_volunteer=True)


@pytest.fixture
def site():
    return Site.objects.create(name="Fremont colo", slug="fremont")


@pytest.fixture
def machine(site):
    return Machine.objects.create(hostname="xen1.fremont.example.org", site=site, hypervisor="xen")


@pytest.fixture
def outage(machine):
    incident = Incident.objects.create(title="xen1 is down", severity="critical", is_public=True)
    incident.machines.add(machine)
    return incident


# --- Contact methods -------------------------------------------------------------------


@pytest.mark.django_db
def test_mark_verified_action_sets_verified_at_on_the_chosen_contacts(admin_client, admin_user, sam):
    phone = ContactMethod.objects.create(person=sam, kind="phone", value="+1 555 0142")
    email = ContactMethod.objects.create(person=sam, kind="email", value="sam@example.org")
    before = timezone.now()

    response = run_action(admin_client, ContactMethod, "mark_verified_now", [phone])

    assert "Marked 1 contact method(s) verified." in response.content.decode()
    phone.refresh_from_db()
    email.refresh_from_db()
    assert phone.verified_at >= before
    assert email.verified_at is None
    assert phone.history.latest().history_user == admin_user


@pytest.mark.django_db
def test_contact_list_shows_which_contacts_were_verified_recently(admin_client, sam):
    fresh = ContactMethod.objects.create(person=sam, kind="phone", value="+1 555 0142", verified_at=timezone.now())
    stale = ContactMethod.objects.create(
        person=sam, kind="email", value="sam@example.org", verified_at=timezone.now() - timedelta(days=400)
    )

    response = admin_client.get(admin_url(ContactMethod, "changelist"))

    admin_of_contacts = response.context["cl"].model_admin
    assert admin_of_contacts.recently_verified(fresh) is True
    assert admin_of_contacts.recently_verified(stale) is False


@pytest.mark.django_db
def test_person_page_adds_a_phone_number_and_site_access(admin_client, sam, site):
    form = open_form(admin_client, Person, sam)
    form.add_row(ContactMethod, kind="phone", value="+1 555 0199", priority=1)
    form.add_row(SiteAccess, site=site.pk, kind="key", notes="Lives 10 minutes away")

    response = form.submit(admin_client)

    assert response.status_code == 302, errors_on_page(response)
    assert sam.contact_methods.get().value == "+1 555 0199"
    assert sam.site_access.get().site == site


# --- Incidents --------------------------------------------------------------------------


@pytest.mark.django_db
def test_resolve_action_resolves_the_incident_and_notes_it_on_the_timeline(admin_client, admin_user, outage):
    response = run_action(admin_client, Incident, "resolve", [outage])

    assert "Resolved 1 incident(s)." in response.content.decode()
    outage.refresh_from_db()
    assert outage.status == Incident.Status.RESOLVED
    assert outage.resolved_at is not None
    entry = outage.timeline.get()
    assert entry.kind == TimelineEntry.Kind.STATUS
    assert entry.author == admin_user
    assert entry.is_public


@pytest.mark.django_db
def test_resolve_action_leaves_an_already_resolved_incident_alone(admin_client, outage):
    outage.started_at = timezone.now() - timedelta(days=2)
    outage.save()
    outage.resolve(at=timezone.now() - timedelta(days=1))
    resolved_at = Incident.objects.get().resolved_at

    response = run_action(admin_client, Incident, "resolve", [outage])

    assert "1 already resolved, left as they were." in response.content.decode()
    outage.refresh_from_db()
    assert outage.resolved_at == resolved_at
    assert outage.timeline.count() == 1


@pytest.mark.django_db
def test_note_typed_on_the_incident_page_is_signed_by_the_admin(admin_client, admin_user, outage):
    form = open_form(admin_client, Incident, outage)
    now = timezone.localtime()
    form.add_row(TimelineEntry, at_0=now.date(), at_1=now.time(), kind="note", body="PDU outlet 4 cycled.")

    response = form.submit(admin_client)

    assert response.status_code == 302, errors_on_page(response)
    entry = outage.timeline.get()
    assert entry.body == "PDU outlet 4 cycled."
    assert entry.author == admin_user


@pytest.mark.django_db
def test_incident_added_in_the_admin_records_who_opened_it(admin_client, admin_user, machine):
    now = timezone.localtime()
    form = open_form(admin_client, Incident).type(
        title="Fremont power outage",
        severity="critical",
        status="investigating",
        started_at_0=now.date(),
        started_at_1=now.time(),
        machines=[machine.pk],
    )
    form.add_row(ActionItem, title="Buy a UPS")

    response = form.submit(admin_client)

    assert response.status_code == 302, errors_on_page(response)
    incident = Incident.objects.get()
    assert incident.created_by == admin_user
    assert list(incident.machines.all()) == [machine]
    assert incident.action_items.get().title == "Buy a UPS"


@pytest.mark.django_db
def test_mark_done_action_ticks_off_action_items(admin_client, outage, sam):
    encryption = ActionItem.objects.create(incident=outage, title="Turn on backup encryption", owner=sam)
    runbook = ActionItem.objects.create(incident=outage, title="Move the restore runbook into Switchboard")

    response = run_action(admin_client, ActionItem, "mark_done", [encryption])

    assert "Marked 1 action item(s) done." in response.content.decode()
    encryption.refresh_from_db()
    runbook.refresh_from_db()
    assert encryption.is_done
    assert not runbook.is_done


@pytest.mark.django_db
def test_action_item_list_filters_what_is_still_to_do(admin_client, outage):
    ActionItem.objects.create(incident=outage, title="Done already", done_at=timezone.now())
    todo = ActionItem.objects.create(incident=outage, title="Still to do")

    response = admin_client.get(admin_url(ActionItem, "changelist"), {"done": "no"})

    assert list(response.context["cl"].result_list) == [todo]


# --- Machines and guests -------------------------------------------------------------------


@pytest.mark.django_db
def test_new_machine_is_added_with_its_addresses_in_one_go(admin_client, site):
    form = open_form(admin_client, Machine).type(hostname="XEN2.Fremont.example.org.", site=site.pk)
    form.add_row(IPAddress, address="192.0.2.30", note="public")

    response = form.submit(admin_client)

    assert response.status_code == 302, errors_on_page(response)
    machine = Machine.objects.get()
    assert machine.hostname == "xen2.fremont.example.org"
    assert machine.addresses.get().address == "192.0.2.30"


@pytest.mark.django_db
def test_new_guest_is_added_with_its_services_and_software_in_one_go(admin_client, machine):
    form = open_form(admin_client, Guest).type(name="wiki.example.org", machine=machine.pk, lifecycle="active")
    form.add_row(HostedService, name="Community wiki", url="https://wiki.example.org/", is_public=True)
    form.add_row(SoftwareVersion, name="PostgreSQL", version="8.3", notes="restore needs an old OS")

    response = form.submit(admin_client)

    assert response.status_code == 302, errors_on_page(response)
    guest = Guest.objects.get()
    assert guest.services.get().is_public
    assert str(guest.software.get()) == "PostgreSQL 8.3"


@pytest.mark.django_db
def test_machine_search_finds_it_by_an_address(admin_client, machine, site):
    IPAddress.objects.create(address="198.51.100.7", machine=machine)
    Machine.objects.create(hostname="xen2.fremont.example.org", site=site)

    response = admin_client.get(admin_url(Machine, "changelist"), {"q": "198.51.100.7"})

    assert list(response.context["cl"].result_list) == [machine]


# --- Invitations ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_adding_an_invitation_emails_the_link_and_records_who_invited(admin_client, admin_user, mailoutbox):
    form = open_form(admin_client, Invitation).type(email="noor@example.org", role="operator")

    response = form.submit(admin_client)

    assert response.status_code == 302, errors_on_page(response)
    invitation = Invitation.objects.get()
    assert invitation.invited_by == admin_user
    assert invitation.sent_at is not None
    [mail] = mailoutbox
    assert mail.to == ["noor@example.org"]


@pytest.mark.django_db
def test_invitation_page_never_shows_the_sign_up_token(admin_client, admin_user):
    invitation = Invitation.objects.create(email="noor@example.org", invited_by=admin_user)

    for view, args in (("changelist", ()), ("change", (invitation.pk,)), ("history", (invitation.pk,))):
        page = admin_client.get(admin_url(Invitation, view, *args)).content.decode()
        assert invitation.token not in page, view


@pytest.mark.django_db
def test_send_again_action_resends_open_invitations_and_skips_accepted_ones(admin_client, admin_user, mailoutbox):
    open_one = Invitation.objects.create(email="noor@example.org", invited_by=admin_user)
    accepted = Invitation.objects.create(email="wen@example.org", accepted_at=timezone.now())

    response = run_action(admin_client, Invitation, "send_again", [open_one, accepted])

    page = response.content.decode()
    assert "Sent 1 invitation email(s)." in page
    assert "already accepted" in page
    assert [mail.to for mail in mailoutbox] == [["noor@example.org"]]


@pytest.mark.django_db
def test_changing_an_incidents_status_in_the_admin_is_told_on_its_timeline(admin_client, outage):
    form = open_form(admin_client, Incident, outage).type(status="identified")

    response = form.submit(admin_client)

    assert response.status_code == 302, errors_on_page(response)
    last = outage.timeline.order_by("at", "pk").last()
    assert last.kind == TimelineEntry.Kind.STATUS
    assert last.body == "Status set to Identified in the admin."
    assert last.author.username == "ada"


@pytest.mark.django_db
def test_a_good_restore_drill_entered_in_the_admin_counts_as_exercised(admin_client, machine):
    target = BackupTarget.objects.create(name="wiki nightly", kind="heartbeat", machine=machine)
    started = timezone.now() - timedelta(hours=3)
    form = open_form(admin_client, RestoreDrill).type(
        target=target.pk,
        started_at_0=timezone.localtime(started).date(),
        started_at_1=timezone.localtime(started).time().replace(microsecond=0),
        what="wiki database",
        from_backup="last night's dump",
        onto="a scratch VM",
        duration="1:30:00",
        succeeded="on",
    )

    response = form.submit(admin_client)

    assert response.status_code == 302, errors_on_page(response)
    target.refresh_from_db()
    assert target.last_exercised_at is not None
    assert abs(target.last_exercised_at - started) < timedelta(seconds=1)
