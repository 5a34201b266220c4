"""In an outage a crowd reloads the public pages: each is rendered once per few seconds and kept
for everyone, keyed only by what changes it, and still served when Redis is down (each process then
keeps its own copy for as long)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coop.models import Person
from core import page_cache
from front.views.public import STATUS_CACHE_SECONDS
from hosts.models import HostedService

from .conftest import PUBLIC_PAGES, PUBLIC_UPDATE

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


def get(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return response, len(queries)


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_a_reload_by_anyone_is_served_without_a_query(client, outage, name):
    path = PUBLIC_PAGES[name](outage.incident)
    first, rendering = get(client, path)

    again, serving = get(client, path)

    assert serving == 0 < rendering
    assert again.content == first.content
    assert again["Cache-Control"] == f"public, max-age={STATUS_CACHE_SECONDS}"


@pytest.mark.parametrize("name", ["status", "public_incident"])
def test_an_anonymous_page_sets_no_cookie_so_proxies_may_share_it(client, outage, name):
    response, _ = get(client, PUBLIC_PAGES[name](outage.incident))

    assert not response.cookies  # no CSRF cookie: there is nothing to post


@pytest.mark.parametrize("name", ["status", "public_incident"])
def test_a_members_copy_names_them_so_only_their_browser_keeps_it(member_client, outage, name):
    response, _ = get(member_client, PUBLIC_PAGES[name](outage.incident))

    assert "Mira" in response.content.decode()  # the header says who is logged in
    assert response["Cache-Control"] == f"private, max-age={STATUS_CACHE_SECONDS}"


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_with_redis_down_every_public_page_still_answers(client, outage, name, settings, monkeypatch):
    monkeypatch.setattr(page_cache, "_cache_down_until", 0.0)  # restored afterwards: other tests use the cache
    # A real Redis client against a port nobody listens on: every cache call fails at once.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    path = PUBLIC_PAGES[name](outage.incident)

    _, rendering = get(client, path)
    again, serving = get(client, path)

    assert rendering > 0 and serving == 0  # rendered once, then this process's own copy for everyone
    assert page_cache._cache_down_until > page_cache.time.monotonic()  # the next requests do not wait on it
    if name in ("status", "public_incident", "public_incident_feed"):
        assert PUBLIC_UPDATE in again.content.decode()


@pytest.fixture
def many_services(outage):
    HostedService.objects.bulk_create(
        HostedService(guest=outage.scene.wiki, name=f"Site {n:03}", url=f"https://site{n}.example.org/", is_public=True)
        for n in range(150)
    )


def test_page_two_shows_the_second_page_of_services(client, many_services):
    html = client.get("/status/?page=2").content.decode()

    assert "Site 149" in html and "Site 000" not in html
    assert "Page 2 of 2" in html
    assert 'href="?page=1"' in html


@pytest.mark.parametrize("page", ["x", "", "-1", "0", "1.5", "²", "%00"])
def test_a_page_that_is_not_a_number_is_the_first_page(client, many_services, page):
    html = client.get(f"/status/?page={page}").content.decode()

    assert "Site 000" in html and "Page 1 of 2" in html


def test_a_page_beyond_the_last_is_the_last(client, many_services):
    html = client.get("/status/?page=99999999999999999999").content.decode()

    assert "Page 2 of 2" in html


def test_one_visitors_parameters_never_reach_anothers_page(client, many_services):
    client.get("/status/?page=2&ref=evil.example&utm_source=x")

    second_visitor, queries = get(client, "/status/?page=2")

    assert queries == 0  # the same kept page
    html = second_visitor.content.decode()
    assert "evil.example" not in html and "utm_source" not in html
    assert 'href="?page=1"' in html


def test_a_bad_page_number_is_served_the_kept_first_page(client, many_services):
    client.get("/status/")

    _, queries = get(client, "/status/?page=x")

    assert queries == 0


def test_a_member_in_another_time_zone_and_the_public_each_get_their_own_times(member_client, client, outage, member):
    Person.objects.filter(pk=outage.scene.noor.pk).update(user=member)  # Noor's zone is America/Los_Angeles
    path = outage.incident.get_public_url()

    members = member_client.get(path).content.decode()
    member_client.logout()
    public = member_client.get(path).content.decode()

    assert " UTC" in public and " UTC" not in members
    assert " PST" in members or " PDT" in members


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_a_head_request_is_answered_as_a_get(client, outage, name):
    # Feed readers and the uptime checkers of the co-op's website ask HEAD first.
    response = client.head(PUBLIC_PAGES[name](outage.incident))

    assert response.status_code == 200
