"""Story 001 on a phone: the wiki is down, the volunteer has only its IP address. Two taps from
the dashboard reach its machine's outage page, where every way to call someone is a big button."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.scene import WIKI_IPV4, build_scene

MIN_TAP = 44
# What a thumb must hit on the outage page: call/text buttons, list rows, buttons, the menu.
TAP_TARGETS = "main a[href^='tel:'], main a[href^='sms:'], main .button, main .row-link, .top-nav a"


def too_small_tap_targets(page, selector):
    """Visible elements matching `selector` that are smaller than 44 × 44 CSS pixels."""
    small = []
    for element in page.locator(selector).all():
        if not element.is_visible():
            continue
        box = element.bounding_box()
        if box["height"] < MIN_TAP or box["width"] < MIN_TAP:
            small.append((element.inner_text().strip()[:40], round(box["width"]), round(box["height"])))
    return small


def test_member_finds_the_wikis_machine_from_its_ip_in_two_taps(logged_in_member_page, screenshot):
    build_scene()
    page = logged_in_member_page
    page.goto("/")

    page.get_by_label("Find a machine, guest, IP address, domain or person").fill(WIKI_IPV4)
    page.get_by_role("button", name="Search").tap()  # tap 1
    answer = page.locator(".answer")
    expect(answer).to_contain_text("wiki.example.org")
    expect(answer).to_contain_text("Wiki Project")  # the owner
    expect(answer.locator("a[href='tel:+15550142']").first).to_be_visible()  # who to call
    screenshot(page, "1-search-by-ip")

    answer.get_by_role("link", name="dom0.harbor.example.org").tap()  # tap 2
    page.wait_for_url("**/machines/dom0.harbor.example.org/")
    expect(page.get_by_role("heading", name="dom0.harbor.example.org", level=1)).to_be_visible()
    expect(page.locator(".pinned").first).to_contain_text("Never reboot without stopping the wiki")
    access = page.locator("#access")
    expect(access).to_contain_text("Noor Example")
    expect(access.locator("a[href='tel:+15550142']")).to_be_visible()
    expect(access.locator("a[href='sms:+15550142']")).to_be_visible()
    screenshot(page, "2-machine-page")

    assert page.locator("a[href^='tel:']").count() >= 3
    assert too_small_tap_targets(page, TAP_TARGETS) == []
    # Nothing is wider than the phone: no sideways scrolling on the outage page.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]


def test_results_appear_while_typing(logged_in_member_page, screenshot):
    build_scene()
    page = logged_in_member_page
    page.goto("/search/")
    page.get_by_label("Find a machine, guest, IP address, domain, site, person or organisation").press_sequentially(
        "www.wiki.example.org", delay=20
    )
    expect(page.locator(".answer")).to_contain_text("wiki.example.org")  # no button pressed
    expect(page).to_have_url(re.compile(r"/search/\?q=www\.wiki\.example\.org$"))  # bookmarkable
    screenshot(page, "live-results")
    assert too_small_tap_targets(page, "main .row-link, main .button, main a[href^='tel:']") == []


def test_search_and_the_machine_page_work_without_javascript(browser, live_server, client, transactional_db):
    from django.contrib.auth.models import Group, User

    from core.access import MEMBERS

    build_scene()
    user = User.objects.create_user("nojs", "nojs@example.org")
    user.groups.add(Group.objects.get_or_create(name=MEMBERS)[0])
    client.force_login(user)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, **PHONE)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    try:
        page.goto("/search/")
        page.get_by_label("Find a machine, guest, IP address, domain, site, person or organisation").fill(WIKI_IPV4)
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(f"**/search/?q={WIKI_IPV4}")
        page.locator(".answer").get_by_role("link", name="dom0.harbor.example.org").click()
        page.wait_for_url("**/machines/dom0.harbor.example.org/")
        expect(page.locator("#access a[href='tel:+15550142']")).to_be_visible()
    finally:
        context.close()
