"""Pages about the co-op as a whole: the dashboard, search, the public status page and the 404.
Machines and guests are in front.views.inventory; sites, people and organisations in
front.views.directory; incidents in incidents.views."""

from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from alerts.models import Rota
from backups.models import BackupTarget
from coop.models import Contract, Person
from core.access import member_required
from core.page_cache import cached_for_viewer
from core.pages import paginate, render_page
from hosts.models import HostedService, Machine
from incidents.models import Incident, MaintenanceWindow, TimelineEntry
from monitors.watcher import checker_health

from ..search import search as run_search

DASHBOARD_ROWS = 10
ON_CALL_PREFETCH = ["members__person", "overrides__person"]
STATUS_RECENT_DAYS = 7
STATUS_CACHE_SECONDS = 10


@require_GET
@member_required
@cached_for_viewer
def dashboard(request: HttpRequest):
    open_incidents = Incident.objects.exclude(status=Incident.Status.RESOLVED)
    down = Machine.objects.down()
    failing = BackupTarget.objects.failing()
    stale_people = Person.objects.needing_verification()
    contracts = Contract.objects.ending_soon()
    context = {
        "big_search": True,  # the page has its own search box: no second one in the header
        "open_incidents": open_incidents.annotate(machine_count=Count("machines", distinct=True))[:DASHBOARD_ROWS],
        "open_incident_count": open_incidents.count(),
        "machines_down": down.select_related("site", "owner")[:DASHBOARD_ROWS],
        "machines_down_count": down.count(),
        "failing_backups": failing.select_related("machine", "guest")[:DASHBOARD_ROWS],
        "failing_backup_count": failing.count(),
        "contracts": contracts[:DASHBOARD_ROWS],
        "contract_count": len(contracts),
        "stale_people": stale_people.select_related("organization")[:DASHBOARD_ROWS],
        "stale_people_count": stale_people.count(),
        "checker": checker_health(),
        "on_call": [
            (rota, rota.on_call()) for rota in Rota.objects.prefetch_related("members__person", "overrides__person")
        ],
    }
    return render(request, "front/dashboard.html", context)


@require_GET
@member_required
@cached_for_viewer
def search(request: HttpRequest):
    results = run_search(request.GET.get("q", ""))
    context = {"results": results, "big_search": True}
    return render_page(request, "front/search.html", context, partial="front/_search_results.html")


@require_GET
def status(request: HttpRequest):
    """The public face: which public services are up, and public incidents. No personal data."""
    page = request.GET.get("page", "1")
    if not page.isdigit():
        return render(request, "front/status.html", {"body": _status_body(request)})
    # Everyone reloads this page in an outage: its body is rendered once per few seconds
    # (per time zone, since it shows times), not once per visitor.
    key = f"status-body:{timezone.get_current_timezone_name()}:{page[:6]}"
    body = cache.get(key)
    if body is None:
        body = _status_body(request)
        cache.set(key, body, STATUS_CACHE_SECONDS)
    return render(request, "front/status.html", {"body": body})


def _status_body(request):
    """The status page's content: public services and public incidents, nothing personal."""
    return render_to_string("front/_status_body.html", _status_context(request), request=request)


def _status_context(request):
    services = HostedService.objects.filter(is_public=True).with_monitor_state().order_by("name", "pk")
    recent = timezone.now() - timedelta(days=STATUS_RECENT_DAYS)
    # Only a person's words: an entry Switchboard wrote stays private even if marked public.
    public_timeline = TimelineEntry.objects.filter(is_public=True, author__isnull=False).order_by("-at", "-pk")
    incidents = (
        # A title Switchboard wrote may name internal hosts: not shown until a person retitles it.
        Incident.objects.filter(is_public=True, title_by_switchboard=False)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=recent))
        .prefetch_related(Prefetch("timeline", queryset=public_timeline[:20], to_attr="public_timeline"))
        .order_by("-started_at")[:20]
    )
    return {
        "page": paginate(request, services, per_page=100),
        "tally": services.aggregate(
            down=Count("pk", filter=Q(guest_down=True) | Q(machine_down=True)),
            up=Count("pk", filter=Q(guest_up=True, guest_down=False, machine_down=False)),
        ),
        "incidents": incidents,
        "recent_days": STATUS_RECENT_DAYS,
        "checker": checker_health(),
        # Only windows with a note written for the public: the rest name internal hosts.
        "maintenance": MaintenanceWindow.objects.to_announce().order_by("starts_at")[:10],
    }


# --- Errors ------------------------------------------------------------------------------


def page_not_found(request: HttpRequest, exception):
    """404 that offers a search for what the address named (e.g. the hostname in /machines/<hostname>/)."""
    kwargs = request.resolver_match.kwargs if request.resolver_match else {}
    suggestion = next((str(value) for value in kwargs.values() if not str(value).isdigit()), "")
    context = {"suggestion": suggestion, "request_path": request.path, "big_search": True}
    return render(request, "404.html", context, status=404)
