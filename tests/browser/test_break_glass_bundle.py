"""The break-glass bundle in real Chromium, offline: every request refused, the passphrase typed,
a phone number and an access procedure found with the filter box; wrong or damaged files say so."""

import pytest
from playwright.sync_api import expect

from breakglass.bundle import build
from tests.scene import NOOR_PHONE, build_scene

PASSPHRASE = "copper otter lantern meadow violin"
WRONG = "Wrong passphrase, or the file is damaged"


@pytest.fixture
def bundle_file(transactional_db, tmp_path):
    build_scene()
    path = tmp_path / "break-glass.html"
    path.write_bytes(build(PASSPHRASE).html)
    return path


@pytest.fixture
def offline_phone(browser, request):
    """A 360 px phone with no network: every request it makes is aborted and remembered."""
    from tests.browser.conftest import PHONE

    context = browser.new_context(**PHONE)
    context.set_default_timeout(15_000)
    requests = []

    def refuse(route):
        if route.request.url == getattr(page, "bundle_url", None) and not requests:
            route.continue_()  # the bundle itself, once; anything else is the file reaching out
            page.bundle_url = None
            return
        requests.append(route.request.url)
        route.abort()

    context.route("**/*", refuse)
    context.set_offline(True)
    page = context.new_page()
    page.requests = requests
    request.node.open_pages = [page]
    yield page
    context.close()


def open_file(page, path):
    page.bundle_url = path.as_uri()
    page.goto(path.as_uri())


def unlock(page, passphrase):
    page.get_by_label("Passphrase").fill(passphrase)
    page.get_by_role("button", name="Open").click()


def test_the_bundle_opens_offline_and_the_filter_finds_a_phone_and_a_procedure(offline_phone, bundle_file, screenshot):
    page = offline_phone
    open_file(page, bundle_file)
    unlock(page, f" {PASSPHRASE} ")  # a phone keyboard's stray spaces do not matter

    box = page.get_by_label("Filter")
    box.fill("Noor")
    expect(page.locator("#sites article.item:visible")).to_have_count(1)  # the site where Noor has a badge
    person = page.locator("#people article.item:visible", has_text="Noor Example")
    expect(person).to_contain_text(NOOR_PHONE)

    box.fill("badge desk")
    expect(page.locator("#people article.item:visible")).to_have_count(0)
    site = page.locator("#sites article.item:visible")
    expect(site).to_have_count(1)
    expect(site).to_contain_text("Call the badge desk at +1 555 0100")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
    screenshot(page, "filtered")
    assert page.requests == []


def test_a_wrong_passphrase_says_so(offline_phone, bundle_file):
    page = offline_phone
    open_file(page, bundle_file)

    unlock(page, "copper otter lantern meadow viola")

    assert WRONG in page.get_by_role("alert").inner_text()
    assert page.locator("article.item").count() == 0
    assert page.requests == []


@pytest.mark.parametrize("damage", ["truncated", "flipped"])
def test_a_damaged_bundle_says_so(offline_phone, bundle_file, damage):
    data = bundle_file.read_bytes()
    if damage == "truncated":  # a download cut short: in the data, after the page's script and form
        data = data[: data.index(b'"ciphertext": "') + 30]
    else:
        middle = data.index(b'"ciphertext": "') + 40
        data = data[:middle] + (b"A" if data[middle : middle + 1] != b"A" else b"B") + data[middle + 1 :]
    bundle_file.write_bytes(data)
    page = offline_phone
    open_file(page, bundle_file)

    unlock(page, PASSPHRASE)

    assert WRONG in page.get_by_role("alert").inner_text()
    assert page.requests == []
