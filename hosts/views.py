"""Inventory pages: machines (the machine page is the outage page), guests, backups and runbooks."""

import difflib

from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coop.access import member_required
from coop.models import Site
from coop.pages import paginate, render_page, text_param
from coop.search import clean_query, people_to_call
from coop.views import access_for_site, backups_failing, machines_down
from incidents.models import Incident, TimelineEntry

from .forms import ExercisedForm, RunbookForm
from .models import BackupTarget, Guest, Machine, Runbook

DETAIL_ROWS = 25
TIMELINE_ROWS = 10


def _open_incidents(incidents):
    return incidents.exclude(status=Incident.Status.RESOLVED).distinct().order_by("-started_at")[:5]


def _recent_timeline(incidents):
    """The newest entries on any of these incidents' timelines."""
    return (
        TimelineEntry.objects.filter(incident__in=incidents.values("pk"))
        .select_related("incident", "author")
        .order_by("-at", "-pk")[:TIMELINE_ROWS]
    )


# --- Machines ------------------------------------------------------------------------------


def _get_machine(hostname):
    """The machine called `hostname` with its site, owner and monitor verdict, or 404."""
    machines = Machine.objects.with_monitor_state().select_related("site", "owner")
    return get_object_or_404(machines, hostname=clean_query(hostname).rstrip(".").lower())


@require_GET
@member_required
def machine_list(request: HttpRequest):
    machines = Machine.objects.with_monitor_state().select_related("site", "owner")
    state = request.GET.get("state")
    if state == "down":
        machines = machines.filter(pk__in=machines_down().values("pk"))
    site = text_param(request, "site")
    if site:
        machines = machines.filter(site__slug=site)
    text = text_param(request, "q")
    if text:
        machines = machines.filter(hostname__icontains=text)
    machines = machines.annotate(guest_count=Count("guests")).order_by("hostname")
    context = {"page": paginate(request, machines), "state": state, "site": site, "q": text}
    return render_page(request, "hosts/machine_list.html", context, partial="hosts/_machine_rows.html")


@require_GET
@member_required
def machine_detail(request: HttpRequest, hostname):
    machine = _get_machine(hostname)
    incidents = Incident.objects.filter(Q(machines=machine) | Q(guests__machine=machine))
    guests = machine.guests.with_monitor_state().select_related("owner")
    context = {
        "machine": machine,
        "monitors": list(machine.monitors.all()),
        "open_incidents": _open_incidents(incidents),
        "access": access_for_site(machine.site)[:DETAIL_ROWS],
        "admins": machine.admins.select_related("organization").prefetch_related("contact_methods")[:DETAIL_ROWS],
        "outlets": machine.outlets.select_related("controller"),
        "guests": guests[:DETAIL_ROWS],
        "guest_count": guests.count(),
        "runbooks": Runbook.objects.filter(Q(machine=machine) | Q(site=machine.site_id))[:DETAIL_ROWS],
        "backups": BackupTarget.objects.filter(Q(machine=machine) | Q(guest__machine=machine)).select_related("guest")[
            :DETAIL_ROWS
        ],
        "timeline": _recent_timeline(incidents),
        "addresses": machine.addresses.all(),
        "dns_names": machine.dns_names.all(),
        "contracts": machine.contracts.select_related("provider"),
    }
    return render(request, "hosts/machine_detail.html", context)


# --- Guests ---------------------------------------------------------------------------------


def _get_guest(name):
    """The guest called `name` with its host, owner, contacts and both monitor verdicts, or 404."""
    guests = (
        Guest.objects.with_monitor_state()
        .select_related("machine__site", "owner")
        .prefetch_related("machine__monitors", Prefetch("contacts", queryset=people_to_call()))
    )
    return get_object_or_404(guests, name=clean_query(name).rstrip(".").lower())


@require_GET
@member_required
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
    return render_page(request, "hosts/guest_list.html", context, partial="hosts/_guest_rows.html")


@require_GET
@member_required
def guest_detail(request: HttpRequest, name):
    guest = _get_guest(name)
    incidents = Incident.objects.filter(Q(guests=guest) | Q(machines=guest.machine_id))
    context = {
        "guest": guest,
        "machine": guest.machine,
        "monitors": list(guest.monitors.all()),
        "open_incidents": _open_incidents(incidents),
        "addresses": guest.addresses.all(),
        "dns_names": guest.dns_names.all(),
        "services": guest.services.select_related("owner"),
        "software": guest.software.all(),
        "runbooks": guest.runbooks.all()[:DETAIL_ROWS],
        "backups": guest.backup_targets.all()[:DETAIL_ROWS],
        "timeline": _recent_timeline(incidents),
    }
    return render(request, "hosts/guest_detail.html", context)


# --- Backups --------------------------------------------------------------------------------


@require_GET
@member_required
def backup_list(request: HttpRequest):
    failing = request.GET.get("state") == "failing"
    targets = backups_failing() if failing else BackupTarget.objects.all()
    targets = targets.select_related("machine", "guest").order_by("name")
    context = {"page": paginate(request, targets), "failing": failing}
    return render_page(request, "hosts/backup_list.html", context, partial="hosts/_backup_rows.html")


# --- Runbooks -------------------------------------------------------------------------------


def _get_runbook(pk):
    """The runbook with this id, with what it is attached to and who last exercised it, or 404."""
    runbooks = Runbook.objects.select_related("machine", "guest", "site", "last_exercised_by")
    return get_object_or_404(runbooks, pk=pk)


def _subject_from_query(request):
    """The machine, guest or site a new runbook is for, from ?machine=, ?guest= or ?site=; else 404."""
    if hostname := text_param(request, "machine"):
        return {"machine": get_object_or_404(Machine, hostname=hostname)}
    if name := text_param(request, "guest"):
        return {"guest": get_object_or_404(Guest, name=name)}
    if slug := text_param(request, "site"):
        return {"site": get_object_or_404(Site, slug=slug)}
    raise Http404("A runbook is written for a machine, a guest or a site.")


def _subject_url(runbook):
    """The page of the machine, guest or site a runbook belongs to."""
    if runbook.machine_id:
        return reverse("machine_detail", args=[runbook.machine.hostname])
    if runbook.guest_id:
        return reverse("guest_detail", args=[runbook.guest.name])
    return reverse("site_detail", args=[runbook.site.slug])


@require_GET
@member_required
def runbook_list(request: HttpRequest):
    runbooks = Runbook.objects.select_related("machine", "guest", "site").order_by("title", "pk")
    text = text_param(request, "q")
    if text:
        runbooks = runbooks.filter(title__icontains=text)
    context = {"page": paginate(request, runbooks), "q": text}
    return render_page(request, "hosts/runbook_list.html", context, partial="hosts/_runbook_rows.html")


@require_GET
@member_required
def runbook_detail(request: HttpRequest, pk):
    runbook = _get_runbook(pk)
    context = {"runbook": runbook, "exercised_form": ExercisedForm(), "version_count": runbook.history.count()}
    return render(request, "hosts/runbook_detail.html", context)


@require_http_methods(["GET", "POST"])
@member_required
def runbook_new(request: HttpRequest):
    subject = _subject_from_query(request)
    runbook = Runbook(**subject)
    form = RunbookForm(request.POST or None, instance=runbook)
    if request.method == "POST" and form.is_valid():
        runbook = form.save(commit=False)
        runbook.save_version(by=request.user, reason=form.cleaned_data["summary"] or "Written")
        messages.success(request, "Runbook saved.")
        return redirect("runbook_detail", pk=runbook.pk)
    context = {"form": form, "runbook": runbook, "subject": runbook.subject, "cancel_url": _subject_url(runbook)}
    return render(request, "hosts/runbook_form.html", context)


@require_http_methods(["GET", "POST"])
@member_required
def runbook_edit(request: HttpRequest, pk):
    runbook = _get_runbook(pk)
    initial = {"based_on": runbook.updated_at.isoformat()}
    form = RunbookForm(request.POST or None, instance=runbook, initial=initial)
    if request.method == "POST" and form.is_valid():
        runbook = form.save(commit=False)
        runbook.save_version(by=request.user, reason=form.cleaned_data["summary"] or "Edited")
        messages.success(request, "Saved as a new version.")
        return redirect("runbook_detail", pk=runbook.pk)
    cancel_url = reverse("runbook_detail", args=[runbook.pk])
    context = {"form": form, "runbook": runbook, "subject": runbook.subject, "cancel_url": cancel_url}
    return render(request, "hosts/runbook_form.html", context)


@require_POST
@member_required
def runbook_exercised(request: HttpRequest, pk):
    runbook = _get_runbook(pk)
    form = ExercisedForm(request.POST)
    if form.is_valid():
        runbook.mark_exercised(by=request.user, note=form.cleaned_data["note"])
        if not request.htmx:
            messages.success(request, "Recorded: thank you for exercising this runbook.")
            return redirect("runbook_detail", pk=runbook.pk)
        form = ExercisedForm()
    context = {"runbook": runbook, "exercised_form": form}
    if request.htmx:
        return render(request, "hosts/_runbook_exercised.html", context)
    return render(
        request, "hosts/runbook_detail.html", {**context, "version_count": runbook.history.count()}, status=400
    )


@require_GET
@member_required
def runbook_versions(request: HttpRequest, pk):
    runbook = _get_runbook(pk)
    versions = runbook.history.select_related("history_user").order_by("-history_date", "-history_id")
    context = {"runbook": runbook, "page": paginate(request, versions)}
    return render_page(request, "hosts/runbook_versions.html", context, partial="hosts/_runbook_version_rows.html")


@require_GET
@member_required
def runbook_version(request: HttpRequest, pk, version_id):
    runbook = _get_runbook(pk)
    version = get_object_or_404(runbook.history.select_related("history_user"), history_id=version_id)
    previous = (
        runbook.history.filter(Q(history_date__lt=version.history_date))
        .order_by("-history_date", "-history_id")
        .only("body", "history_id")
        .first()
    )
    diff = difflib.unified_diff(
        (previous.body if previous else "").splitlines(),
        version.body.splitlines(),
        fromfile="before",
        tofile="after",
        lineterm="",
    )
    context = {
        "runbook": runbook,
        "version": version,
        "previous": previous,
        "diff_lines": list(diff)[2:],  # drop the ---/+++ header lines
        "versions_url": reverse("runbook_versions", args=[runbook.pk]),
    }
    return render(request, "hosts/runbook_version.html", context)
