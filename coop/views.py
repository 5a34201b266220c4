"""Pages about the co-op as a whole: the dashboard, search, the public status page,
sites, people and organisations. Machines and guests live in hosts.views, incidents
in incidents.views."""

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Prefetch, Q, Value, When
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from hosts.models import BackupState, BackupTarget, HostedService, Machine, Monitor, Runbook
from incidents.models import Incident, TimelineEntry

from .access import member_required
from .models import ContactMethod, Contract, Organization, Person, Site, SiteAccess
from .page_cache import cached_for_viewer
from .pages import paginate, render_page
from .search import people_to_call
from .search import search as run_search

DASHBOARD_ROWS = 10
DETAIL_ROWS = 25
STATUS_RECENT_DAYS = 7
STATUS_CACHE_SECONDS = 10


def _stale_contact_filter(now=None):
    """Contact methods nobody confirmed within CONTACT_VERIFICATION_MAX_AGE_DAYS."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.CONTACT_VERIFICATION_MAX_AGE_DAYS)
    return Q(verified_at__isnull=True) | Q(verified_at__lt=cutoff)


def people_needing_verification():
    """People with a contact method nobody confirmed lately, or with no way to reach them at all."""
    methods = ContactMethod.objects.filter(person=OuterRef("pk"))
    return Person.objects.filter(Exists(methods.filter(_stale_contact_filter())) | ~Exists(methods))


def machines_down():
    """Machines an enabled monitor reports down."""
    down = Monitor.objects.filter(machine=OuterRef("pk"), is_enabled=True, state=Monitor.State.DOWN)
    return Machine.objects.filter(Exists(down))


def backups_failing():
    """Backup targets whose last check was anything but ok (never-checked ones are not failing yet)."""
    # Listed, not excluded: `state IN (...)` can use the state index, `NOT IN` reads every target.
    failing = [state for state in BackupState if state not in (BackupState.OK, BackupState.UNKNOWN)]
    return BackupTarget.objects.filter(state__in=failing)


ENDED_CONTRACTS_SHOWN_DAYS = 90


def contracts_ending_soon(today=None):
    """Contracts inside their warning window (Contract.is_ending_soon), soonest first."""
    today = today or timezone.localdate()
    # Narrow in SQL to what can possibly be ending soon, then let the model decide.
    # Contracts that ended over three months ago are history, not a warning: without this bound
    # they would fill the first rows and push current ones off the dashboard.
    candidates = Contract.objects.filter(ends_on__gte=today - timedelta(days=ENDED_CONTRACTS_SHOWN_DAYS)).filter(
        Q(ends_on__lte=today + timedelta(days=settings.CONTRACT_WARNING_DAYS))
        | Q(notice_days__gt=settings.CONTRACT_WARNING_DAYS)
    )
    candidates = candidates.select_related("provider", "site").order_by("ends_on")[:200]
    return [contract for contract in candidates if contract.is_ending_soon(today)]


@require_GET
@member_required
@cached_for_viewer
def dashboard(request: HttpRequest):
    open_incidents = Incident.objects.exclude(status=Incident.Status.RESOLVED)
    down = machines_down()
    failing = backups_failing()
    stale_people = people_needing_verification()
    contracts = contracts_ending_soon()
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
    }
    return render(request, "coop/dashboard.html", context)


@require_GET
@member_required
@cached_for_viewer
def search(request: HttpRequest):
    results = run_search(request.GET.get("q", ""))
    context = {"results": results, "big_search": True}
    return render_page(request, "coop/search.html", context, partial="coop/_search_results.html")


@require_GET
def status(request: HttpRequest):
    """The public face: which public services are up, and public incidents. No personal data."""
    page = request.GET.get("page", "1")
    if not page.isdigit():
        return render(request, "coop/status.html", {"body": _status_body(request)})
    # Everyone reloads this page in an outage: its body is rendered once per few seconds
    # (per time zone, since it shows times), not once per visitor.
    key = f"status-body:{timezone.get_current_timezone_name()}:{page[:6]}"
    body = cache.get(key)
    if body is None:
        body = _status_body(request)
        cache.set(key, body, STATUS_CACHE_SECONDS)
    return render(request, "coop/status.html", {"body": body})


def _status_body(request):
    """The status page's content: public services and public incidents, nothing personal."""
    return render_to_string("coop/_status_body.html", _status_context(request), request=request)


def _status_context(request):
    services = HostedService.objects.filter(is_public=True).with_monitor_state().order_by("name", "pk")
    recent = timezone.now() - timedelta(days=STATUS_RECENT_DAYS)
    public_timeline = TimelineEntry.objects.filter(is_public=True).order_by("-at", "-pk")
    incidents = (
        Incident.objects.filter(is_public=True)
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
    }


# --- Sites ---------------------------------------------------------------------------


def _get_site(slug):
    """The site with this slug, or 404."""
    return get_object_or_404(Site, slug=slug)


def access_for_site(site, today=None):
    """Current SiteAccess rows of a site, people who can let themselves in first, with contacts."""
    today = today or timezone.localdate()
    order = [SiteAccess.Kind.BADGE, SiteAccess.Kind.KEY, SiteAccess.Kind.REMOTE_HANDS, SiteAccess.Kind.ESCORT_ONLY]
    rank = Case(*[When(kind=kind, then=Value(i)) for i, kind in enumerate(order)], output_field=IntegerField())
    return (
        SiteAccess.objects.filter(site=site)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .annotate(rank=rank)
        .order_by("rank", "person__name")
        .select_related("person__organization")
        .prefetch_related("person__contact_methods")
    )


@require_GET
@member_required
@cached_for_viewer
def site_list(request: HttpRequest):
    sites = Site.objects.annotate(machine_count=Count("machines", distinct=True)).order_by("name")
    return render_page(
        request, "coop/site_list.html", {"page": paginate(request, sites)}, partial="coop/_site_rows.html"
    )


@require_GET
@member_required
@cached_for_viewer
def site_detail(request: HttpRequest, slug):
    site = _get_site(slug)
    machines = site.machines.with_monitor_state().select_related("owner")
    context = {
        "site": site,
        "access": paginate(request, access_for_site(site)),
        "machines": machines[:DETAIL_ROWS],
        "machine_count": machines.count(),
        "runbooks": Runbook.objects.filter(site=site)[:DETAIL_ROWS],
        "contracts": site.contracts.select_related("provider", "paid_by")[:DETAIL_ROWS],
    }
    return render(request, "coop/site_detail.html", context)


# --- People ----------------------------------------------------------------------------


def _get_person(pk):
    """The person with this id and their contact methods, or 404."""
    return get_object_or_404(people_to_call(), pk=pk)


@require_GET
@member_required
@cached_for_viewer
def person_list(request: HttpRequest):
    people = people_to_call()
    needs_check = request.GET.get("contacts") == "stale"
    if needs_check:
        people = people.filter(pk__in=people_needing_verification().values("pk"))
    if request.GET.get("volunteers") == "1":
        people = people.filter(is_volunteer=True)
    context = {"page": paginate(request, people), "needs_check": needs_check}
    return render_page(request, "coop/person_list.html", context, partial="coop/_person_rows.html")


@require_GET
@member_required
@cached_for_viewer
def person_detail(request: HttpRequest, pk):
    person = _get_person(pk)
    context = {
        "person": person,
        "site_access": person.site_access.select_related("site")[:DETAIL_ROWS],
        "machines": person.administered_machines.with_monitor_state().select_related("site")[:DETAIL_ROWS],
        "guests": person.guests.with_monitor_state().select_related("machine")[:DETAIL_ROWS],
    }
    return render(request, "coop/person_detail.html", context)


# --- Organisations ----------------------------------------------------------------------


def _get_organization(slug):
    """The organisation with this slug, or 404."""
    return get_object_or_404(Organization, slug=slug)


@require_GET
@member_required
@cached_for_viewer
def organization_list(request: HttpRequest):
    organizations = Organization.objects.annotate(guest_count=Count("guests", distinct=True)).order_by("name")
    context = {"page": paginate(request, organizations)}
    return render_page(request, "coop/organization_list.html", context, partial="coop/_organization_rows.html")


@require_GET
@member_required
@cached_for_viewer
def organization_detail(request: HttpRequest, slug):
    organization = _get_organization(slug)
    guests = organization.guests.with_monitor_state().select_related("machine")
    machines = organization.machines.with_monitor_state().select_related("site")
    context = {
        "organization": organization,
        "people": people_to_call().filter(organization=organization)[:DETAIL_ROWS],
        "machines": machines[:DETAIL_ROWS],
        "machine_count": machines.count(),
        "guests": guests[:DETAIL_ROWS],
        "guest_count": guests.count(),
        "services": organization.services.select_related("guest")[:DETAIL_ROWS],
        "contracts": Contract.objects.filter(Q(provider=organization) | Q(paid_by=organization)).select_related(
            "provider", "paid_by"
        )[:DETAIL_ROWS],
    }
    return render(request, "coop/organization_detail.html", context)


# --- Errors ------------------------------------------------------------------------------


def page_not_found(request: HttpRequest, exception):
    """404 that offers a search for what the address named (e.g. the hostname in /machines/<hostname>/)."""
    kwargs = request.resolver_match.kwargs if request.resolver_match else {}
    suggestion = next((str(value) for value in kwargs.values() if not str(value).isdigit()), "")
    context = {"suggestion": suggestion, "request_path": request.path, "big_search": True}
    return render(request, "404.html", context, status=404)
