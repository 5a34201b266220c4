"""Behind the co-op's TLS proxy every request comes from the proxy's address. With the number of
trusted proxies set, one person's bad logins lock out only them, never every volunteer at once."""

import pytest
from django.core.cache import cache
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "tangerine-lantern-42"

PROXY = {"REMOTE_ADDR": "127.0.0.1"}


@pytest.fixture
def member(django_user_model):
    """A volunteer who knows her password."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.models import Group

    from core.access import MEMBERS

    user = django_user_model.objects.create_user("vic", "vic@example.org", PASSWORD)
    user.groups.add(Group.objects.get_or_create(name=MEMBERS)[0])
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture(autouse=True)
def _own_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "proxy"}}
    cache.clear()


def _bad_logins(client, address, times=15):
    for n in range(times):
        client.post(
            reverse("account_login"),
            {"login": f"guess{n}@example.org", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=address,
            **PROXY,
        )


def test_a_guessers_lockout_does_not_lock_out_a_volunteer_behind_the_same_proxy(client, member, settings):
    settings.TRUSTED_PROXY_COUNT = settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    _bad_logins(client, "203.0.113.66")
    locked = client.post(
        reverse("account_login"),
        {"login": "guess0@example.org", "password": "another guess"},
        HTTP_X_FORWARDED_FOR="203.0.113.66",
        **PROXY,
    )
    assert "Too many failed login attempts" in locked.content.decode()  # the guesser is slowed down

    response = client.post(
        reverse("account_login"),
        {"login": member.email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.20",
        **PROXY,
    )
    assert response.status_code == 302 and int(client.session["_auth_user_id"]) == member.pk


def test_without_the_setting_everyone_behind_the_proxy_shares_one_lockout(client, member, settings):
    """What the setting prevents: with it at 0, the proxy's address is everyone's address."""
    settings.TRUSTED_PROXY_COUNT = settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    _bad_logins(client, "203.0.113.66")
    response = client.post(
        reverse("account_login"),
        {"login": member.email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.20",
        **PROXY,
    )
    assert "Too many failed login attempts" in response.content.decode()
