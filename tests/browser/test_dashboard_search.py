"""On a phone: the dashboard's search box shows results while the volunteer types, and an update
refused for a stale CSRF token is kept and goes through with one more tap."""

import re

from playwright.sync_api import expect

from incidents.models import TimelineEntry
from tests.browser.conftest import PHONE
from tests.browser.test_phone_search import too_small_tap_targets
from tests.factories import make_machine
from tests.scene import build_scene
from tests.test_error_pages import RESEND


def test_results_appear_on_the_dashboard_while_typing(logged_in_member_page, live_server, screenshot):
    make_machine(hostname="kestrel-dom0.colo.example.org")
    page = logged_in_member_page
    page.goto("/")

    page.get_by_label("Find a machine, guest, IP address, domain or person").press_sequentially("kestrel", delay=20)

    results = page.locator("#dash-results")
    expect(results.locator("a[href='/machines/kestrel-dom0.colo.example.org/']")).to_be_visible()  # no Enter
    expect(page).to_have_url(f"{live_server.url}/")  # still the dashboard
    expect(page.get_by_role("heading", name=re.compile("Open incidents"))).to_be_visible()
    screenshot(page, "live-results-on-the-dashboard")
    assert too_small_tap_targets(page, "#dash-results .row-link") == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]

    results.get_by_role("link", name=re.compile("kestrel")).tap()
    page.wait_for_url("**/machines/kestrel-dom0.colo.example.org/")


def test_an_update_refused_for_a_lost_token_is_sent_again_in_one_tap(logged_in_operator_page, screenshot):
    scene = build_scene()
    page = logged_in_operator_page
    page.goto(f"/incidents/{scene.incident.pk}/")
    typed = "dom0 frozen <b>again</b>: power-cycling it"
    page.get_by_label("Update", exact=True).fill(typed)
    page.context.clear_cookies(name="csrftoken")  # as after a long night with the page open

    page.get_by_role("button", name="Post update").tap()

    expect(page.get_by_text(RESEND)).to_be_visible()
    expect(page.locator("main dd").first).to_have_text(typed)  # shown as typed, not as markup
    assert not TimelineEntry.objects.filter(body=typed).exists()
    screenshot(page, "1-refused-with-the-form-kept")
    send_again = page.get_by_role("button", name="Send it again")
    assert too_small_tap_targets(page, "main .button") == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]

    send_again.tap()

    page.wait_for_url(re.compile(rf"/incidents/{scene.incident.pk}/"))
    expect(page.locator("#timeline-entries li", has_text=typed)).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("Posted for members.")
    screenshot(page, "2-sent-again")
    assert TimelineEntry.objects.filter(incident=scene.incident, body=typed).exists()
