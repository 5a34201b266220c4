"""The error pages: a 404 that offers a search, a 403 that says who may, and a CSRF failure that keeps
what was typed. The 500 is Django's own view with templates/500.html, which needs nothing that may be
what broke (no database, no context, no static manifest). Wired in switchboard/urls.py and settings."""

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponseForbidden
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from core.access import is_member
from core.fields import looks_secret

EXPIRED = "Your session expired or the page was open too long. Reload and try again."
# When the page offers "Send it again", reloading would lose what was typed: say what to do instead.
EXPIRED_RESEND = "Your session expired or the page was open too long. What you typed is below: send it again."
EXPIRED_RESEND_EMPTY = "Your session expired or the page was open too long: send it again."


def page_not_found(request: HttpRequest, exception):
    """404 that offers a search for what the address named (e.g. the hostname in /machines/<hostname>/)."""
    kwargs = request.resolver_match.kwargs if request.resolver_match else {}
    suggestion = next((str(value) for value in kwargs.values() if not str(value).isdigit()), "")
    context = {
        "suggestion": suggestion,
        "request_path": request.path,
        "big_search": True,
        "is_member": is_member(request.user),
    }
    return render(request, "404.html", context, status=404)


def permission_denied(request: HttpRequest, exception):
    """403 with the refusal's own words (core.access says which role it takes) and a way to switch user.

    Every PermissionDenied message is shown to the visitor: write them for people, not developers.
    """
    context = {
        "exception": str(exception),
        "is_member": is_member(request.user),
        # After logging out, the login page brings them back here (a GET only: a POST cannot be replayed).
        "come_back_to": request.get_full_path() if request.method == "GET" else "",
    }
    return render(request, "403.html", context, status=403)


def csrf_failure(request: HttpRequest, reason=""):
    """CSRF_FAILURE_VIEW: a 403 that explains, and offers to send a form from one of our pages again.

    What was posted comes back as hidden fields with a fresh token (the page sets the new cookie),
    shown in words first, without passwords, codes or secrets; a stale login form sends the
    volunteer to log in again instead. A form from another site gets the explanation only: re-sending
    it is exactly what the check is there to stop. Django's `reason` is for developers: DEBUG only.
    """
    if request.htmx:
        # htmx does not swap a 403 in: reload the page (a fresh token) and say why there.
        messages.warning(request, EXPIRED)
        response = HttpResponseForbidden()
        response["HX-Refresh"] = "true"
        return response

    posted, withheld = [], False
    from_here = request.method == "POST" and _from_this_site(request)
    if from_here:
        for name, values in request.POST.lists():
            if name == "csrfmiddlewaretoken":
                continue
            if looks_secret(name):
                withheld = True
                continue
            posted.extend((name, value) for value in values)

    login_url = reverse("account_login")
    context = {
        "expired": EXPIRED,
        "fields": posted,
        "summary": [(_label(name), value) for name, value in posted if value.strip()],
        "withheld": withheld,
        "files_dropped": from_here and bool(request.FILES),
        "back_url": _same_site_referer(request) or reverse("dashboard"),
        "reason": reason if settings.DEBUG else "",
    }
    if request.path == login_url:
        context["login_again_url"] = _login_url(login_url, request.POST.get("next", ""), request)
    elif from_here and not withheld:
        context["resend_to"] = request.get_full_path()
        context["expired"] = EXPIRED_RESEND if context["summary"] else EXPIRED_RESEND_EMPTY
    return render(request, "csrf_failure.html", context, status=403)


def _label(name):
    """A posted field's name as a label a volunteer reads: "confirm_hostname" → "Confirm hostname"."""
    return name.replace("_", " ").strip().capitalize() or name


def _from_this_site(request):
    """True when the browser says the form was on one of our own pages (Sec-Fetch-Site, Origin, else Referer)."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
        return False
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == f"{request.scheme}://{request.get_host()}"
    return _same_site_referer(request) is not None


def _same_site_referer(request):
    """The path (and query) of the page the request came from, if it is one of ours; else None."""
    referer = request.headers.get("Referer", "")
    if not _is_ours(referer, request):
        return None
    parts = urlsplit(referer)
    if not parts.netloc:  # "//" or a bare path is not what a browser sends
        return None
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _login_url(login_url, next_url, request):
    if next_url and _is_ours(next_url, request):
        return f"{login_url}?{urlencode({'next': next_url})}"
    return login_url


def _is_ours(url, request):
    return url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure())
