"""Pages about the co-op as a whole: the dashboard and search.
Machines and guests are in front.views.inventory; sites, people and organisations in
front.views.directory; the public status pages in front.views.public; the error pages in
front.views.errors; incidents in incidents.views."""

from django.db.models import Count
from django.http import HttpRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from alerts.models import Rota
from backups.models import BackupTarget
from coop.models import Contract, Person
from core.access import member_required
from core.page_cache import cached_for_viewer
from core.pages import render_page
from hosts.models import Machine
from incidents.models import Incident
from monitors.watcher import checker_health

from .. import gaps
from ..search import search as run_search

DASHBOARD_ROWS = 10
ON_CALL_PREFETCH = ["members__person", "overrides__person"]


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
        "gap_score": gaps.score(),
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
