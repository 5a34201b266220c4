"""Incident pages for members, and the work operators do on them from a phone.

Members read: the list (with filters), one incident with its live timeline, its postmortem as
Markdown. Operators write: open an incident, post an update, change status or severity, lead
it, add what it affects, action items, publish it, resolve it, publish the postmortem. Each
write is one POST that calls one Incident or ActionItem method (which writes the timeline
entry) and goes back to the incident page; bad input comes back on the page with the message
and what was typed, and changes nothing.
"""

from datetime import UTC

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coop.models import Site
from core.access import is_operator, member_required, operator_required
from core.page_cache import cached_for_viewer
from core.pages import paginate, render_page, text_param
from hosts.models import Guest, Machine, Monitor

from . import forms, policy
from .models import ActionItem, Incident
from .postmortem import postmortem_markdown, public_draft

DETAIL_ROWS = 50
TIMELINE_PAGE = 100
# How often an open incident's page asks for new timeline entries.
POLL_SECONDS = 5
# The timeline's filters: what ?show= may say, and which entries each keeps.
TIMELINE_FILTERS = {
    "all": ("Everything", Q()),
    "people": ("People", Q(author__isnull=False)),
    "system": ("Switchboard", Q(author__isnull=True)),
    "public": ("Public", Q(is_public=True, author__isnull=False)),
}
# htmx's "stop polling" status: the poll answers it once the incident is resolved.
STOP_POLLING = 286


def _get_incident(pk):
    """The incident with this id, or 404."""
    return get_object_or_404(Incident.objects.select_related("created_by", "lead"), pk=pk)


# --- Reading ---------------------------------------------------------------------------------


@require_GET
@member_required
@cached_for_viewer
def incident_list(request: HttpRequest):
    shown = request.GET.get("status", "open")
    incidents = Incident.objects.annotate(
        machine_count=Count("machines", distinct=True), guest_count=Count("guests", distinct=True)
    ).order_by("-started_at", "-pk")
    if shown == "open":
        incidents = incidents.exclude(status=Incident.Status.RESOLVED)
    elif shown == "resolved":
        incidents = incidents.filter(status=Incident.Status.RESOLVED)
    else:
        shown = "all"
    filters = _list_filters(request)
    if filters["mine"]:
        incidents = incidents.filter(Q(lead=request.user) | Q(created_by=request.user))
    if filters["severity"]:
        incidents = incidents.filter(severity=filters["severity"])
    if filters["machine"]:
        incidents = incidents.filter(pk__in=Incident.objects.touching_machine(filters["machine"]).values("pk"))
    if filters["site"]:
        on_site = Q(machines__site=filters["site"]) | Q(guests__machine__site=filters["site"])
        incidents = incidents.filter(pk__in=Incident.objects.filter(on_site).values("pk"))
    context = {
        "page": paginate(request, incidents),
        "shown": shown,
        "filters": filters,
        "severities": Incident.Severity.choices,
        "sites": Site.objects.order_by("name").values_list("slug", "name"),
    }
    return render_page(request, "incidents/incident_list.html", context, partial="incidents/_incident_rows.html")


def _list_filters(request):
    """The list's filters from the query string; an unknown machine or site filters to nothing, not everything."""
    severity = request.GET.get("severity", "")
    machine_name, site_slug = text_param(request, "machine"), text_param(request, "site")
    return {
        "mine": request.GET.get("mine") == "1",
        "severity": severity if severity in Incident.Severity.values else "",
        "machine": (Machine.objects.filter(hostname=machine_name).first() or Machine(pk=0)) if machine_name else None,
        "machine_name": machine_name,
        "site": (Site.objects.filter(slug=site_slug).first() or Site(pk=0)) if site_slug else None,
        "site_slug": site_slug,
    }


@require_GET
@member_required
@cached_for_viewer
def incident_detail(request: HttpRequest, pk):
    incident = _get_incident(pk)
    context = _detail_context(request, incident)
    return render_page(request, "incidents/incident_detail.html", context, partial="incidents/_timeline.html")


def _detail_context(request, incident, **bound_forms):
    """What the incident page shows; `bound_forms` are forms coming back with their errors."""
    affected_guests = incident.affected_guests().with_monitor_state().select_related("machine", "owner")
    show = request.GET.get("show", "all")
    if show not in TIMELINE_FILTERS:
        show = "all"
    timeline = _timeline(incident, show)
    page = paginate(request, timeline, per_page=TIMELINE_PAGE) if "page" in request.GET else _last_page(timeline)
    operator = is_operator(request.user)
    context = {
        "incident": incident,
        "machines": incident.machines.with_monitor_state().select_related("site")[:DETAIL_ROWS],
        "guests": affected_guests[:DETAIL_ROWS],
        "guest_count": incident.affected_guest_count(),
        "timeline": page,
        "show": show,
        "timeline_filters": [(key, label) for key, (label, _) in TIMELINE_FILTERS.items()],
        "poll": _poll_url(incident, show, page),
        "poll_seconds": POLL_SECONDS,
        "action_items": incident.action_items.select_related("owner"),
        "can_act": operator,
        "update_form": forms.UpdateForm(incident=incident),
        "status_form": forms.StatusForm(incident=incident, initial={"status": incident.status}),
        "severity_form": forms.SeverityForm(initial={"severity": incident.severity}),
        "publish_form": forms.PublishForm(initial={"title": _public_title(incident)}),
        "affected_form": forms.AffectedForm(),
        "action_form": forms.ActionItemForm(),
        "resolve_form": forms.ResolveForm(incident=incident, initial={"summary": incident.summary}),
        "postmortem_form": forms.PostmortemForm(incident=incident, initial={"postmortem": _postmortem_start(incident)}),
    }
    context.update(bound_forms)
    return context


def _postmortem_start(incident):
    """What the postmortem box starts with: the published one, else (once resolved) what the public already read."""
    if incident.postmortem or incident.is_open:
        return incident.postmortem
    return public_draft(incident)


def _public_title(incident):
    """The public title the box offers: the incident's own, unless Switchboard wrote it or it names private things."""
    if incident.title_by_switchboard or forms.names_private_things(incident.title):
        return ""
    return incident.title


def _timeline(incident, show):
    return incident.timeline.filter(TIMELINE_FILTERS[show][1]).select_related("author").order_by("at", "pk")


def _last_page(timeline):
    """The newest page: what is happening now is what a volunteer opens the page for."""
    paginator = Paginator(timeline, TIMELINE_PAGE)
    return paginator.get_page(paginator.num_pages)


def _poll_url(incident, show, page):
    """Where the newest page asks for entries after its last one; None when nothing more will come."""
    if not incident.is_open or page.has_next():
        return None
    last = page.object_list[len(page.object_list) - 1].pk if page.object_list else 0
    return f"{reverse('incident_timeline_new', args=[incident.pk])}?after={last}&show={show}"


@require_GET
@member_required
@cached_for_viewer
def incident_timeline_new(request: HttpRequest, pk):
    """The entries after ?after=<id>, for the open page's poll; tells htmx to stop once it is resolved."""
    incident = _get_incident(pk)
    show = request.GET.get("show", "all")
    if show not in TIMELINE_FILTERS:
        show = "all"
    after = request.GET.get("after", "")
    after = int(after) if after.isascii() and after.isdigit() else 0
    entries = list(_timeline(incident, show).filter(pk__gt=after)[:TIMELINE_PAGE])
    last = entries[-1].pk if entries else after
    poll = f"{reverse('incident_timeline_new', args=[incident.pk])}?after={last}&show={show}"
    context = {"incident": incident, "entries": entries, "poll": poll if incident.is_open else None}
    response = render(request, "incidents/_timeline_new.html", context)
    if not incident.is_open:
        response.status_code = STOP_POLLING if request.htmx else 200
    return response


@require_GET
@member_required
def incident_postmortem_markdown(request: HttpRequest, pk):
    """The whole incident as one Markdown file, for the postmortem (for members: it names owners and hosts)."""
    incident = _get_incident(pk)
    response = HttpResponse(postmortem_markdown(incident), content_type="text/markdown; charset=utf-8")
    filename = f"incident-{incident.pk}-{incident.started_at.astimezone(UTC):%Y-%m-%d}.md"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Opening -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@operator_required
def incident_new(request: HttpRequest):
    """Open an incident, from a machine's or guest's page (?machine=<hostname> or ?guest=<name>)."""
    if request.method == "POST":
        form = forms.OpenIncidentForm(request.POST)
        if form.is_valid():
            incident = policy.open_by_person(
                title=form.cleaned_data["title"],
                by=request.user,
                machines=form.machines,
                guests=form.guests,
                severity=form.cleaned_data["severity"],
            )
            if form.cleaned_data["update"]:
                incident.post_update(form.cleaned_data["update"], by=request.user)
            messages.success(request, "Incident opened. Post updates here as you learn more.")
            return redirect(incident)
        status = 400
    else:
        machine = Machine.objects.filter(hostname=text_param(request, "machine")).first()
        guest = Guest.objects.filter(name=text_param(request, "guest")).first()
        subject = machine or guest
        named = machine.hostname if machine else (guest.name if guest else "")
        form = forms.OpenIncidentForm(initial={"affected": named, "title": _title(subject)})
        status = 200
    affected = [*getattr(form, "machines", []), *getattr(form, "guests", [])] or _initial_subjects(form)
    open_ones = []
    for subject in affected:
        found = policy.work_incident(subject)
        if found and found not in open_ones:
            open_ones.append(found)
    context = {"form": form, "affected": affected, "open_incidents": open_ones}
    return render(request, "incidents/incident_new.html", context, status=status)


def _title(subject):
    if subject is None:
        return ""
    return f"{subject.hostname if isinstance(subject, Machine) else subject.name} is down"


def _initial_subjects(form):
    name = form.initial.get("affected", "")
    if not name:
        return []
    return [*Machine.objects.filter(hostname=name), *Guest.objects.filter(name=name)]


# --- Working it ----------------------------------------------------------------------------


def _back(incident, anchor=""):
    return redirect(incident.get_absolute_url() + anchor)


def _again(request, incident, **bound):
    """The incident page again, with the form that failed, its message and what was typed."""
    said = [error for form in bound.values() for errors in form.errors.values() for error in errors]
    messages.error(request, "Nothing was changed. " + " ".join(said[:3]))
    return render(request, "incidents/incident_detail.html", _detail_context(request, incident, **bound), status=400)


def _apply(request, incident, change, form_name, form):
    """Call the model method; a rule it refuses comes back on the form (nothing changed)."""
    try:
        return change(), None
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return None, _again(request, incident, **{form_name: form})


@require_POST
@operator_required
def incident_update(request: HttpRequest, pk):
    incident = _get_incident(pk)
    form = forms.UpdateForm(request.POST, incident=incident)
    if not form.is_valid():
        return _again(request, incident, update_form=form)
    data = form.cleaned_data
    entry, failed = _apply(
        request,
        incident,
        lambda: incident.post_update(data["body"], by=request.user, public=data["public"]),
        "update_form",
        form,
    )
    if failed:
        return failed
    messages.success(request, "Posted for the public." if entry.is_public else "Posted for members.")
    return _back(incident, f"#entry-{entry.pk}")


@require_POST
@operator_required
def incident_status(request: HttpRequest, pk):
    incident = _get_incident(pk)
    form = forms.StatusForm(request.POST, incident=incident)
    if not form.is_valid():
        return _again(request, incident, status_form=form)
    was_open = incident.is_open
    data = form.cleaned_data
    entry, failed = _apply(
        request,
        incident,
        lambda: incident.change_status(data["status"], by=request.user, note=data["note"]),
        "status_form",
        form,
    )
    if failed:
        return failed
    if entry is None:
        messages.info(request, f"It was already “{incident.get_status_display()}”.")
    elif not was_open:
        messages.success(request, "Reopened. The status page says so if the incident is public.")
    else:
        messages.success(request, f"Status: {incident.get_status_display()}.")
        _warn_if_still_down(request, incident)
    return _back(incident)


@require_POST
@operator_required
def incident_severity(request: HttpRequest, pk):
    incident = _get_incident(pk)
    form = forms.SeverityForm(request.POST)
    if not form.is_valid():
        return _again(request, incident, severity_form=form)
    if incident.change_severity(form.cleaned_data["severity"], by=request.user):
        messages.success(request, f"Severity: {incident.get_severity_display()}.")
    return _back(incident)


@require_POST
@operator_required
def incident_lead(request: HttpRequest, pk):
    incident = _get_incident(pk)
    if incident.take_lead(by=request.user):
        messages.success(request, "You are leading this incident: others will ask you.")
    else:
        messages.info(request, "You were already leading it.")
    return _back(incident)


@require_POST
@operator_required
def incident_affected(request: HttpRequest, pk):
    incident = _get_incident(pk)
    form = forms.AffectedForm(request.POST)
    if not form.is_valid():
        return _again(request, incident, affected_form=form)
    added = incident.add_affected(by=request.user, machines=form.machines, guests=form.guests)
    if added:
        messages.success(request, f"Added {len(added)} to the affected.")
    else:
        messages.info(request, "Those were already listed.")
    return _back(incident, "#h-affected")


@require_POST
@operator_required
def incident_publish(request: HttpRequest, pk):
    incident = _get_incident(pk)
    form = forms.PublishForm(request.POST)
    if not form.is_valid():
        return _again(request, incident, publish_form=form)
    _, failed = _apply(
        request,
        incident,
        lambda: incident.publish(by=request.user, title=form.cleaned_data["title"]),
        "publish_form",
        form,
    )
    if failed:
        return failed
    messages.success(request, "On the status page. Only updates you mark public are shown there.")
    return _back(incident)


@require_POST
@operator_required
def incident_unpublish(request: HttpRequest, pk):
    incident = _get_incident(pk)
    if incident.unpublish(by=request.user):
        messages.success(request, "Taken off the status page.")
    return _back(incident)


@require_POST
@operator_required
def action_item_add(request: HttpRequest, pk):
    incident = _get_incident(pk)
    form = forms.ActionItemForm(request.POST)
    if not form.is_valid():
        return _again(request, incident, action_form=form)
    data = form.cleaned_data
    _, failed = _apply(
        request,
        incident,
        lambda: incident.add_action_item(data["title"], by=request.user, owner=data["owner"], due_on=data["due_on"]),
        "action_form",
        form,
    )
    if failed:
        return failed
    messages.success(request, "Added to what is still to do.")
    return _back(incident, "#h-actions")


@require_POST
@operator_required
def action_item_done(request: HttpRequest, pk, item_pk):
    incident = _get_incident(pk)
    item = get_object_or_404(ActionItem, pk=item_pk, incident=incident)
    if item.is_done:
        messages.info(request, "It was already done.")
    else:
        item.mark_done(by=request.user)
        messages.success(request, f"Done: {item.title}.")
    return _back(incident, "#h-actions")


@require_POST
@operator_required
def incident_resolve(request: HttpRequest, pk):
    """An operator says it is fixed: the incident is resolved (with a summary) and its alert stops."""
    incident = _get_incident(pk)
    form = forms.ResolveForm(request.POST, incident=incident)
    if not form.is_valid():
        return _again(request, incident, resolve_form=form)
    summary = form.cleaned_data["summary"]
    # The public reads this entry when the incident is public: the operator's name is its author, not its text.
    if incident.resolve(by=request.user, note="Resolved.", summary=summary if summary else None) is None:
        messages.info(request, "This incident was already resolved.")
        return _back(incident)
    messages.success(request, "Resolved. Anyone alerted or told about it hears that it is over.")
    _warn_if_still_down(request, incident)
    return _back(incident)


@require_POST
@operator_required
def incident_postmortem(request: HttpRequest, pk):
    incident = _get_incident(pk)
    form = forms.PostmortemForm(request.POST, incident=incident)
    if not form.is_valid():
        return _again(request, incident, postmortem_form=form)
    _, failed = _apply(
        request,
        incident,
        lambda: incident.publish_postmortem(form.cleaned_data["postmortem"], by=request.user),
        "postmortem_form",
        form,
    )
    if failed:
        return failed
    messages.success(request, "Postmortem published on the public page.")
    return _back(incident)


def _warn_if_still_down(request, incident):
    if incident.is_open:
        return
    if _still_down(incident):
        messages.warning(
            request,
            "Its monitors still say down: Switchboard opens a new incident at the next check. To keep it "
            "quiet while you work, add a maintenance window or switch the monitor off in the admin.",
        )


def _still_down(incident):
    machines = Incident.machines.through.objects.filter(incident=incident).values("machine")
    guests = Incident.guests.through.objects.filter(incident=incident).values("guest")
    down = Monitor.objects.filter(is_enabled=True, state=Monitor.State.DOWN)
    return down.filter(Q(machine__in=machines) | Q(guest__in=guests)).exists()
