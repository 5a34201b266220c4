"""The public face, no login: /status/, one page per public incident, two Atom feeds, and a badge
and JSON for the co-op's own website.

Nothing personal, ever: only what a person wrote for the public (an incident's title, summary,
public updates and published postmortem), the names and URLs of public services, and states. A
timeline entry is public only when it is marked so *and* has an author: Switchboard's own notes
name hosts and addresses. An incident whose title Switchboard wrote is not public at all.

Everyone reloads these in an outage. Each is rendered at most once per STATUS_CACHE_SECONDS and
kept for every visitor (core.page_cache.cached_public, which renders afresh when Redis is down),
keyed only by what changes it: the time zone the times are shown in, the page number (digits,
capped), the incident. HTML pages keep their body; the header around it (members see their
navigation) is rendered per request.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count, Max, OuterRef, Prefetch, Q, Subquery
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, linebreaks
from django.utils.text import Truncator
from django.views.decorators.http import require_safe

from core.page_cache import cached_public
from hosts.models import HostedService, Monitor
from incidents.models import Incident, MaintenanceWindow, TimelineEntry
from monitors.watcher import checker_health

STATUS_RECENT_DAYS = 7
STATUS_CACHE_SECONDS = 10
SERVICES_PER_PAGE = 100
MAX_PAGE = 1000  # ?page= beyond this is the last page anyway: no unbounded set of cache keys
INCIDENTS_SHOWN = 20  # open ones, and again resolved ones, on /status/
UPDATES_SHOWN = 200  # on an incident's public page, newest first
FEED_ITEMS = 20
JSON_COMPONENTS = 500


class Overall(models.TextChoices):
    """The whole co-op in one word, for the badge and status.json; worst first."""

    DOWN = "down", "down"
    INCIDENT = "incident", "incident"
    MAINTENANCE = "maintenance", "maintenance"
    UNKNOWN = "unknown", "unknown"
    UP = "up", "all up"

    @property
    def colour(self):
        return {"down": "red", "incident": "amber", "maintenance": "blue", "unknown": "grey", "up": "green"}[self.value]


# The badge is drawn outside our CSS: the same colours as static/css/switchboard.css.
SVG_FILL = {"red": "#b42318", "amber": "#b54708", "blue": "#175cd3", "grey": "#475467", "green": "#067647"}


def overall_state(*, down, up, total, open_incidents, maintenance_now, checks_stale):
    """Down if a public service is down, else an open public incident, maintenance now, unknown
    (a service not checked, or the checker stopped), or up."""
    if down:
        return Overall.DOWN
    if open_incidents:
        return Overall.INCIDENT
    if maintenance_now:
        return Overall.MAINTENANCE
    if checks_stale or up < total:
        return Overall.UNKNOWN
    return Overall.UP


# --- What the public may read ----------------------------------------------------------------


def public_incidents():
    """Incidents on the status page: marked public, under a title a person wrote."""
    return Incident.objects.filter(is_public=True, title_by_switchboard=False)


def public_updates():
    """Timeline entries the public may read: marked public and written by a person."""
    return TimelineEntry.objects.filter(is_public=True, author__isnull=False)


def public_url(incident):
    """The incident's own public page; for one made public without an address (in the admin), its card on /status/."""
    return incident.get_public_url() or f"{reverse('status')}#incident-{incident.pk}"


def absolute(path):
    """SITE_URL + path: kept responses never carry the Host header of whoever asked first."""
    return settings.SITE_URL + path


def public_services():
    """Services the co-op lists on the status page, each with the state its users see (monitor_state)."""
    return HostedService.objects.filter(is_public=True).with_monitor_state().order_by("name", "pk")


def service_tally(services):
    """How many public services are down, up, and in all (one query)."""
    return services.aggregate(
        down=Count("pk", filter=Q(guest_down=True) | Q(machine_down=True)),
        up=Count("pk", filter=Q(guest_up=True, guest_down=False, machine_down=False)),
        total=Count("pk"),
    )


@dataclass
class Summary:
    """What the badge and status.json say about the co-op as a whole."""

    state: Overall
    tally: dict
    open_incidents: list
    maintenance: list
    checks_stale: bool

    @property
    def text(self):
        if self.state == Overall.DOWN:
            n = self.tally["down"]
            return f"{n} service{'s' if n != 1 else ''} down"
        return {
            Overall.INCIDENT: "Incident in progress",
            Overall.MAINTENANCE: "Planned maintenance in progress",
            Overall.UNKNOWN: (
                "Uptime checks have not run lately: states may be out of date"
                if self.checks_stale
                else "No service is known to be down; some are not checked"
            ),
            Overall.UP: "All services are up",
        }[self.state]

    @property
    def badge_text(self):
        return f"{self.tally['down']} down" if self.state == Overall.DOWN else self.state.label


def summary():
    """The co-op's state now: public services, open public incidents, maintenance, the checker."""
    tally = service_tally(public_services())
    open_incidents = list(public_incidents().filter(resolved_at__isnull=True).order_by("-started_at")[:INCIDENTS_SHOWN])
    maintenance = list(MaintenanceWindow.objects.to_announce().order_by("starts_at")[:10])
    now = timezone.now()
    stale = checker_health(now).stale
    state = overall_state(
        down=tally["down"],
        up=tally["up"],
        total=tally["total"],
        open_incidents=len(open_incidents),
        maintenance_now=any(window.is_open(now) for window in maintenance),
        checks_stale=stale,
    )
    return Summary(state, tally, open_incidents, maintenance, stale)


# --- Serving ---------------------------------------------------------------------------------


def page_number(request):
    """?page= as the number the page shows: digits only, at least 1, at most MAX_PAGE; else 1."""
    raw = request.GET.get("page", "")
    if not (raw.isascii() and raw.isdigit()):
        return 1
    return MAX_PAGE if len(raw) > len(str(MAX_PAGE)) else min(max(int(raw), 1), MAX_PAGE)


def public_headers(response, *, shared=True):
    """Let browsers (and, when `shared`, proxies) keep it as long as we do."""
    scope = "public" if shared else "private"
    response.headers["Cache-Control"] = f"{scope}, max-age={STATUS_CACHE_SECONDS}"
    return response


def render_public_page(request, body, title):
    """The kept `body` inside the site's header, which is rendered for this visitor.

    An anonymous visitor's page sets no CSRF cookie (there is no form to post), so it holds
    nothing of theirs and proxies may share it; a member's names them in the header.
    """
    context = {"body": body, "title": title}
    anonymous = not request.user.is_authenticated
    if anonymous:
        context["csrf_token"] = ""
    return public_headers(render(request, "front/public/page.html", context), shared=anonymous)


def kept_response(key, render_response):
    """A whole response for everyone (feeds, badge, JSON): its content, type and status kept together."""

    def rendered():
        response = render_response()
        return response.status_code, response["Content-Type"], response.content, response.get("Last-Modified")

    status, content_type, content, last_modified = cached_public(key, STATUS_CACHE_SECONDS, rendered)
    response = HttpResponse(content, content_type=content_type, status=status)
    if last_modified:
        response["Last-Modified"] = last_modified
    return public_headers(response)


def for_other_sites(response):
    """The co-op's website may fetch it from its own pages."""
    response["Access-Control-Allow-Origin"] = "*"
    return response


# --- /status/ --------------------------------------------------------------------------------


@require_safe  # GET and HEAD (feed readers and uptime checkers ask HEAD)
def status(request: HttpRequest):
    """The public face: which public services are up, public incidents, planned maintenance."""
    # Past the last page is the last page, under one key: a visitor cannot make a key per number.
    number = min(page_number(request), _status_pages())
    key = f"status:{timezone.get_current_timezone_name()}:{number}"
    body = cached_public(key, STATUS_CACHE_SECONDS, lambda: _status_body(number))
    return render_public_page(request, body, "Status")


def _status_pages():
    """How many pages of public services /status/ has (kept as long as the page itself)."""
    return cached_public(
        "status-pages",
        STATUS_CACHE_SECONDS,
        lambda: max(1, -(-HostedService.objects.filter(is_public=True).count() // SERVICES_PER_PAGE)),
    )


def _status_body(number):
    # No request here: nothing of the visitor's (their other query parameters) may enter a kept body.
    return render_to_string("front/public/_status_body.html", _status_context(number))


def _status_context(number):
    services = public_services()
    recent = timezone.now() - timedelta(days=STATUS_RECENT_DAYS)
    latest = Prefetch("timeline", queryset=public_updates().order_by("-at", "-pk")[:1], to_attr="latest_updates")
    incidents = public_incidents().prefetch_related(latest).order_by("-started_at")
    page = Paginator(services, SERVICES_PER_PAGE).get_page(number)
    return {
        "page": page,
        "tally": service_tally(services),
        "open_incidents": incidents.filter(resolved_at__isnull=True)[:INCIDENTS_SHOWN],
        "resolved_incidents": incidents.filter(resolved_at__gte=recent)[:INCIDENTS_SHOWN],
        "recent_days": STATUS_RECENT_DAYS,
        "checker": checker_health(),
        # Only windows with a note written for the public: the rest name internal hosts.
        "maintenance": MaintenanceWindow.objects.to_announce().order_by("starts_at")[:10],
    }


# --- /status/incidents/<slug>/ -----------------------------------------------------------------


def _get_public_incident(slug):
    """The public incident at this address, or 404 (not public, or a title Switchboard wrote)."""
    incident = public_incidents().filter(public_slug=slug).first()
    if incident is None:
        raise Http404("No public incident at this address.")
    return incident


@require_safe
def public_incident(request: HttpRequest, slug):
    """One incident as the public reads it: status, times, summary, public updates (newest first), postmortem."""
    key = f"incident:{timezone.get_current_timezone_name()}:{slug}"
    body, title = cached_public(key, STATUS_CACHE_SECONDS, lambda: _incident_body(slug))
    return render_public_page(request, body, title)


def _incident_body(slug):
    incident = _get_public_incident(slug)
    updates = public_updates().filter(incident=incident).order_by("-at", "-pk")
    context = {
        "incident": incident,
        "updates": updates[:UPDATES_SHOWN],
        "update_count": updates.count(),
        "updates_shown": UPDATES_SHOWN,
        "show_postmortem": bool(incident.postmortem_published_at and incident.postmortem),
    }
    return render_to_string("front/public/_incident_body.html", context), incident.title


# --- Atom feeds ----------------------------------------------------------------------------------


class PublicAtomFeed(Atom1Feed):
    """Atom whose <updated> is the last public change we pass in (`updated=`), not the time it was rendered."""

    def latest_post_date(self):
        return self.feed.get("updated") or super().latest_post_date()


def _feed_text(text):
    """Plain text a person wrote, as the HTML an Atom summary carries."""
    return linebreaks(escape(text))


class IncidentsFeed(Feed):
    """/status/feed.atom: public incidents, newest first, each updated at its last public change."""

    feed_type = PublicAtomFeed
    title = "Service status: incidents"

    def link(self):
        return absolute(reverse("status"))

    def feed_url(self):
        return absolute(reverse("status_feed"))

    def author_name(self):
        return _publisher()

    def items(self):
        # A subquery per incident listed (through the (incident, at) index), not a GROUP BY over all of them.
        last_update = public_updates().filter(incident=OuterRef("pk")).order_by("-at").values("at")[:1]
        return (
            public_incidents()
            .annotate(last_update_at=Subquery(last_update))
            .order_by("-started_at", "-pk")[:FEED_ITEMS]
        )

    def item_title(self, incident):
        return f"{incident.title} ({incident.get_status_display()})"

    def item_description(self, incident):
        return _feed_text(incident.summary or incident.get_status_display())

    def item_link(self, incident):
        return absolute(public_url(incident))

    def item_pubdate(self, incident):
        return incident.started_at

    def item_updateddate(self, incident):
        return _last_public_change(incident, incident.last_update_at)


class IncidentUpdatesFeed(Feed):
    """/status/incidents/<slug>/feed.atom: that incident's public updates, newest first."""

    feed_type = PublicAtomFeed

    def get_object(self, request, slug):
        return _get_public_incident(slug)

    def title(self, incident):
        return f"{incident.title}: updates"

    def link(self, incident):
        return absolute(public_url(incident))

    def feed_url(self, incident):
        return absolute(reverse("public_incident_feed", args=[incident.public_slug]))

    def author_name(self):
        return _publisher()

    def feed_extra_kwargs(self, incident):
        last = public_updates().filter(incident=incident).aggregate(at=Max("at"))["at"]
        return {"updated": _last_public_change(incident, last)}

    def items(self, incident):
        return (
            public_updates().filter(incident=incident).select_related("incident").order_by("-at", "-pk")[:UPDATES_SHOWN]
        )

    def item_title(self, entry):
        first_line = entry.body.strip().splitlines()[0] if entry.body.strip() else "Update"
        return Truncator(first_line).chars(80)

    def item_description(self, entry):
        return _feed_text(entry.body)

    def item_link(self, entry):
        return absolute(f"{reverse('public_incident', args=[entry.incident.public_slug])}#update-{entry.pk}")

    def item_pubdate(self, entry):
        return entry.at

    def item_updateddate(self, entry):
        return entry.at


def _last_public_change(incident, last_update_at):
    """When the public last saw it change: started, a public update, resolved, postmortem published."""
    times = [incident.started_at, last_update_at, incident.resolved_at, incident.postmortem_published_at]
    return max(t for t in times if t is not None)


def _publisher():
    """The feeds' author: the status page's own address, never a person."""
    return settings.SITE_URL.split("://", 1)[-1]


_incidents_feed = IncidentsFeed()
_incident_updates_feed = IncidentUpdatesFeed()


@require_safe
def status_feed(request: HttpRequest):
    return kept_response("feed", lambda: _incidents_feed(request))


@require_safe
def public_incident_feed(request: HttpRequest, slug):
    return kept_response(f"incident-feed:{slug}", lambda: _incident_updates_feed(request, slug=slug))


# --- For the co-op's website: a badge and JSON -----------------------------------------------------


@require_safe
def status_badge(request: HttpRequest):
    """A small SVG: "status | all up" green, "2 down" red, "incident" amber..."""

    def draw():
        state = summary()
        text = state.badge_text
        # Rough text widths for an 11 px sans-serif: the badge needs no font metrics to read well.
        label_width, value_width = 46, 12 + 7 * len(text)
        context = {
            "text": text,
            "fill": SVG_FILL[state.state.colour],
            "label_width": label_width,
            "value_width": value_width,
            "width": label_width + value_width,
            "label_x": label_width // 2,
            "value_x": label_width + value_width // 2,
            "description": state.text,
        }
        svg = render_to_string("front/public/badge.svg", context)
        return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")

    response = for_other_sites(kept_response("badge", draw))
    # Opened on its own, the SVG is a document: it may run nothing and load nothing.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@require_safe
def status_json(request: HttpRequest):
    """The overall state, public services with their state, open public incidents and maintenance."""

    def build():
        state = summary()
        services = public_services()[:JSON_COMPONENTS]
        data = {
            "state": state.state.value,
            "description": state.text,
            "page": absolute(reverse("status")),
            "generated_at": timezone.now().isoformat(),
            "components_count": {
                "total": state.tally["total"],
                "down": state.tally["down"],
                "up": state.tally["up"],
                "unknown": state.tally["total"] - state.tally["down"] - state.tally["up"],
            },
            "components": [
                {"name": s.name, "url": s.url, "state": Monitor.State(s.monitor_state).value} for s in services
            ],
            "incidents": [
                {
                    "title": incident.title,
                    "status": incident.status,
                    "status_label": incident.get_status_display(),
                    "severity": incident.severity,
                    "started_at": incident.started_at.isoformat(),
                    "url": absolute(public_url(incident)),
                }
                for incident in state.open_incidents
            ],
            "maintenance": [
                {
                    "note": window.public_note,
                    "starts_at": window.starts_at.isoformat(),
                    "ends_at": window.ends_at.isoformat(),
                    "in_progress": window.is_open(),
                }
                for window in state.maintenance
            ],
        }
        return JsonResponse(data)

    return for_other_sites(kept_response("json", build))
