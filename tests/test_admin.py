"""Ada keeps the inventory in the admin: every page opens, and lists stay fast as the co-op grows.

SAMPLES knows how to make one invented object of each model. A model added to
coop, hosts or incidents without a working admin page (or without a sample
here) makes these tests fail.
"""

import itertools
from datetime import date, datetime, time, timedelta

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalChanges

from alerts.models import (
    Alert,
    CalendarFeed,
    EscalationPolicy,
    EscalationStep,
    Notification,
    Rota,
    RotaMember,
    RotaOverride,
)
from backups.models import BackupCheck, BackupTarget, HeartbeatPing, RestoreDrill
from breakglass.models import Bundle
from coop.models import ContactMethod, Contract, Invitation, Organization, Person, Site, SiteAccess
from hosts.models import DNSName, Guest, HostedService, IPAddress, Machine, Monitor, Runbook, SoftwareVersion
from incidents.models import ActionItem, Incident, MaintenanceWindow, TimelineEntry
from notices.models import OwnerNotice, OwnerSubscription
from power.models import PowerAction, PowerController, PowerOutlet
from webhooks.models import WebhookDelivery, WebhookEndpoint

OUR_APPS = ("coop", "hosts", "incidents", "power", "backups", "alerts", "notices")
OUR_APPS += ("webhooks",)

_serial = itertools.count(1)


def _n():
    return next(_serial)


def _site():
    n = _n()
    return Site.objects.create(name=f"Colo {n}", slug=f"colo-{n}", address=f"{n} Example Street")


def _org():
    n = _n()
    return Organization.objects.create(name=f"Project {n}", slug=f"project-{n}", email=f"ops{n}@example.org")


def _person():
    n = _n()
    person = Person.objects.create(name=f"Volunteer {n}", organization=_org(), is_volunteer=True)
    ContactMethod.objects.create(person=person, kind="email", value=f"volunteer{n}@example.org")
    ContactMethod.objects.create(person=person, kind="phone", value="+1 555 0100", priority=2)
    SiteAccess.objects.create(person=person, site=_site())
    return person


def _machine():
    return Machine.objects.create(
        hostname=f"xen{_n()}.colo.example.org", site=_site(), owner=_org(), hypervisor="xen", os_name="Debian"
    )


def _guest(machine=None):
    guest = Guest.objects.create(name=f"vm{_n()}.example.org", machine=machine or _machine(), owner=_org())
    guest.contacts.add(_person())
    HostedService.objects.create(guest=guest, name="Wiki", owner=guest.owner)
    return guest


def _machine_with_guests():
    machine = _machine()
    machine.admins.add(_person())
    for _ in range(2):
        _guest(machine=machine)
    IPAddress.objects.create(address=f"2001:db8::{_n():x}", machine=machine)
    return machine


def _controller():
    n = _n()
    return PowerController.objects.create(
        name=f"pdu{n}", site=_site(), driver="apc_snmp", host=f"pdu{n}.colo.example.org", snmp_version="2c"
    )


def _contract():
    contract = Contract.objects.create(
        provider=_org(),
        paid_by=_org(),
        site=_site(),
        covers="Half rack",
        starts_on=date(2024, 1, 1),
        ends_on=date(2026, 1, 1),
    )
    contract.machines.add(_machine())
    return contract


def _incident():
    incident = Incident.objects.create(title=f"xen{_n()} is down", severity="critical")
    incident.machines.add(_machine())
    incident.note("Host stopped answering pings.")
    ActionItem.objects.create(incident=incident, title="Turn on backup encryption", owner=_person())
    return incident


def _rota():
    rota = Rota.objects.create(name=f"Core {_n()}")
    RotaMember.objects.create(rota=rota, person=_person(), position=1)
    return rota


def _policy():
    policy = EscalationPolicy.objects.create(name=f"Policy {_n()}", repeat=1)
    EscalationStep.objects.create(policy=policy, notify="rota", rota=_rota(), wait_minutes=10)
    return policy


def _alert():
    incident = _incident()
    person = _person()
    alert = Alert.objects.create(incident=incident, policy=_policy(), steps=[])
    Notification.objects.create(
        alert=alert, person=person, contact_method=person.contact_methods.first(), channel="email", status="sent"
    )
    return alert


def _owner_notice():
    incident = _incident()
    update = incident.note("We are on it.", by=None)
    return OwnerNotice.objects.create(
        incident=incident, entry=update, organization=_org(), address=f"ops{_n()}@example.org", channel="email"
    )


def _window():
    now = timezone.now()
    return MaintenanceWindow.objects.create(
        machine=_machine(), starts_at=now, ends_at=now + timedelta(hours=2), reason="New disks"
    )


# One maker per model; each call makes a new object with unique names.
def _backup_target():
    return BackupTarget.objects.create(name=f"backup {_n()}", kind="heartbeat", machine=_machine())


SAMPLES = {
    Site: _site,
    Organization: _org,
    Person: _person,
    ContactMethod: lambda: ContactMethod.objects.create(person=_person(), kind="sms", value="+1 555 0123"),
    SiteAccess: lambda: SiteAccess.objects.create(person=_person(), site=_site(), kind="key"),
    Contract: _contract,
    Invitation: lambda: Invitation.objects.create(email=f"new{_n()}@example.org", person=_person()),
    Machine: _machine_with_guests,
    Guest: _guest,
    IPAddress: lambda: IPAddress.objects.create(address=f"2001:db8:1::{_n():x}", guest=_guest(), note="public"),
    DNSName: lambda: DNSName.objects.create(name=f"www{_n()}.example.org", machine=_machine()),
    HostedService: lambda: HostedService.objects.create(guest=_guest(), name="Blog", url="https://example.org/"),
    SoftwareVersion: lambda: SoftwareVersion.objects.create(guest=_guest(), name="PostgreSQL", version="8.3"),
    PowerController: _controller,
    PowerOutlet: lambda: PowerOutlet.objects.create(controller=_controller(), number=1, machine=_machine()),
    PowerAction: lambda: _power_action(),
    BackupTarget: lambda: BackupTarget.objects.create(
        name=f"backup {_n()}", kind="s3", bucket="backups", machine=_machine(), secret_access_key="s3cr3t-key"
    ),
    BackupCheck: lambda: BackupCheck.objects.create(
        target=_backup_target(), state="ok", message="3 object(s)", size_bytes=5000, encryption="AES256"
    ),
    HeartbeatPing: lambda: HeartbeatPing.objects.create(target=_backup_target(), kind="success", body="done"),
    RestoreDrill: lambda: RestoreDrill.objects.create(
        target=_backup_target(),
        what="wiki db",
        from_backup="last night",
        onto="a VM",
        duration=timedelta(hours=1),
        succeeded=True,
    ),
    Runbook: lambda: Runbook.objects.create(title="Restore the wiki", guest=_guest(), body="1. Boot it."),
    Monitor: lambda: Monitor.objects.create(guest=_guest(), kind="http", target="https://example.org/"),
    Incident: _incident,
    MaintenanceWindow: _window,
    Rota: _rota,
    RotaMember: lambda: _rota().members.first(),
    RotaOverride: lambda: RotaOverride.objects.create(
        rota=_rota(), person=_person(), starts_at=timezone.now(), ends_at=timezone.now() + timedelta(days=7)
    ),
    EscalationPolicy: _policy,
    EscalationStep: lambda: _policy().steps.first(),
    Alert: _alert,
    Notification: lambda: _alert().notifications.first(),
    CalendarFeed: lambda: CalendarFeed.objects.create(person=_person()),
    TimelineEntry: lambda: _incident().note("Power-cycled via the PDU.", kind="power_done"),
    OwnerNotice: _owner_notice,
    OwnerSubscription: lambda: OwnerSubscription.objects.create(organization=_org(), address=f"o{_n()}@example.org"),
    ActionItem: lambda: ActionItem.objects.create(
        incident=_incident(), title="Write the postmortem", owner=_person(), due_on=date.today() + timedelta(days=30)
    ),
}


def _webhook_endpoint():
    n = _n()
    return WebhookEndpoint.objects.create(name=f"Hook {n}", url=f"https://hooks{n}.example.org/in")


SAMPLES[WebhookEndpoint] = _webhook_endpoint
SAMPLES[WebhookDelivery] = lambda: WebhookDelivery.objects.create(
    endpoint=_webhook_endpoint(), event_type="monitor.down", payload={"type": "monitor.down", "data": {"id": 1}}
)


def _power_action():
    outlet = PowerOutlet.objects.create(controller=_controller(), number=1, machine=_machine())
    return PowerAction.objects.create(
        outlet=outlet, controller=outlet.controller, machine=outlet.machine, operation="cycle", reason="test"
    )


def make(model):
    """One more invented object of `model` (and whatever it needs)."""
    if model not in SAMPLES:
        pytest.fail(f"No sample for {model.__name__}: add a maker to SAMPLES in {__name__}.")
    return SAMPLES[model]()


def _our_models():
    for label in OUR_APPS:
        for model in apps.get_app_config(label).get_models():
            if not issubclass(model, HistoricalChanges):
                yield model


def _label(model):
    return model._meta.label_lower


REGISTERED = sorted(admin.site._registry, key=_label)
# Written only by the power flow (the row is what keeps an action from running twice): read-only here.
# Audit records: what happened stays as it was. Power actions are made by the power flow only;
# timeline notes may be added in the admin, never changed or deleted.
# Rota members and escalation steps are edited on their rota or policy only (where bad input is refused).
AUDIT = {PowerAction, TimelineEntry, Alert, Notification, RotaMember, EscalationStep, OwnerNotice}
# Bundles are built by the task (or "Build a bundle now"), never typed in.
NO_ADD = {PowerAction, Alert, Notification, RotaMember, EscalationStep, OwnerNotice, Bundle}
# Webhook deliveries are written by the events they tell (webhooks.listeners): a record, like the timeline.
AUDIT |= {WebhookDelivery}
NO_ADD |= {WebhookDelivery}
OURS_REGISTERED = [model for model in REGISTERED if model._meta.app_label in OUR_APPS]
EDITABLE = [model for model in OURS_REGISTERED if model not in AUDIT]
SEARCHABLE = [model for model in OURS_REGISTERED if admin.site._registry[model].search_fields]


def admin_url(model, view, *args):
    """The admin URL of `view` (changelist, add, change, history, ...) for `model`."""
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _encode(value):
    if value is None:
        return ""
    if value is True:
        return "on"
    if value is False:
        return None  # an unticked checkbox sends nothing
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    return str(value)


class BrowserForm:
    """What a browser submits from an admin add/change page, so a test can type into it.

    Fields and existing inline rows are sent as the page shows them; the empty
    extra rows are left out unless a test fills one with add_row().
    """

    def __init__(self, response):
        assert response.status_code == 200, response.status_code
        self.url = response.wsgi_request.get_full_path()
        self.data = {}
        self.prefixes = {}
        self._put_form(response.context["adminform"].form)
        for inline in response.context["inline_admin_formsets"]:
            formset = inline.formset
            self.prefixes.setdefault(formset.model, formset.prefix)
            management = formset.management_form
            for name in management.fields:
                self.data[management.add_prefix(name)] = str(management[name].value())
            self.data[f"{formset.prefix}-TOTAL_FORMS"] = str(formset.initial_form_count())
            for form in formset.initial_forms:
                self._put_form(form)

    def _put_form(self, form):
        for name, field in form.fields.items():
            bound = form[name]
            value = bound.value()
            if value is None and isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
                continue  # nothing chosen in a multiple select sends nothing
            if isinstance(field.widget, forms.MultiWidget):
                parts = field.widget.decompress(value)
                keys = [f"{bound.html_name}_{i}" for i in range(len(parts))]
            else:
                parts, keys = [value], [bound.html_name]
            for key, part in zip(keys, parts, strict=True):
                encoded = _encode(part)
                if encoded is None:
                    continue
                self.data[key] = encoded
                if field.show_hidden_initial:
                    self.data[f"initial-{key}"] = encoded

    def type(self, **values):
        """Fill in fields of the main form (a datetime as field_0 / field_1)."""
        for name, value in values.items():
            encoded = _encode(value)
            if encoded is None:
                self.data.pop(name, None)
            else:
                self.data[name] = encoded
        return self

    def type_in_row(self, model, index, **values):
        """Change fields of existing inline row `index` of the `model` inline."""
        prefix = self.prefixes[model]
        return self.type(**{f"{prefix}-{index}-{name}": value for name, value in values.items()})

    def add_row(self, model, **values):
        """Fill in one new row of the `model` inline."""
        prefix = self.prefixes[model]
        index = int(self.data[f"{prefix}-TOTAL_FORMS"])
        self.data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
        return self.type(**{f"{prefix}-{index}-{name}": value for name, value in values.items()})

    def submit(self, client):
        return client.post(self.url, self.data)


def open_form(client, model, obj=None):
    """The admin add page of `model`, or the change page of `obj`, as a BrowserForm."""
    url = admin_url(model, "change", obj.pk) if obj is not None else admin_url(model, "add")
    return BrowserForm(client.get(url))


def errors_on_page(response):
    """Every error message the admin shows on a re-rendered form (page, fields and inline rows)."""
    assert response.status_code == 200, f"expected the form again, got {response.status_code}"
    found = list(response.context["adminform"].form.non_field_errors())
    for errors in response.context["adminform"].form.errors.values():
        found.extend(errors)
    for inline in response.context["inline_admin_formsets"]:
        found.extend(inline.formset.non_form_errors())
        for form_errors in inline.formset.errors:
            for errors in form_errors.values():
                found.extend(errors)
    return found


# --- Every page opens ------------------------------------------------------------------


# Rows that only make sense inside their parent (a power action's steps) are shown as its inline.
INLINE_ONLY = {inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines}


@pytest.mark.parametrize("model", list(_our_models()), ids=_label)
def test_every_model_of_the_coop_has_an_admin(model):
    assert model in admin.site._registry or model in INLINE_ONLY, (
        f"{model.__name__} has no admin: register it in {model._meta.app_label}/admin.py"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("model", REGISTERED, ids=_label)
def test_admin_sees_every_list_and_add_page(admin_client, model):
    assert admin_client.get(admin_url(model, "changelist")).status_code == 200
    assert admin_client.get(admin_url(model, "add")).status_code == (403 if model in NO_ADD else 200)


@pytest.mark.django_db
@pytest.mark.parametrize("model", OURS_REGISTERED, ids=_label)
def test_admin_opens_every_object_its_list_and_its_history(admin_client, model):
    obj = make(model)

    assert admin_client.get(admin_url(model, "changelist")).status_code == 200
    assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    assert admin_client.get(admin_url(model, "history", obj.pk)).status_code == 200
    assert admin_client.get(admin_url(model, "delete", obj.pk)).status_code == (403 if model in AUDIT else 200)


@pytest.mark.django_db
@pytest.mark.parametrize("model", SEARCHABLE, ids=_label)
def test_admin_search_finds_nothing_without_error(admin_client, model):
    make(model)

    response = admin_client.get(admin_url(model, "changelist"), {"q": "192.0.2.1"})

    assert response.status_code == 200


# --- Lists stay fast ---------------------------------------------------------------------


def _page_queries(client, url):
    """How many queries one view of the page at `url` runs (after a first view fills the caches)."""
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize("model", OURS_REGISTERED, ids=_label)
def test_list_runs_as_many_queries_for_twenty_rows_as_for_two(admin_client, model):
    for _ in range(2):
        make(model)
    with_two = _page_queries(admin_client, admin_url(model, "changelist"))
    for _ in range(18):
        make(model)

    with_twenty = _page_queries(admin_client, admin_url(model, "changelist"))

    assert model.objects.count() >= 20
    assert with_twenty == with_two


@pytest.mark.django_db
def test_machine_list_stays_bounded_with_filters_and_search(admin_client):
    for _ in range(2):
        make(Machine)
    url = admin_url(Machine, "changelist") + "?hypervisor__exact=xen&q=example.org&o=6"
    with_two = _page_queries(admin_client, url)
    for _ in range(18):
        make(Machine)

    assert _page_queries(admin_client, url) == with_two


@pytest.mark.django_db
def test_machine_list_shows_site_owner_hypervisor_lifecycle_and_guest_count(admin_client):
    machine = make(Machine)

    response = admin_client.get(admin_url(Machine, "changelist"))

    row = response.context["cl"].result_list.get(pk=machine.pk)
    assert row.guest_count == 2
    page = response.content.decode()
    for text in (machine.hostname, machine.site.name, machine.owner.name, "Xen", "In service"):
        assert text in page


@pytest.mark.django_db
def test_machine_page_runs_as_many_queries_for_twenty_guests_as_for_two(admin_client):
    machine = _machine()
    for _ in range(2):
        _guest(machine=machine)
    url = admin_url(Machine, "change", machine.pk)
    with_two = _page_queries(admin_client, url)
    for _ in range(18):
        _guest(machine=machine)

    assert _page_queries(admin_client, url) == with_two


@pytest.mark.django_db
def test_machine_page_lists_its_guests_with_links_but_no_add_row(admin_client):
    machine = make(Machine)
    guest = machine.guests.first()

    response = admin_client.get(admin_url(Machine, "change", machine.pk))

    page = response.content.decode()
    assert admin_url(Guest, "change", guest.pk) in page
    guests_inline = next(i for i in response.context["inline_admin_formsets"] if i.formset.model is Guest)
    assert guests_inline.formset.extra == 0
    assert not guests_inline.has_add_permission


@pytest.mark.django_db
def test_incident_page_runs_as_many_queries_for_twenty_timeline_entries_as_for_two(admin_client):
    incident = make(Incident)
    url = admin_url(Incident, "change", incident.pk)
    incident.note("Second look.")
    with_two = _page_queries(admin_client, url)
    for k in range(18):
        incident.note(f"Still down ({k}).")

    assert _page_queries(admin_client, url) == with_two


@pytest.mark.django_db
def test_autocomplete_finds_a_machine_by_hostname(admin_client):
    machine = make(Machine)
    url = reverse("admin:autocomplete")

    response = admin_client.get(
        url, {"term": machine.hostname[:5], "app_label": "hosts", "model_name": "guest", "field_name": "machine"}
    )

    assert response.status_code == 200
    assert machine.hostname in [result["text"] for result in response.json()["results"]]


@pytest.mark.django_db
def test_contract_list_marks_contracts_ending_soon(admin_client):
    contract = make(Contract)
    contract.starts_on = None
    contract.ends_on = timezone.localdate() + timedelta(days=10)
    contract.save()

    response = admin_client.get(admin_url(Contract, "changelist"))

    assert "<strong>10</strong>" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("model", EDITABLE, ids=_label)
def test_saving_a_page_as_it_is_succeeds(admin_client, model):
    obj = make(model)

    response = open_form(admin_client, model, obj).submit(admin_client)

    assert response.status_code == 302, errors_on_page(response)
    assert response.url == admin_url(model, "changelist")


@pytest.mark.django_db
@pytest.mark.parametrize("model", sorted(AUDIT, key=_label), ids=_label)
def test_audit_records_cannot_be_edited_or_deleted_in_the_admin(admin_client, model):
    obj = make(model)

    assert admin_client.post(admin_url(model, "change", obj.pk), {}).status_code == 403
    assert admin_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()
