"""Login backends that load the user's roles in the same query as the user.

Every member page asks "is this a member? an operator?" (core.access); loading the answer with
the user saves a query per request, and it is still read afresh on every request, so taking
someone out of a group takes effect at their next click.
"""

from allauth.account import auth_backends
from django.contrib.auth import backends, get_user_model
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef

from core.access import MEMBERS, OPERATORS


def with_roles(users):
    """`users` annotated with in_members_group and in_operators_group (read by core.access)."""
    groups = Group.objects.filter(user=OuterRef("pk"))
    return users.annotate(
        in_members_group=Exists(groups.filter(name=MEMBERS)),
        in_operators_group=Exists(groups.filter(name=OPERATORS)),
    )


class RolesWithTheUser:
    def get_user(self, user_id):
        try:
            user = with_roles(get_user_model()._default_manager).get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class ModelBackend(RolesWithTheUser, backends.ModelBackend):
    """Django's backend (the admin's and force_login's), with roles loaded with the user."""


class AuthenticationBackend(RolesWithTheUser, auth_backends.AuthenticationBackend):
    """allauth's backend (login by email), with roles loaded with the user."""
