"""Machines (the machine page is the outage page) and guests."""

from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from backups.models import BackupTarget
from coop.models import SiteAccess, first_to_call
from core.access import is_operator, member_required
from core.db import count_of
from core.page_cache import cached_for_viewer
from core.pages import paginate, render_page, text_param
from hosts.models import Guest, Machine, Runbook
from hosts.shortcuts import get_guest_or_404, get_machine_or_404
from incidents.models import Incident, TimelineEntry
from monitors.history import attach_history
from power.views import power_panel_context

DETAIL_ROWS = 25
TIMELINE_ROWS = 10


RECENT_INCIDENTS = 20


def _open_incidents(incidents):
    return incidents.exclude(status=Incident.Status.RESOLVED).order_by("-started_at")[:5]


def _recent_timeline(incidents, subject):
    """The newest entries on the subject's own timeline and on those of the latest of these incidents."""
    # Bounded to recent incidents, so a machine's long history does not slow its outage page.
    latest = incidents.order_by("-started_at").values("pk")[:RECENT_INCIDENTS]
    entries = TimelineEntry.objects.select_related("incident", "author").order_by("-at", "-pk")
    # Two walks of their own indexes, merged here: one query with OR between them reads every entry.
    found = [*entries.filter(incident__in=latest)[:TIMELINE_ROWS], *entries.filter(subject)[:TIMELINE_ROWS]]
    newest = sorted({entry.pk: entry for entry in found}.values(), key=lambda e: (e.at, e.pk), reverse=True)
    return newest[:TIMELINE_ROWS]


# --- Machines ------------------------------------------------------------------------------


@require_GET
@member_required
@cached_for_viewer
def machine_list(request: HttpRequest):
    machines = Machine.objects.with_monitor_state().select_related("site", "owner")
    state = request.GET.get("state")
    if state == "down":
        machines = machines.filter(pk__in=Machine.objects.down().values("pk"))
    site = text_param(request, "site")
    if site:
        machines = machines.filter(site__slug=site)
    text = text_param(request, "q")
    if text:
        machines = machines.filter(hostname__icontains=text)
    # A subquery runs for the rows on the page only; a join and GROUP BY would count every guest.
    machines = machines.annotate(guest_count=count_of(Guest, "machine")).order_by("hostname")
    context = {"page": paginate(request, machines), "state": state, "site": site, "q": text}
    return render_page(request, "front/machine_list.html", context, partial="front/_machine_rows.html")


@require_GET
@member_required
@cached_for_viewer
def machine_detail(request: HttpRequest, hostname):
    machine = get_machine_or_404(hostname)
    incidents = Incident.objects.touching_machine(machine)
    guests = machine.guests.with_monitor_state().select_related("owner")
    monitors = list(machine.monitors.select_related("status"))
    access = list(SiteAccess.objects.roster(machine.site)[:DETAIL_ROWS])
    context = {
        "machine": machine,
        "monitors": monitors,
        "monitor_changes": attach_history(monitors),
        "open_incidents": _open_incidents(incidents),
        # A list: the first screen shows its first person (the one to call), the access card all of them.
        "access": access,
        "first_access": first_to_call(access, request.user),
        "admins": machine.admins.select_related("organization").prefetch_related("contact_methods")[:DETAIL_ROWS],
        "outlets": machine.outlets.select_related("controller"),
        "guests": guests[:DETAIL_ROWS],
        "guest_count": guests.count(),
        "runbooks": Runbook.objects.filter(Q(machine=machine) | Q(site=machine.site_id))[:DETAIL_ROWS],
        # The guests as a subquery, not a join: a join filtered with OR reads backups name by name
        # through the whole table until it has found a page of this machine's.
        "backups": BackupTarget.objects.filter(
            Q(machine=machine) | Q(guest__in=machine.guests.values("pk"))
        ).select_related("guest")[:DETAIL_ROWS],
        "timeline": _recent_timeline(incidents, subject=Q(machine=machine)),
        "addresses": machine.addresses.all(),
        "dns_names": machine.dns_names.all(),
        "contracts": machine.contracts.select_related("provider"),
        "user_is_operator": is_operator(request.user),
        **power_panel_context(machine),
    }
    return render(request, "front/machine_detail.html", context)


# --- Guests ---------------------------------------------------------------------------------


@require_GET
@member_required
@cached_for_viewer
def guest_list(request: HttpRequest):
    guests = Guest.objects.with_monitor_state().select_related("machine", "owner")
    machine = text_param(request, "machine")
    if machine:
        guests = guests.filter(machine__hostname=machine)
    owner = text_param(request, "owner")
    if owner:
        guests = guests.filter(owner__slug=owner)
    text = text_param(request, "q")
    if text:
        guests = guests.filter(name__icontains=text)
    context = {"page": paginate(request, guests), "machine": machine, "owner": owner, "q": text}
    return render_page(request, "front/guest_list.html", context, partial="front/_guest_rows.html")


@require_GET
@member_required
@cached_for_viewer
def guest_detail(request: HttpRequest, name):
    guest = get_guest_or_404(name)
    incidents = Incident.objects.touching_guest(guest)
    monitors = list(guest.monitors.select_related("status"))
    machine = guest.machine
    context = {
        "guest": guest,
        "machine": machine,
        # The first screen: who can get into the host's building, and whether its power can be cycled from here.
        "first_access": first_to_call(SiteAccess.objects.roster(machine.site)[:2], request.user),
        "machine_has_outlets": machine.outlets.exists(),
        "user_is_operator": is_operator(request.user),
        "contacts": list(guest.contacts.to_call()[:DETAIL_ROWS]),
        "monitors": monitors,
        "monitor_changes": attach_history(monitors),
        "open_incidents": _open_incidents(incidents),
        "addresses": guest.addresses.all(),
        "dns_names": guest.dns_names.all(),
        "services": guest.services.select_related("owner"),
        "software": guest.software.all(),
        "runbooks": guest.runbooks.all()[:DETAIL_ROWS],
        "backups": guest.backup_targets.all()[:DETAIL_ROWS],
        # Its own entries and its host's (a power-cycle of the host took the guest down with it).
        "timeline": _recent_timeline(incidents, subject=Q(guest=guest) | Q(machine=guest.machine_id)),
    }
    return render(request, "front/guest_detail.html", context)
