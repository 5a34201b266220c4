"""The pages that bring every app together, included from switchboard/urls.py: dashboard, search,
the public status pages, machines, guests, sites, people and organisations, and /health/ and /metrics."""

from django.urls import include, path

from .views import directory, gaps, inventory, offline, ops, overview, public

machine_urls = [
    path("", inventory.machine_list, name="machine_list"),
    path("<str:hostname>/", inventory.machine_detail, name="machine_detail"),
]

guest_urls = [
    path("", inventory.guest_list, name="guest_list"),
    path("<str:name>/", inventory.guest_detail, name="guest_detail"),
]

site_urls = [
    path("", directory.site_list, name="site_list"),
    path("<slug:slug>/", directory.site_detail, name="site_detail"),
]

person_urls = [
    path("", directory.person_list, name="person_list"),
    path("<int:pk>/", directory.person_detail, name="person_detail"),
]

# Public, no login (front.views.public): nothing personal, kept a few seconds for everyone.
status_urls = [
    path("", public.status, name="status"),
    path("feed.atom", public.status_feed, name="status_feed"),
    path("badge.svg", public.status_badge, name="status_badge"),
    path("status.json", public.status_json, name="status_json"),
    path("incidents/<slug:slug>/", public.public_incident, name="public_incident"),
    path("incidents/<slug:slug>/feed.atom", public.public_incident_feed, name="public_incident_feed"),
]

organization_urls = [
    path("", directory.organization_list, name="organization_list"),
    path("<slug:slug>/", directory.organization_detail, name="organization_detail"),
]

# For a load balancer, an outside monitor and Prometheus (front.views.ops): no login, never cached.
ops_urls = [
    path("health/", ops.health, name="health"),
    path("metrics", ops.metrics, name="metrics"),  # Prometheus' default metrics_path
]

urlpatterns = [
    path("", overview.dashboard, name="dashboard"),
    path("search/", overview.search, name="search"),
    path("gaps/", gaps.gap_report, name="gap_report"),
    path("status/", include(status_urls)),
    path("machines/", include(machine_urls)),
    path("guests/", include(guest_urls)),
    path("sites/", include(site_urls)),
    path("people/", include(person_urls)),
    path("organizations/", include(organization_urls)),
    *ops_urls,
    # Installing Switchboard and its offline copies (front.views.offline): no login, nothing personal.
    path("manifest.webmanifest", offline.manifest, name="web_manifest"),
    path("sw.js", offline.service_worker, name="service_worker"),
]
