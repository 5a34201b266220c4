"""The project's URLs plus one trivial page, the baseline every page is compared with."""

from django.http import HttpResponse
from django.urls import path

from switchboard.urls import handler404  # noqa: F401 - handler404 is read from here
from switchboard.urls import urlpatterns as project_urlpatterns

BARE_PATH = "bench-bare/"


def bare(request):
    """A Django page that does nothing: same server, same middleware, no query, no template."""
    return HttpResponse("ok", content_type="text/plain")


def bare_user(request):
    """The same, but it reads the logged-in user (a session and a user query), as every member page does."""
    return HttpResponse(f"ok {request.user.pk}", content_type="text/plain")


urlpatterns = [
    path(BARE_PATH, bare, name="bench_bare"),
    path("bench-bare-user/", bare_user, name="bench_bare_user"),
    *project_urlpatterns,
]
