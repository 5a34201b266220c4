"""On a 360 × 740 phone the machine page's first screen holds what a volunteer woken at 3 a.m.
needs: the power button and a Call button, without scrolling. The Menu fits and reaches every page."""

from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.browser.test_phone_search import too_small_tap_targets
from tests.scene import build_scene

WIDTH, HEIGHT = PHONE["viewport"]["width"], PHONE["viewport"]["height"]
CONTROLS = "main select, main input:not([type=checkbox]):not([type=radio]):not([type=hidden]), main textarea"


def assert_on_first_screen(locator):
    box = locator.bounding_box()
    assert box is not None, "not shown"
    assert box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, box


def assert_nothing_wider_than_the_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, page.url


def test_power_and_call_are_on_the_machine_pages_first_screen(logged_in_operator_page, screenshot):
    scene = build_scene()
    page = logged_in_operator_page
    page.goto(f"/machines/{scene.machine.hostname}/")

    power = page.locator("#act").get_by_role("link", name="Power-cycle…")
    call = page.locator("#act a[href^='tel:']").first
    expect(power).to_be_visible()
    expect(call).to_contain_text("Call")
    screenshot(page, "1-machine-page")
    page.screenshot(path=screenshot(page, "1-machine-page").with_name("first_screen--machine-viewport.png"))
    assert_on_first_screen(power)
    assert_on_first_screen(call)
    assert_on_first_screen(page.get_by_role("link", name="Everyone who can get in ↓"))
    assert_nothing_wider_than_the_phone(page)
    assert too_small_tap_targets(page, "#act a, #act .button, .menu > summary, .top-search input") == []

    shots = screenshot(page, "1-machine-page").parent
    for section in ["access", "admins", "power", "checks", "backups", "timeline"]:
        page.locator(f"#{section}").screenshot(path=shots / f"first_screen--machine-{section}.png")
    assert too_small_tap_targets(page, "#access a[href^='tel:']") == []

    page.get_by_role("link", name="Everyone who can get in ↓").tap()
    expect(page).to_have_url(f"{page.url.split('#')[0]}#access")
    expect(page.locator("#access")).to_contain_text("Call the badge desk")


def test_the_menu_fits_the_phone_and_reaches_status(logged_in_member_page, screenshot):
    build_scene()
    page = logged_in_member_page
    page.goto("/machines/")
    assert_nothing_wider_than_the_phone(page)
    expect(page.get_by_role("link", name="Status")).to_be_hidden()  # folded into the Menu

    page.locator(".menu > summary").tap()
    status = page.get_by_role("link", name="Status")
    expect(status).to_be_visible()
    screenshot(page, "menu-open")
    assert_nothing_wider_than_the_phone(page)
    assert too_small_tap_targets(page, ".menu-nav a, .menu-nav button") == []
    for name in ["Dashboard", "Search", "Machines", "Incidents", "Sites", "People", "Runbooks", "Backups"]:
        expect(page.locator(".menu-nav").get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()  # at the foot of the page

    status.tap()
    page.wait_for_url("**/status/")


def test_no_page_of_the_outage_is_wider_than_the_phone(logged_in_operator_page, screenshot):
    scene = build_scene()
    page = logged_in_operator_page
    for step, path in [
        ("guest", f"/guests/{scene.wiki.name}/"),
        ("site", f"/sites/{scene.site.slug}/"),
        ("search", "/search/?q=example.org"),
        ("machines", "/machines/"),
        ("incident", f"/incidents/{scene.incident.pk}/"),
        ("backups", "/backups/"),
        ("runbooks", "/runbooks/"),
        ("dashboard", "/"),
    ]:
        page.goto(path)
        screenshot(page, step)
        assert_nothing_wider_than_the_phone(page)
        for control in page.locator(CONTROLS).all():
            if control.is_visible():
                box = control.bounding_box()
                assert box["height"] >= 44, (path, control.get_attribute("name"), box)


def test_the_guest_and_site_pages_put_who_to_call_on_the_first_screen(logged_in_operator_page, screenshot):
    scene = build_scene()
    page = logged_in_operator_page

    page.goto(f"/guests/{scene.wiki.name}/")
    page.screenshot(path=screenshot(page, "guest").with_name("first_screen--guest-viewport.png"))
    assert_on_first_screen(page.locator("#act").get_by_role("link", name="Power-cycle the host…"))
    assert_on_first_screen(page.locator("#act a[href^='tel:']").first)

    page.goto(f"/sites/{scene.site.slug}/")
    assert_on_first_screen(page.locator("#act a[href^='tel:']").first)


def test_every_link_shows_inline_on_a_desktop(desktop_page, member_user, log_in, screenshot):
    build_scene()
    page = log_in(desktop_page, member_user.email)
    page.goto("/machines/dom0.harbor.example.org/")
    nav = page.locator("nav.top-nav")
    for name in ["Dashboard", "Machines", "Incidents", "Sites", "Runbooks", "Backups", "Status"]:
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.locator(".menu > summary")).to_be_hidden()
    screenshot(page, "desktop")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
