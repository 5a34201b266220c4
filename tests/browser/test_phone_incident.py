"""Working the dom0 incident on a phone: an update is posted in three taps and shows at once, and
a member watching the same page sees new entries arrive without reloading."""

from playwright.sync_api import expect

from incidents.models import TimelineEntry
from tests.browser.conftest import PHONE
from tests.browser.test_phone_search import too_small_tap_targets
from tests.scene import build_scene


def test_an_operator_posts_an_update_in_three_taps_and_sees_it(logged_in_operator_page, screenshot):
    scene = build_scene()
    page = logged_in_operator_page
    page.goto(f"/incidents/{scene.incident.pk}/")
    screenshot(page, "1-incident-page")

    box = page.get_by_label("Update", exact=True)
    box.tap()  # tap 1
    box.fill("Power supply swapped, the machine is booting.")
    page.get_by_label("Public: the status page shows these words").tap()  # tap 2
    page.get_by_role("button", name="Post update").tap()  # tap 3

    entry = page.locator("#timeline-entries li", has_text="Power supply swapped, the machine is booting.")
    expect(entry).to_be_visible()
    expect(entry).to_contain_text("public")
    expect(page.locator(".messages")).to_contain_text("Posted for the public.")
    screenshot(page, "2-update-posted")
    assert scene.incident.timeline.get(body="Power supply swapped, the machine is booting.").is_public
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    assert too_small_tap_targets(page, "#update .button, #h-timeline ~ .tabs a") == []


def test_a_member_watching_the_page_sees_new_entries_arrive(logged_in_member_page, screenshot):
    scene = build_scene()
    page = logged_in_member_page
    page.goto(f"/incidents/{scene.incident.pk}/")
    expect(page.locator("#timeline-poll")).to_have_count(1)

    scene.incident.note("Check recovered: dom0 answers ping", kind=TimelineEntry.Kind.CHECK_RECOVERED)
    expect(page.locator("#timeline-entries")).to_contain_text("Check recovered: dom0 answers ping", timeout=15_000)

    scene.incident.resolve(note="Resolved.")
    expect(page.locator("#incident-badges")).to_contain_text("Resolved", timeout=15_000)
    expect(page.locator("#timeline-poll")).to_have_count(0)  # resolved: it stops asking
    screenshot(page, "3-live-resolved")
