"""Every page runs the same number of SQL queries for a small and a larger co-op.

A page that queries once per row (an N+1) shows up here as a count that grows with the
data. The larger co-op has 60 more machines, guests, people, contacts, incidents,
timeline entries, backups and runbooks, hung off the very objects the pages show.
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .scene import WIKI_IPV4, build_scene, grow
from .test_access_matrix import PAGES

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db

NOT_OURS = {"invitation"}  # allauth/invitation pages are measured by their own tests
EXTRA_REQUESTS = {
    "search (by name)": ("/search/?q=vps", {}),
    "search (htmx partial)": (f"/search/?q={WIKI_IPV4}", {"HTTP_HX_REQUEST": "true"}),
    "machine list (down only)": ("/machines/?state=down", {}),
    "people needing a check": ("/people/?contacts=stale", {}),
    "all incidents": ("/incidents/?status=all", {}),
    "failing backups": ("/backups/?state=failing", {}),
}
LARGER_BY = 60


def requests_for(scene):
    pages = {
        name: (page.path(scene), {})
        for name, page in PAGES.items()
        # Operator-only pages (power actions) answer a member with 403: nothing to count.
        if page.method == "get" and name not in NOT_OURS and page.expect["member"] == 200
    }
    return {**pages, **EXTRA_REQUESTS}


def count_queries(client, requests):
    counts = {}
    for name, (path, headers) in requests.items():
        cache.clear()  # count the work of rendering, not a body the status page kept from before
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, **headers)
        assert response.status_code == 200, f"{name}: {path} gave {response.status_code}"
        counts[name] = len(queries)
    return counts


def test_every_page_runs_the_same_number_of_queries_for_a_larger_coop(member_client):
    scene = build_scene()
    requests = requests_for(scene)
    member_client.get("/")  # the session's first page also looks up the viewer's time zone, once
    small = count_queries(member_client, requests)

    grow(scene, range(1, LARGER_BY + 1))
    large = count_queries(member_client, requests)

    differ = {name: (small[name], large[name]) for name in small if small[name] != large[name]}
    assert not differ, f"queries (small, large) differ: {differ}"
    print("queries per page:", small)


def test_the_machine_page_stays_within_its_budget(member_client):
    scene = build_scene(extra=5)
    member_client.get("/")  # the session's first page also looks up the viewer's time zone, once
    counts = count_queries(member_client, {"machine": (f"/machines/{scene.machine.hostname}/", {})})
    # Session, user and groups, then one query per section: raise this only for a new section.
    assert counts["machine"] <= 25, counts
