"""Installing Switchboard on a phone and keeping the outage pages there: the web app manifest and the
service worker (static/js/sw.js, registered by static/js/offline.js).

The worker is served from here, not from /static/, because a service worker controls only the pages
under the folder it is served from: at /sw.js it may keep /machines/… and /sites/…. It is read from
disk on each request (a few kilobytes) and marked no-cache, so a deploy's new worker is picked up at
the next page load, not after whitenoise's year-long max-age.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

SERVICE_WORKER = settings.BASE_DIR / "static" / "js" / "sw.js"

# No icon file ships with Switchboard yet: a plain SVG (the brand's initial) stands in.
ICON = (
    "data:image/svg+xml,"
    "%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 512 512'%3E"
    "%3Crect width='512' height='512' rx='96' fill='%231d4ed8'/%3E"
    "%3Ctext x='256' y='340' font-size='280' text-anchor='middle' fill='white' "
    "font-family='sans-serif'%3ES%3C/text%3E%3C/svg%3E"
)


@require_safe
def manifest(request: HttpRequest):
    """The web app manifest: the same for everyone (no login, nothing personal)."""
    start = reverse("dashboard")
    data = {
        "name": "Switchboard",
        "short_name": "Switchboard",
        "description": "Machines, sites and who to call, for the co-op's volunteers.",
        "id": start,
        "start_url": start,
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1d4ed8",
        "icons": [{"src": ICON, "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
    }
    response = JsonResponse(data, content_type="application/manifest+json")
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_safe
def service_worker(request: HttpRequest):
    """static/js/sw.js at the root, so that it may keep the pages under / (see the module's docstring)."""
    response = HttpResponse(SERVICE_WORKER.read_bytes(), content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    # Browsers check for a new worker at most daily whatever this says; no-cache makes each check reach us.
    response["Cache-Control"] = "no-cache"
    return response
