"""The shared cast and settings for Switchboard's tests.

Tests run on PostgreSQL when DATABASE_URL is set (CI sets it) and on SQLite
otherwise. SWITCHBOARD_REQUIRE_SERVICES=1 (set by .ci/run) turns any missing
service or peer into a failure instead of a skip.
"""

import os

import pytest

REQUIRE_SERVICES = os.environ.get("SWITCHBOARD_REQUIRE_SERVICES") == "1"


def service_missing(why):
    """Skip on a developer laptop without the service; fail in CI, where it must be there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {why}")
    pytest.skip(why)


@pytest.fixture(autouse=True)
def _plain_http_settings(settings):
    # Production defaults redirect to HTTPS and use hashed static names; the
    # test client speaks plain HTTP and nobody ran collectstatic.
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def admin_user(django_user_model):
    """Ada, a co-op admin: a superuser who keeps the inventory."""
    return django_user_model.objects.create_superuser(
        username="ada", email="ada@example.org", password="correct horse battery"
    )


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client
