"""Who may see and do what.

Roles are Django groups so admins manage them in the admin:
- member: reads the inventory and contacts;
- operator: also power actions and incident edits (needs MFA);
- admin: a superuser.
Anonymous visitors reach only the login pages and the public status pages.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

MEMBERS = "Members"
OPERATORS = "Operators"


def _groups(user):
    # Cached per request: many templates ask.
    if not hasattr(user, "_switchboard_groups"):
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
