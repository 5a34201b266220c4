"""Redis is down (stopped, or the machine it ran on is the one that died): volunteers still log in,
pass their second factor and reach the power button; every page that reads the cache fails open.

The cache here is a real Redis client pointed at a port nobody listens on (127.0.0.1:9): every call
fails at once, as with a stopped redis-server. tests/faults/ stops and restarts a real one.
"""

import pytest
from django.urls import reverse

from .test_login_and_mfa import (  # noqa: F401 - the login story's own cast and clock
    PASSWORD,
    _frozen_totp_clock,
    member,
    operator,
    totp_code,
    totp_secret,
)

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:9/0"


@pytest.fixture(autouse=True)
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache_backends.FallbackRedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }


def test_a_member_logs_in(client, member):  # noqa: F811 - fixtures imported above
    response = client.post(reverse("account_login"), {"login": "priya@example.org", "password": PASSWORD})
    assert response.status_code == 302 and int(client.session["_auth_user_id"]) == member.pk
    assert client.get("/").status_code == 200


def test_an_operator_passes_the_second_factor_and_a_used_code_still_works_only_once(client, operator, totp_secret):  # noqa: F811 - fixtures imported above
    client.post(reverse("account_login"), {"login": "wen@example.org", "password": PASSWORD})
    code = totp_code(totp_secret)
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302 and int(client.session["_auth_user_id"]) == operator.pk

    client.post(reverse("account_logout"))
    client.post(reverse("account_login"), {"login": "wen@example.org", "password": PASSWORD})
    again = client.post(reverse("mfa_authenticate"), {"code": code})
    assert "Incorrect code" in again.content.decode()  # replay is still refused (this process remembers)


def test_the_status_page_answers(client):
    assert client.get("/status/").status_code == 200


def test_a_wrong_password_is_still_just_refused(client, member):  # noqa: F811 - fixtures imported above
    response = client.post(reverse("account_login"), {"login": "priya@example.org", "password": "nope"})
    assert response.status_code == 200 and "not correct" in response.content.decode()


def test_a_flood_of_throttle_counters_does_not_evict_what_logins_remember():
    from django.core.cache import cache

    cache.set("allauth.mfa.totp.used?user=1&code=123456", 1, 90)
    for n in range(12_000):  # more counters than the memory keeps
        cache.add(f"switchboard:throttle:ping-client:{n}:1", 1, 60)
    assert cache.get("allauth.mfa.totp.used?user=1&code=123456") == 1
