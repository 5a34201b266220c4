"""Every list is paginated, keeps its filters across pages, and htmx gets just the rows."""

import pytest

from .scene import build_scene

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def big_scene(db, monkeypatch):
    # Small pages instead of a big co-op: the same code paths, a fraction of the rows.
    monkeypatch.setattr("core.pages.PAGE_SIZE", 5)
    return build_scene(extra=6)


@pytest.mark.parametrize("path", ["/machines/", "/guests/", "/people/", "/organizations/", "/backups/", "/runbooks/"])
def test_a_long_list_is_split_into_pages(member_client, big_scene, path):
    first = member_client.get(path).content.decode()
    assert "Page 1 of " in first and 'rel="next" href="?page=2"' in first
    second = member_client.get(path, {"page": 2}).content.decode()
    assert "Page 2 of " in second and 'rel="prev" href="?page=1"' in second
    assert member_client.get(path, {"page": "999"}).status_code == 200  # the last page, not an error
    assert member_client.get(path, {"page": "x'--"}).status_code == 200


def test_page_links_keep_the_filter(member_client, big_scene):
    html = member_client.get("/machines/", {"q": "harbor"}).content.decode()
    assert 'href="?q=harbor&amp;page=2"' in html


def test_filters_narrow_the_machine_list(member_client, big_scene):
    down = member_client.get("/machines/", {"state": "down"}).content.decode()
    assert "dom0.harbor.example.org" in down and "host1.harbor.example.org" not in down
    by_name = member_client.get("/machines/", {"q": "host5"}).content.decode()
    assert "host5.harbor.example.org" in by_name and "dom0" not in by_name


def test_htmx_gets_only_the_rows(member_client, big_scene):
    html = member_client.get("/machines/", {"q": "host5"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html and "<form" not in html
    assert "host5.harbor.example.org" in html


def test_a_boosted_htmx_request_gets_the_whole_page(member_client, big_scene):
    html = member_client.get("/machines/", HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true").content.decode()
    assert "<html" in html


def test_guests_of_one_machine(member_client, big_scene):
    html = member_client.get("/guests/", {"machine": "dom0.harbor.example.org"}).content.decode()
    assert "vps3.dom0.harbor.example.org" in html and "vps3.host3.harbor.example.org" not in html
