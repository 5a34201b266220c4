"""Odd input in addresses and filters gives a clean page (or a clean 404), never an error.

PostgreSQL refuses NUL characters, so these run on both databases in CI.
"""

import pytest

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db

LONG = "x" * 10_000


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/machines/?q=%00", 200),
        ("/machines/?site=%00&state=%00", 200),
        ("/machines/?q=%27%20OR%201%3D1%20--", 200),
        (f"/machines/?q={LONG}", 200),
        ("/guests/?owner=%00&machine=%00&q=%3Cscript%3E", 200),
        ("/runbooks/?q=%00", 200),
        ("/people/?contacts=%00&page=%00", 200),
        ("/incidents/?status=%00&page=-1", 200),
        ("/backups/?state=%3Cb%3E", 200),
        ("/status/?page=%00", 200),
        ("/machines/%00/", 404),
        ("/machines/%3Cscript%3E/", 404),
        (f"/machines/{LONG}/", 404),
        ("/guests/%00/", 404),
        ("/guests/..%2F..%2Fetc/", 404),
        ("/runbooks/999999/", 404),
        ("/incidents/999999/", 404),
        ("/sites/no-such-site/", 404),
        ("/organizations/no-such-org/", 404),
    ],
)
def test_odd_addresses_and_filters_give_a_clean_page(member_client, scene, path, status):
    response = member_client.get(path)
    assert response.status_code == status
    assert "<script>" not in response.content.decode()


@pytest.mark.parametrize("query", ["machine=%00", "guest=nope.example.org", "site=%3Cscript%3E"])
def test_a_runbook_for_something_that_does_not_exist_is_a_clean_404(operator_client, scene, query):
    response = operator_client.get(f"/runbooks/new/?{query}")
    assert response.status_code == 404
    assert "<script>" not in response.content.decode()


def test_a_404_for_an_unknown_guest_offers_to_search_for_it(member_client, scene):
    response = member_client.get("/guests/old-blog.example.org/")
    assert response.status_code == 404
    assert 'value="old-blog.example.org"' in response.content.decode()
