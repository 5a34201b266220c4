"""The directory's pages: sites (with who can get in and what runs there), people and organisations."""

from django.db.models import Count, Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from coop.models import Contract, Organization, Person, Site, SiteAccess, first_to_call
from core.access import member_required
from core.page_cache import cached_for_viewer
from core.pages import paginate, render_page
from hosts.models import Runbook

DETAIL_ROWS = 25

# --- Sites ---------------------------------------------------------------------------


def _get_site(slug):
    """The site with this slug, or 404."""
    return get_object_or_404(Site, slug=slug)


@require_GET
@member_required
@cached_for_viewer
def site_list(request: HttpRequest):
    sites = Site.objects.annotate(machine_count=Count("machines", distinct=True)).order_by("name")
    return render_page(
        request, "front/site_list.html", {"page": paginate(request, sites)}, partial="front/_site_rows.html"
    )


@require_GET
@member_required
@cached_for_viewer
def site_detail(request: HttpRequest, slug):
    site = _get_site(slug)
    machines = site.machines.with_monitor_state().select_related("owner")
    roster = SiteAccess.objects.roster(site)
    access = paginate(request, roster)
    # The first screen's person to call is the roster's first (not the viewer), whichever page of it is shown.
    first_access = first_to_call(roster[:2], request.user)
    context = {
        "site": site,
        "access": access,
        "first_access": first_access,
        "machines": machines[:DETAIL_ROWS],
        "machine_count": machines.count(),
        "runbooks": Runbook.objects.filter(site=site)[:DETAIL_ROWS],
        "contracts": site.contracts.select_related("provider", "paid_by")[:DETAIL_ROWS],
    }
    return render(request, "front/site_detail.html", context)


# --- People ----------------------------------------------------------------------------


def _get_person(pk):
    """The person with this id and their contact methods, or 404."""
    return get_object_or_404(Person.objects.to_call(), pk=pk)


@require_GET
@member_required
@cached_for_viewer
def person_list(request: HttpRequest):
    people = Person.objects.to_call()
    needs_check = request.GET.get("contacts") == "stale"
    if needs_check:
        people = people.filter(pk__in=Person.objects.needing_verification().values("pk"))
    if request.GET.get("volunteers") == "1":
        people = people.filter(is_volunteer=True)
    context = {"page": paginate(request, people), "needs_check": needs_check}
    return render_page(request, "front/person_list.html", context, partial="front/_person_rows.html")


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
    return render(request, "front/person_detail.html", context)


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
    return render_page(request, "front/organization_list.html", context, partial="front/_organization_rows.html")


@require_GET
@member_required
@cached_for_viewer
def organization_detail(request: HttpRequest, slug):
    organization = _get_organization(slug)
    guests = organization.guests.with_monitor_state().select_related("machine")
    machines = organization.machines.with_monitor_state().select_related("site")
    context = {
        "organization": organization,
        "people": Person.objects.to_call().filter(organization=organization)[:DETAIL_ROWS],
        "machines": machines[:DETAIL_ROWS],
        "machine_count": machines.count(),
        "guests": guests[:DETAIL_ROWS],
        "guest_count": guests.count(),
        "services": organization.services.select_related("guest")[:DETAIL_ROWS],
        "contracts": Contract.objects.filter(Q(provider=organization) | Q(paid_by=organization)).select_related(
            "provider", "paid_by"
        )[:DETAIL_ROWS],
    }
    return render(request, "front/organization_detail.html", context)
