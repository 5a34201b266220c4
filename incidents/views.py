"""Incident pages for members: the list, and one incident with its whole timeline."""

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST

from core.access import is_operator, member_required, operator_required
from core.page_cache import cached_for_viewer
from core.pages import paginate, render_page
from hosts.models import Monitor

from .models import Incident

DETAIL_ROWS = 50
TIMELINE_PAGE = 100


def _get_incident(pk):
    """The incident with this id, or 404."""
    return get_object_or_404(Incident.objects.select_related("created_by"), pk=pk)


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
    context = {"page": paginate(request, incidents), "shown": shown}
    return render_page(request, "incidents/incident_list.html", context, partial="incidents/_incident_rows.html")


@require_GET
@member_required
@cached_for_viewer
def incident_detail(request: HttpRequest, pk):
    incident = _get_incident(pk)
    affected_guests = incident.affected_guests().with_monitor_state().select_related("machine", "owner")
    timeline = incident.timeline.select_related("author").order_by("at", "pk")
    context = {
        "incident": incident,
        "machines": incident.machines.with_monitor_state().select_related("site")[:DETAIL_ROWS],
        "guests": affected_guests[:DETAIL_ROWS],
        "guest_count": incident.affected_guest_count(),
        "owners": incident.affected_owners()[:DETAIL_ROWS],
        "timeline": paginate(request, timeline, per_page=TIMELINE_PAGE),
        "action_items": incident.action_items.select_related("owner"),
        "can_resolve": is_operator(request.user),
    }
    return render_page(request, "incidents/incident_detail.html", context, partial="incidents/_timeline.html")


@require_POST
@operator_required
def incident_resolve(request: HttpRequest, pk):
    """An operator says it is fixed: the incident is resolved and its alert stops."""
    incident = _get_incident(pk)
    if incident.is_open:
        name = request.user.get_full_name() or request.user.get_username()
        incident.resolve(by=request.user, note=f"Resolved by {name} from the incident page.")
        messages.success(request, "Resolved. Everyone who was alerted hears it is over.")
        if _still_down(incident):
            messages.warning(
                request,
                "Its monitors still say down: Switchboard opens a new incident at the next check. To keep it "
                "quiet while you work, add a maintenance window or switch the monitor off in the admin.",
            )
    else:
        messages.info(request, "This incident was already resolved.")
    return redirect(incident)


def _still_down(incident):
    machines = Incident.machines.through.objects.filter(incident=incident).values("machine")
    guests = Incident.guests.through.objects.filter(incident=incident).values("guest")
    down = Monitor.objects.filter(is_enabled=True, state=Monitor.State.DOWN)
    return down.filter(Q(machine__in=machines) | Q(guest__in=guests)).exists()
