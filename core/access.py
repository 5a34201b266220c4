"""Who may see and do what.

Roles are Django groups so admins manage them in the admin:
- member: reads the inventory and contacts;
- operator: also power actions and incident edits (needs MFA);
- admin: a superuser.
Anonymous visitors reach only the login pages and the public status pages.

How operators are held to MFA (operator_required is the gate; the rest keeps
people from drifting out of it):
- an operator action needs a session that passed a TOTP or recovery code
  (allauth records each authentication step in the session); a session that
  logged in with a password only is sent to enter a code first;
- an operator without an authenticator app is sent to set one up;
- sign-up sends an invited operator straight to the setup page, and logging in
  without one shows a warning with a link to it;
- operators cannot switch their authenticator app off (coop.adapters.MFAAdapter);
  an admin removes them from Operators first, or deletes it in the admin.
"""

import time
from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from core.fields import looks_secret

MEMBERS = "Members"
OPERATORS = "Operators"


def _groups(user):
    # Cached per request: many templates ask.
    if not hasattr(user, "_switchboard_groups"):
        if hasattr(user, "in_members_group"):  # loaded with the user by coop.backends
            roles = ((MEMBERS, user.in_members_group), (OPERATORS, user.in_operators_group))
            user._switchboard_groups = {name for name, belongs in roles if belongs}
        else:
            user._switchboard_groups = set(user.groups.values_list("name", flat=True))
    return user._switchboard_groups


def is_member(user):
    """True for anyone allowed to see private data (members, operators, admins)."""
    return user.is_authenticated and (user.is_superuser or bool(_groups(user) & {MEMBERS, OPERATORS}))


def is_operator(user):
    """True for people allowed to power-cycle machines and edit incidents."""
    return user.is_authenticated and (user.is_superuser or OPERATORS in _groups(user))


def member_required(view):
    """Anonymous → login page; logged in but not a member → 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_member(request.user):
            raise PermissionDenied("Only co-op members can see this page.")
        return view(request, *args, **kwargs)

    return wrapper


def has_totp(user):
    """True when the user has an authenticator app (TOTP) set up."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import is_mfa_enabled

    return user.is_authenticated and is_mfa_enabled(user, [Authenticator.Type.TOTP])


def mfa_verified_at(request):
    """When this session last passed a TOTP or recovery code (a Unix time), or None."""
    from allauth.account.authentication import get_authentication_records

    times = [record["at"] for record in get_authentication_records(request, request.user) if record["method"] == "mfa"]
    return max(times, default=None)


def session_used_mfa(request, within=None):
    """True when this session passed a second factor (at most `within` seconds ago, if given)."""
    at = mfa_verified_at(request)
    if at is None:
        return False
    return within is None or time.time() - at <= within


def operator_required(view=None, *, mfa_within=None):
    """Anonymous → login; not an operator → 403; no TOTP yet → set it up; no code this session → enter one.

    Use as `@operator_required`, or `@operator_required(mfa_within=600)` where
    the code must also be recent (seconds). A power action or an incident edit
    needs this, never just is_operator().
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not is_operator(request.user):
                raise PermissionDenied("Only the co-op's operators can do this.")
            if (refusal := second_factor_refusal(request, mfa_within=mfa_within)) is not None:
                return refusal
            # Through the gate: the setup page's "back to what I was doing" has served.
            request.session.pop(RETURN_TO_SESSION_KEY, None)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator


def second_factor_refusal(request, *, mfa_within=None):
    """None when this session passed a second factor (recently enough); else where to send the user.

    Someone without an authenticator app is sent to set one up; a session that
    logged in with a password only is sent to enter a code. Used by
    operator_required and by the admin site (core.admin_site).
    """
    if not has_totp(request.user):
        messages.warning(request, "This needs an authenticator app. Set one up to continue.")
        request.session[RETURN_TO_SESSION_KEY] = _hold_what_was_typed(request)
        return _redirect(request, reverse("mfa_activate_totp"))
    if not session_used_mfa(request, within=mfa_within):
        messages.info(request, "Enter a code from your authenticator app to continue.")
        query = urlencode({REDIRECT_FIELD_NAME: _hold_what_was_typed(request)})
        return _redirect(request, f"{reverse('mfa_reauthenticate')}?{query}")
    return None


# Where to go back to after setting up an authenticator app (the recovery-codes page offers it).
RETURN_TO_SESSION_KEY = "switchboard_return_to"
_HELD_FORM_SESSION_KEY = "switchboard_held_form"
# A form typed before a code was asked for waits this long (seconds) for the volunteer to come back.
HELD_FORM_SECONDS = 900
_HELD_FORM_MAX_CHARS = 20_000
# Never kept: the CSRF token, anything that may be a secret (core.fields.looks_secret), and the typed
# hostname (it must be typed again: that is its point).
_NEVER_HELD = ("csrfmiddlewaretoken", "confirm_hostname")
_HELD_FORM_MAX_FIELDS = 50


def _hold_what_was_typed(request):
    """Keep a refused POST's fields in the session for the page it came from, and return that page's path.

    At 3 a.m. a stale code must not cost the volunteer the reason and hostname they typed:
    held_form_data() gives them back when the form page is opened again. Passwords, codes and
    tokens are never kept.
    """
    back = _back_to(request)
    if request.method == "POST":
        fields = {
            name: values for name, values in request.POST.lists() if name not in _NEVER_HELD and not looks_secret(name)
        }
        size = sum(len(name) + sum(len(value) for value in values) for name, values in fields.items())
        if size <= _HELD_FORM_MAX_CHARS and len(fields) <= _HELD_FORM_MAX_FIELDS:
            path = urlsplit(back).path
            request.session[_HELD_FORM_SESSION_KEY] = {"path": path, "fields": fields, "at": time.time()}
    return back


def held_form_data(request):
    """What the volunteer typed into this page's form before a second-factor detour, as a form's `initial`; else {}.

    Given back once, to the page the form was posted from, within HELD_FORM_SECONDS.
    """
    held = request.session.get(_HELD_FORM_SESSION_KEY)
    if not held or held.get("path") != request.path:
        return {}
    del request.session[_HELD_FORM_SESSION_KEY]
    if time.time() - held.get("at", 0) > HELD_FORM_SECONDS:
        return {}
    return {name: values[0] if len(values) == 1 else values for name, values in held["fields"].items()}


def return_to_after_setup(request):
    """The page an operator was sent to set up an authenticator app from (a local path), or ""."""
    path = request.session.get(RETURN_TO_SESSION_KEY, "")
    if url_has_allowed_host_and_scheme(path, allowed_hosts=set()) and path.startswith("/"):
        return path
    return ""


def _back_to(request):
    # After the code, a POST cannot be replayed as a GET: go back to the page with the button.
    if request.method == "GET":
        return request.get_full_path()
    referer = request.headers.get("referer", "")
    if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        parts = urlsplit(referer)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path.startswith("/") and not path.startswith(("//", "/\\")):
            return path
    return "/"


def _redirect(request, url):
    # An htmx request would swap the code page into a fragment: make the browser go there instead.
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)
