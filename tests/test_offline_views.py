"""Installing Switchboard on a phone: the web app manifest, the service worker served at the root, the
script that registers it on every page, and logging out emptying the browser of the offline copies.
What the worker keeps and serves is tested in Chromium (tests/browser/test_offline_copies.py)."""

import json

import pytest
from django.conf import settings
from django.urls import reverse

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


def test_anyone_gets_the_manifest_of_an_app_that_opens_on_the_dashboard(client):
    response = client.get("/manifest.webmanifest")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["start_url"] == reverse("dashboard") and manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["icons"], "browsers install only an app with an icon"


def test_the_service_worker_is_the_static_file_served_at_the_root_and_never_kept_stale(client):
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    assert response.content == (settings.BASE_DIR / "static" / "js" / "sw.js").read_bytes()


def test_the_service_worker_keeps_only_site_and_machine_pages():
    source = (settings.BASE_DIR / "static" / "js" / "sw.js").read_text()

    assert r"const KEPT = [/^\/sites\/[^/]+\/$/, /^\/machines\/[^/]+\/$/];" in source
    assert 'if (request.method !== "GET") return;' in source
    assert "no-store" in source


def test_a_members_page_registers_the_worker_for_that_member(client, member):
    client.force_login(member)

    html = client.get("/").content.decode()

    assert 'rel="manifest" href="/manifest.webmanifest"' in html
    assert f'js/offline.js" data-member="true" data-user="{member.pk}"' in html


def test_a_public_page_tells_the_script_to_delete_the_copies(client):
    html = client.get("/status/").content.decode()

    assert 'js/offline.js" data-member="false" data-user=""' in html


def test_logging_out_clears_the_browsers_copies_and_storage(client, member):
    client.force_login(member)

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert response.url == reverse("account_login")
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert "_auth_user_id" not in client.session
    # allauth's "You have signed out." still reaches the login page.
    assert "signed out" in client.get(response.url).content.decode()


def test_only_logging_out_clears_the_browser(client):
    response = client.get(reverse("account_login"))

    assert "Clear-Site-Data" not in response
