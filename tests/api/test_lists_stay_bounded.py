"""A script pages through every list: the number of queries does not grow with the co-op, and pages chain."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.models import ApiToken
from api.urls import router
from tests.scene import build_scene, grow

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db

LISTS = [prefix for prefix, _, _ in router.registry]


def queries_for(client, text, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {text}")
    assert response.status_code == 200, response.content
    return len(queries)


@pytest.mark.parametrize("prefix", LISTS)
def test_a_list_costs_the_same_queries_for_a_small_and_a_larger_coop(client, member, prefix):
    _, text = ApiToken.issue(user=member, name="sync", scope="read", lifetime=timedelta(hours=1))
    scene = build_scene()
    small = queries_for(client, text, f"/api/v1/{prefix}/")

    grow(scene, range(1, 8))  # seven more of everything around it
    larger = queries_for(client, text, f"/api/v1/{prefix}/")

    assert larger <= small, f"/api/v1/{prefix}/: {small} queries with a small co-op, {larger} with a larger one"


def test_cursor_pages_chain_through_every_machine_once(client, member):
    _, text = ApiToken.issue(user=member, name="sync", scope="read", lifetime=timedelta(hours=1))
    build_scene(extra=30)
    seen, url = [], "/api/v1/machines/?limit=7"
    while url:
        page = client.get(url, HTTP_AUTHORIZATION=f"Bearer {text}").json()
        seen += [machine["hostname"] for machine in page["results"]]
        url = page["next"]

    assert len(seen) == len(set(seen)) > 30
