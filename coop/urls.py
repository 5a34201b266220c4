"""Every URL of Switchboard, grouped by object. Grep here to find a page's view."""

from django.contrib import admin
from django.urls import include, path

from . import invitation_views

invitation_urls = [
    path("<str:token>/", invitation_views.accept_invitation, name="invitation"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("invitations/", include(invitation_urls)),
    # Pages: grep these modules for a page's URL and view.
    path("", include("coop.page_urls")),
    path("", include("hosts.urls")),
    path("", include("incidents.urls")),
]

# Unknown hostnames and the like: a 404 that offers to search for what was asked.
handler404 = "coop.views.page_not_found"
