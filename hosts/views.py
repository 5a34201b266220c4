"""Runbooks: Markdown instructions, every version kept, and when they were last exercised."""

import difflib

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coop.models import Site
from core.access import member_required, operator_required
from core.page_cache import cached_for_viewer
from core.pages import paginate, render_page, text_param

from .forms import ExercisedForm, RunbookForm
from .models import Guest, Machine, Runbook


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
@cached_for_viewer
def runbook_list(request: HttpRequest):
    runbooks = Runbook.objects.select_related("machine", "guest", "site").order_by("title", "pk")
    text = text_param(request, "q")
    if text:
        runbooks = runbooks.filter(title__icontains=text)
    context = {"page": paginate(request, runbooks), "q": text}
    return render_page(request, "hosts/runbook_list.html", context, partial="hosts/_runbook_rows.html")


@require_GET
@member_required
@cached_for_viewer
def runbook_detail(request: HttpRequest, pk):
    runbook = _get_runbook(pk)
    context = {"runbook": runbook, "exercised_form": ExercisedForm(), "version_count": runbook.history.count()}
    return render(request, "hosts/runbook_detail.html", context)


@require_http_methods(["GET", "POST"])
@operator_required
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
@operator_required
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
@cached_for_viewer
def runbook_versions(request: HttpRequest, pk):
    runbook = _get_runbook(pk)
    versions = runbook.history.select_related("history_user").order_by("-history_date", "-history_id")
    context = {"runbook": runbook, "page": paginate(request, versions)}
    return render_page(request, "hosts/runbook_versions.html", context, partial="hosts/_runbook_version_rows.html")


@require_GET
@member_required
@cached_for_viewer
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
