"""When something goes wrong the volunteer still sees Switchboard: a 404 with a search box, a 403 that
says which role it takes, a 500 that needs nothing that may have broken, and a form refused for a
stale CSRF token comes back with what was typed and a button to send it again."""

from html.parser import HTMLParser

import pytest
from django.db import DatabaseError
from django.test import Client
from django.urls import path

import switchboard.urls
from incidents.models import TimelineEntry

from .conftest import log_in_with_second_factor

pytest_plugins = ["tests.cast"]

EXPIRED = "Your session expired or the page was open too long. Reload and try again."
# When the page offers to send the form again, it says so instead of "Reload".
RESEND = "Your session expired or the page was open too long. What you typed is below: send it again."
SAME_SITE = {"Origin": "http://testserver"}


def _broken_view(request):
    raise DatabaseError("connection to server at 10.0.0.5 failed: password authentication failed for user sb")


# The product's URLs and handlers, plus a page that fails (for the 500 tests, which use this module).
urlpatterns = [*switchboard.urls.urlpatterns, path("test/broken/", _broken_view)]
handler403 = switchboard.urls.handler403
handler404 = switchboard.urls.handler404


class Forms(HTMLParser):
    """The page's <form>s: each one's method, action, its inputs (name → value) and its buttons' words."""

    def __init__(self, html):
        super().__init__()
        self.forms, self._button = [], None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                {"method": attrs.get("method"), "action": attrs.get("action"), "inputs": [], "buttons": []}
            )
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append((attrs.get("name"), attrs.get("value", "")))
        elif tag == "button" and self.forms:
            self._button = ""

    def handle_data(self, data):
        if self._button is not None:
            self._button += data

    def handle_endtag(self, tag):
        if tag == "button" and self._button is not None:
            self.forms[-1]["buttons"].append(self._button.strip())
            self._button = None

    def with_button(self, words):
        return next(form for form in self.forms if words in form["buttons"])


def in_the_product_layout(html):
    return 'class="top-nav"' in html and 'href="/static/css/switchboard.css"' in html


# --- 404 and 403 ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_member_on_a_missing_page_sees_nothing_here_with_a_search_box(member_client):
    response = member_client.get("/machines/gone.example.org/")

    assert response.status_code == 404
    html = response.content.decode()
    assert in_the_product_layout(html) and 'href="/machines/"' in html  # the member's menu
    assert "Nothing here" in html
    search = next(form for form in Forms(html).forms if form["action"] == "/search/")
    assert search["method"] == "get"
    assert ("q", "gone.example.org") in search["inputs"]  # what the address named, ready to search
    assert 'href="/"' in html  # the dashboard


@pytest.mark.django_db
def test_a_visitor_on_a_missing_page_is_offered_the_status_page_and_login(client):
    html = client.get("/nowhere/").content.decode()

    assert "Nothing here" in html and in_the_product_layout(html)
    assert 'href="/status/"' in html and 'href="/accounts/login/"' in html
    assert 'action="/search/"' not in html  # search is for members


@pytest.mark.django_db
def test_a_member_refused_an_operator_action_is_told_who_may(member_client, scene):
    response = member_client.post(f"/incidents/{scene.incident.pk}/update/", {"body": "rebooting"})

    assert response.status_code == 403
    html = response.content.decode()
    assert in_the_product_layout(html)
    assert "Only the co-op&#x27;s operators can do this." in html
    assert 'class="button primary" href="/"' in html  # back to the dashboard
    log_out = Forms(html).with_button("Log out and log in as someone else")
    assert log_out["action"] == "/accounts/logout/" and log_out["method"] == "post"
    assert not TimelineEntry.objects.filter(body="rebooting").exists()


@pytest.mark.django_db
def test_someone_in_no_group_is_told_the_page_is_for_members_and_may_switch_account(client, outsider):
    client.force_login(outsider)
    response = client.get("/machines/")

    assert response.status_code == 403
    html = response.content.decode()
    assert "Only co-op members can see this page." in html and in_the_product_layout(html)
    assert 'href="/"' not in html.split('id="content"', 1)[1]  # no dashboard link: it would refuse her too
    log_out = Forms(html).with_button("Log out and log in as someone else")
    assert ("next", "/accounts/login/?next=/machines/") in log_out["inputs"]  # and back here after


# --- 500 -------------------------------------------------------------------------------------------


@pytest.mark.urls(__name__)
def test_a_server_error_shows_our_page_without_the_database_or_any_detail():
    # No database access allowed in this test: the page must not need one.
    response = Client(raise_request_exception=False).get("/test/broken/")

    assert response.status_code == 500
    html = response.content.decode()
    assert "Something broke on our side" in html
    assert '<link rel="stylesheet" href="/static/css/switchboard.css">' in html
    assert 'href="/status/"' in html
    assert "password authentication" not in html and "10.0.0.5" not in html and "Traceback" not in html


@pytest.mark.urls(__name__)
def test_a_server_error_page_renders_when_the_static_manifest_is_missing(settings, tmp_path):
    # Production's storage, and a collectstatic that never ran: {% static %} would raise here.
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

    response = Client(raise_request_exception=False).get("/test/broken/")

    assert response.status_code == 500
    assert "Something broke on our side" in response.content.decode()
    assert 'href="/static/css/switchboard.css"' in response.content.decode()


# --- A form refused by the CSRF check --------------------------------------------------------------


@pytest.fixture
def operator_browser(operator):
    """Otto's browser that checks CSRF tokens as a real one is checked; it has lost its token cookie."""
    return log_in_with_second_factor(Client(enforce_csrf_checks=True), operator)


@pytest.mark.django_db
def test_an_update_refused_for_a_stale_token_comes_back_and_goes_through_when_sent_again(operator_browser, scene):
    url = f"/incidents/{scene.incident.pk}/update/"
    typed = 'dom0 frozen <script>alert("x")</script>\nrebooting it'

    response = operator_browser.post(url, {"body": typed, "csrfmiddlewaretoken": "stale" * 8}, headers=SAME_SITE)

    assert response.status_code == 403
    html = response.content.decode()
    assert RESEND in html and "Reload and try again" not in html and in_the_product_layout(html)
    assert "<script>alert" not in html  # escaped, in the summary and in the hidden field
    assert "dom0 frozen &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<br>rebooting it" in html  # what will be sent
    assert "CSRF cookie not set" not in html  # Django's reason is for developers
    again = Forms(html).with_button("Send it again")
    assert again["method"] == "post" and again["action"] == url
    fields = dict(again["inputs"])
    assert fields["body"] == typed
    assert fields["csrfmiddlewaretoken"] not in ("", "stale" * 8)
    assert "csrftoken" in response.cookies  # the fresh token's cookie
    assert not TimelineEntry.objects.filter(body__contains="dom0 frozen").exists()

    sent_again = operator_browser.post(url, fields, headers=SAME_SITE)

    assert sent_again.status_code == 302
    assert TimelineEntry.objects.filter(incident=scene.incident, body=typed).exists()


@pytest.mark.django_db
def test_a_stale_login_form_asks_to_log_in_again_and_never_shows_the_password():
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(
        "/accounts/login/",
        {"login": "wen@example.org", "password": "hunter2-lantern", "next": "/incidents/"},
        headers=SAME_SITE,
    )

    assert response.status_code == 403
    html = response.content.decode()
    assert EXPIRED in html
    assert "hunter2-lantern" not in html
    assert "Send it again" not in html
    assert 'href="/accounts/login/?next=%2Fincidents%2F"' in html


@pytest.mark.django_db
def test_a_form_from_another_site_is_never_offered_to_send_again(operator_browser, scene):
    response = operator_browser.post(
        f"/incidents/{scene.incident.pk}/update/", {"body": "pwned by evil"}, headers={"Origin": "https://evil.example"}
    )

    assert response.status_code == 403
    html = response.content.decode()
    assert EXPIRED in html
    assert "Send it again" not in html and "pwned by evil" not in html


@pytest.mark.django_db
def test_secret_fields_are_never_echoed_or_sent_again(operator_browser, scene):
    response = operator_browser.post(
        f"/incidents/{scene.incident.pk}/update/",
        {"body": "rotating", "new_password": "p4ss-word-x", "api_key": "k3y-k3y", "alert_url": "ntfy://topic-s3cr3t"},
        headers=SAME_SITE,
    )

    html = response.content.decode()
    assert "p4ss-word-x" not in html and "k3y-k3y" not in html and "topic-s3cr3t" not in html
    assert "rotating" in html  # what is not secret is shown, to copy
    assert "Send it again" not in html  # it could not work without them
    assert "Passwords and codes you typed were not kept" in html


@pytest.mark.django_db
def test_an_htmx_post_refused_for_its_token_reloads_the_page_with_the_explanation(operator_browser, scene):
    response = operator_browser.post(
        f"/incidents/{scene.incident.pk}/update/", {"body": "x"}, headers={**SAME_SITE, "HX-Request": "true"}
    )

    assert response.status_code == 403
    assert response["HX-Refresh"] == "true"
    page = operator_browser.get(f"/incidents/{scene.incident.pk}/").content.decode()
    assert "Your session expired or the page was open too long. Reload and try again." in page


@pytest.mark.django_db
def test_with_debug_on_the_developer_sees_why(operator_browser, scene, settings):
    settings.DEBUG = True
    response = operator_browser.post(f"/incidents/{scene.incident.pk}/update/", {"body": "x"}, headers=SAME_SITE)

    assert "CSRF cookie not set." in response.content.decode()
