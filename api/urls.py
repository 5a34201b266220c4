"""The API's URLs, under /api/v1/: one route per object kind (api/views.py), the schema and its docs."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=True)
router.register("sites", views.SiteViewSet, basename="api-site")
router.register("organizations", views.OrganizationViewSet, basename="api-organization")
router.register("people", views.PersonViewSet, basename="api-person")
router.register("contact-methods", views.ContactMethodViewSet, basename="api-contact-method")
router.register("site-access", views.SiteAccessViewSet, basename="api-site-access")
router.register("machines", views.MachineViewSet, basename="api-machine")
router.register("guests", views.GuestViewSet, basename="api-guest")
router.register("ip-addresses", views.IPAddressViewSet, basename="api-ip-address")
router.register("dns-names", views.DNSNameViewSet, basename="api-dns-name")
router.register("services", views.HostedServiceViewSet, basename="api-service")
router.register("monitors", views.MonitorViewSet, basename="api-monitor")
router.register("backup-targets", views.BackupTargetViewSet, basename="api-backup-target")
router.register("incidents", views.IncidentViewSet, basename="api-incident")
router.register("timeline-entries", views.TimelineEntryViewSet, basename="api-timeline-entry")
router.register("power-actions", views.PowerActionViewSet, basename="api-power-action")

urlpatterns = [
    # The OpenAPI 3 schema at a stable URL, and its browsable docs (Swagger UI served from static/).
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    # The host agent's report (api/reports.py): one machine's guests as its hypervisor sees them.
    *router.urls,
]
