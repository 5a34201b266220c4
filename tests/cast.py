"""The cast for page tests: who visits. Load it with `pytest_plugins = ["tests.cast"]`.

Roles are the groups of core.access; the admin is tests/conftest.py's `admin_user`.
"""

import pytest
from django.contrib.auth.models import Group

from core.access import MEMBERS, OPERATORS

from .scene import build_scene


def make_user(django_user_model, username, group=None, password=None, **extra):
    """A user in `group` (created if the database does not have it yet).

    Without a password (tests log in with force_login), which skips the slow hashing.
    """
    user = django_user_model.objects.create_user(
        username=username, email=f"{username}@example.org", password=password, **extra
    )
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def member(django_user_model):
    """Mira, a co-op member: reads the inventory and contacts."""
    return make_user(django_user_model, "mira", MEMBERS, first_name="Mira")


@pytest.fixture
def operator(django_user_model):
    """Otto, an operator: also power actions and incident edits."""
    return make_user(django_user_model, "otto", OPERATORS, first_name="Otto")


@pytest.fixture
def outsider(django_user_model):
    """Olga has a login but is in no group: she may see only what the public sees."""
    return make_user(django_user_model, "olga")


@pytest.fixture
def admin(django_user_model):
    """Ada, a co-op admin (a superuser in no group)."""
    return make_user(django_user_model, "ada", is_superuser=True, is_staff=True)


@pytest.fixture
def operator_client(client, operator):
    """An operator's browser that passed their authenticator code this session."""
    from tests.conftest import log_in_with_second_factor

    return log_in_with_second_factor(client, operator)


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def scene(db):
    """The dom0-down co-op (tests/scene.py)."""
    return build_scene()
