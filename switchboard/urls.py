"""Every URL of Switchboard, grouped by object. Grep here to find a page's view."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from coop import invitation_views

invitation_urls = [
    path("<str:token>/", invitation_views.accept_invitation, name="invitation"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("invitations/", include(invitation_urls)),
    # Pages: grep these modules for a page's URL and view.
    path("", include("front.urls")),
    path("", include("hosts.urls")),
    path("", include("incidents.urls")),
    path("", include("power.urls")),
    path("", include("backups.urls")),
    path("", include("alerts.urls")),
    path("", include("notices.urls")),
    path("", include("coop.urls")),
    # The REST API, its schema and docs (api/urls.py).
    path("api/v1/", include("api.urls")),
    path("", include("api.page_urls")),
]

if settings.DEBUG:
    # The demo's mailbox (`make run`): where its alert emails land. Never on a real installation.
    urlpatterns.append(path("", include("demo.urls")))

# The error pages (front.views.errors). Unknown hostnames and the like: a 404 that offers to search for
# what was asked; a 403 that says which role it takes. The 500 is Django's own view with templates/500.html.
handler404 = "front.views.errors.page_not_found"
handler403 = "front.views.errors.permission_denied"
