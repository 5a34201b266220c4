"""In an outage everyone reloads the machine page: it is rendered once per viewer and kept until
anything changes, and a change shows on the very next reload (core.page_cache)."""

import re

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.session import SessionStorage
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpRequest
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core import page_cache
from core.page_cache import GENERATION_KEY, is_watched_write
from hosts.models import Machine

from .conftest import log_in_with_second_factor
from .scene import WIKI_IPV4, build_scene

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db

# The session, and the user with their roles: what the access check needs before a stored page is served.
QUERIES_FOR_A_STORED_PAGE = 2


@pytest.fixture
def scene():
    return build_scene()


def machine_page(client, scene):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/machines/{scene.machine.hostname}/")
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def csrf_tokens(html):
    return re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html) + re.findall(
        r'"X-CSRFToken": "([^"]+)"', html
    )


def test_a_reload_is_served_from_the_store_with_the_same_page(member_client, scene):
    first, rendering = machine_page(member_client, scene)
    again, serving = machine_page(member_client, scene)

    assert serving <= QUERIES_FOR_A_STORED_PAGE < rendering
    assert csrf_tokens(first) and csrf_tokens(again)
    assert re.sub(r"[A-Za-z0-9]{64}", "TOKEN", first) == re.sub(r"[A-Za-z0-9]{64}", "TOKEN", again)


@pytest.mark.parametrize(
    "change",
    [
        lambda machine: Machine.objects.filter(pk=machine.pk).update(pinned_warning="Stop the wiki's database first"),
        lambda machine: (setattr(machine, "pinned_warning", "Stop the wiki's database first"), machine.save()),
    ],
    ids=["queryset update", "save"],
)
def test_a_change_shows_on_the_next_reload(member_client, scene, change):
    machine_page(member_client, scene)

    change(scene.machine)

    html, queries = machine_page(member_client, scene)
    assert "Stop the wiki&#x27;s database first" in html and queries > QUERIES_FOR_A_STORED_PAGE


def test_a_change_made_with_raw_sql_shows_too(member_client, scene):
    machine_page(member_client, scene)

    with connection.cursor() as cursor:
        cursor.execute("UPDATE hosts_machine SET pinned_warning = %s WHERE id = %s", ["Raw warning", scene.machine.pk])

    assert "Raw warning" in machine_page(member_client, scene)[0]


def test_a_commit_makes_pages_rendered_during_the_transaction_stale(django_capture_on_commit_callbacks, scene):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Machine.objects.filter(pk=scene.machine.pk).update(pinned_warning="Mid-transaction")
        # A page rendered now, by another request, could read the data from before this write.
        during = cache.get(GENERATION_KEY)
    assert cache.get(GENERATION_KEY) != during


def test_writes_to_co_op_data_make_pages_stale_and_session_writes_do_not():
    assert not is_watched_write('UPDATE "django_session" SET "session_data" = %s')
    assert not is_watched_write('INSERT INTO "django_celery_results_taskresult" ("task_id") VALUES (%s)')
    assert is_watched_write('INSERT INTO "incidents_timelineentry" ("text") VALUES (%s)')
    assert is_watched_write('DELETE FROM "coop_contactmethod" WHERE "id" = %s')
    assert is_watched_write('UPDATE "auth_user" SET "last_login" = %s')
    assert is_watched_write('TRUNCATE "hosts_machine", "hosts_guest" RESTART IDENTITY')
    assert not is_watched_write('SELECT "hosts_machine"."id" FROM "hosts_machine"')


def test_each_viewer_gets_their_own_page(member, operator, scene):
    mira, otto = Client(), Client()
    mira.force_login(member)
    log_in_with_second_factor(otto, operator)

    member_html, _ = machine_page(mira, scene)
    operator_html, _ = machine_page(otto, scene)
    member_again, _ = machine_page(mira, scene)

    assert "Otto" in operator_html and "Otto" not in member_html
    assert "Mira" in member_again and "Otto" not in member_again


def test_a_stored_page_carries_a_token_that_works_for_this_browser(member, scene):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member)
    runbook_page = f"/runbooks/{scene.runbook.pk}/"
    first = browser.get(runbook_page).content.decode()
    with CaptureQueriesContext(connection) as queries:
        stored = browser.get(runbook_page).content.decode()
    assert len(queries) <= QUERIES_FOR_A_STORED_PAGE

    token = csrf_tokens(stored)[0]
    assert token not in first  # a fresh mask each time, never the token of the request that rendered it
    response = browser.post(f"/runbooks/{scene.runbook.pk}/exercised/", {"note": "drill", "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_a_flash_message_is_shown_not_a_stored_page(member_client, scene, settings):
    settings.MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
    runbook_page = f"/runbooks/{scene.runbook.pk}/"
    member_client.get(runbook_page)
    member_client.get(runbook_page)  # stored now

    # A message left for the next page, as a view that wrote nothing would leave it.
    session = member_client.session
    request = HttpRequest()
    request.session = session
    session["_messages"] = SessionStorage(request).serialize_messages([Message(constants.INFO, "Nothing changed")])
    session.save()

    assert "Nothing changed" in member_client.get(runbook_page).content.decode()
    assert "Nothing changed" not in member_client.get(runbook_page).content.decode()


def test_a_new_minute_renders_afresh(member_client, scene, monkeypatch):
    machine_page(member_client, scene)
    now = page_cache.time.time()
    monkeypatch.setattr(page_cache.time, "time", lambda: now + 60)

    assert machine_page(member_client, scene)[1] > QUERIES_FOR_A_STORED_PAGE


def test_zero_seconds_turns_it_off(member_client, scene, settings):
    settings.PAGE_CACHE_SECONDS = 0
    machine_page(member_client, scene)

    assert machine_page(member_client, scene)[1] > QUERIES_FOR_A_STORED_PAGE


def test_pages_still_work_when_the_cache_is_unreachable(member_client, scene, settings, monkeypatch):
    monkeypatch.setattr(page_cache, "_cache_down_until", 0.0)  # restored afterwards: other tests use the cache
    # A real Redis client against a port nobody listens on: every cache call fails at once.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    html, _ = machine_page(member_client, scene)
    assert scene.machine.hostname in html and csrf_tokens(html)

    Machine.objects.filter(pk=scene.machine.pk).update(pinned_warning="Still changes")  # the write is not refused
    assert "Still changes" in machine_page(member_client, scene)[0]
    assert page_cache._cache_down_until > page_cache.time.monotonic()  # the next requests do not wait on it


def test_an_unknown_machine_page_keeps_a_real_token(member_client, scene):
    member_client.get("/machines/nowhere.example.org/")
    response = member_client.get("/machines/nowhere.example.org/")

    assert response.status_code == 404
    assert cache.get(GENERATION_KEY)  # the store was in use
    assert all(len(token) == 64 for token in csrf_tokens(response.content.decode()))


def test_a_member_taken_out_of_the_group_loses_the_stored_page_at_once(member_client, member, scene):
    machine_page(member_client, scene)
    member.groups.clear()

    assert member_client.get(f"/machines/{scene.machine.hostname}/").status_code == 403


def test_a_live_search_result_and_the_whole_page_are_kept_apart(member_client, scene):
    search = f"/search/?q={WIKI_IPV4}"
    part = member_client.get(search, HTTP_HX_REQUEST="true").content.decode()
    whole = member_client.get(search).content.decode()
    part_again = member_client.get(search, HTTP_HX_REQUEST="true").content.decode()

    assert "<html" not in part and "<html" in whole and part_again == part
    assert scene.wiki.name in part


def test_the_back_button_after_live_search_gets_the_whole_page(member_client, scene):
    """htmx restoring history it did not keep asks for the URL with HX-History-Restore-Request: a whole page."""
    search = f"/search/?q={WIKI_IPV4}"
    part = member_client.get(search, HTTP_HX_REQUEST="true").content.decode()  # the live result, stored
    restored = member_client.get(search, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")

    assert "<html" not in part
    assert "<html" in restored.content.decode()


def test_a_deploy_makes_every_stored_page_stale(member_client, scene, monkeypatch):
    machine_page(member_client, scene)
    monkeypatch.setattr(page_cache, "CODE_VERSION", "the next release")

    assert machine_page(member_client, scene)[1] > QUERIES_FOR_A_STORED_PAGE
