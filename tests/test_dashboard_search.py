"""The dashboard's search box shows results while the volunteer types, as /search/ does, and is a plain
form to /search/ without JavaScript."""

from html.parser import HTMLParser

import pytest

from .factories import make_machine

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


class Elements(HTMLParser):
    """Every element's attributes by id, and each <form> around an element (by the element's id)."""

    def __init__(self, html):
        super().__init__()
        self.by_id, self.form_of, self._form = {}, {}, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = attrs
        if "id" in attrs:
            self.by_id[attrs["id"]] = attrs
            self.form_of[attrs["id"]] = self._form

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def test_the_dashboard_search_asks_for_live_results_beside_a_real_form(member_client):
    page = Elements(member_client.get("/").content.decode())

    box = page.by_id["dash-q"]
    assert box["name"] == "q"
    assert box["hx-get"] == "/search/"
    assert box["hx-trigger"] == "input changed delay:300ms, search"
    assert box["hx-target"] == "#dash-results"
    assert box["hx-push-url"] == "false"  # the dashboard stays the dashboard
    assert "dash-results" in page.by_id  # where the results go
    form = page.form_of["dash-q"]
    assert form["action"] == "/search/" and form["method"] == "get"  # without JavaScript


def test_what_htmx_fetches_for_the_dashboard_is_the_results_alone(member_client):
    make_machine(hostname="kestrel-dom0.colo.example.org")

    response = member_client.get(
        "/search/", {"q": "kestrel"}, headers={"HX-Request": "true", "HX-Target": "dash-results"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="/machines/kestrel-dom0.colo.example.org/"' in html
    assert "<html" not in html and "<form" not in html  # no page in the page


def test_without_javascript_the_dashboard_search_opens_the_search_page(member_client):
    make_machine(hostname="kestrel-dom0.colo.example.org")

    html = member_client.get("/search/", {"q": "kestrel"}).content.decode()

    assert "<html" in html and 'href="/machines/kestrel-dom0.colo.example.org/"' in html
