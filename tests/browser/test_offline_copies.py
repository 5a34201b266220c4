"""On a member's phone the outage pages stay readable without a network: the service worker (static/js/sw.js)
keeps every site's access roster and the machine pages the member opened, and shows them offline as a
"Saved copy from …". Logging out, or no longer being a member, takes them away.

The network is taken away with Playwright's context.set_offline(True), which in Chromium also fails the
service worker's own fetches (page.route() would not see them). The live server is http://localhost:
browsers count localhost as a secure context, so service workers run there as over HTTPS.
"""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Error, expect

from coop.models import Site
from core.access import MEMBERS
from tests.scene import build_scene

# Resolves once a worker controls the page (after navigator.serviceWorker.ready, clients.claim() follows).
CONTROLLED = """async () => {
  await navigator.serviceWorker.ready;
  const workers = navigator.serviceWorker;
  if (!workers.controller) {
    await new Promise((resolve) => workers.addEventListener("controllerchange", resolve, { once: true }));
  }
  return true;
}"""
KEPT_URLS = """async () => {
  const names = (await caches.keys()).filter((name) => name.startsWith("switchboard-pages-"));
  const urls = [];
  for (const name of names) {
    for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
  }
  return urls.sort();
}"""


def kept(page):
    """The paths of the pages the worker keeps in this browser, for any user."""
    return page.evaluate(KEPT_URLS)


def wait_until_kept(page, *paths):
    page.wait_for_function(
        "async (paths) => { const kept = await (" + KEPT_URLS + ")(); return paths.every((p) => kept.includes(p)); }",
        arg=list(paths),
        polling=200,
    )


@pytest.fixture
def scene(transactional_db):
    scene = build_scene()
    scene.depot = Site.objects.create(name="Depot", slug="depot")
    return scene


@pytest.fixture
def member_with_copies(scene, logged_in_member_page):
    """Priya's phone once the worker controls it and she has opened the machine page and the site page."""
    page = logged_in_member_page
    page.evaluate(CONTROLLED)
    page.reload()  # the first page was loaded before the worker was there
    machine, site = f"/machines/{scene.machine.hostname}/", f"/sites/{scene.site.slug}/"
    page.goto(machine)
    page.goto(site)
    wait_until_kept(page, machine, site, f"/sites/{scene.depot.slug}/")
    return page


def test_offline_the_machine_page_is_the_saved_copy(member_with_copies, scene, screenshot):
    page = member_with_copies
    page.context.set_offline(True)

    page.goto(f"/machines/{scene.machine.hostname}/")

    banner = page.locator(".saved-copy")
    expect(banner).to_contain_text("Saved copy from")
    expect(page.get_by_role("heading", level=1)).to_contain_text(scene.machine.hostname)
    # The stylesheet came from the worker too: the banner has its colours, the page its layout.
    assert banner.evaluate("(el) => getComputedStyle(el).borderBottomStyle") == "solid"
    screenshot(page, "offline-machine-page")


def test_offline_every_sites_roster_is_there_even_one_never_opened(member_with_copies, scene):
    page = member_with_copies
    page.context.set_offline(True)

    page.goto(f"/sites/{scene.depot.slug}/")

    expect(page.locator(".saved-copy")).to_contain_text("Saved copy from")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Depot")


def test_offline_a_machine_page_never_opened_is_the_browsers_offline_error(member_with_copies):
    page = member_with_copies
    page.context.set_offline(True)

    with pytest.raises(Error, match="ERR_INTERNET_DISCONNECTED|ERR_FAILED"):
        page.goto("/machines/host0.harbor.example.org/")


def test_only_outage_pages_are_kept(member_with_copies, scene):
    page = member_with_copies
    page.goto("/machines/")
    page.goto(f"/machines/{scene.machine.hostname}/power/")

    assert kept(member_with_copies) == sorted(
        [f"/machines/{scene.machine.hostname}/", f"/sites/{scene.site.slug}/", f"/sites/{scene.depot.slug}/"]
    )


def test_after_logging_out_the_copies_are_gone(member_with_copies, scene):
    page = member_with_copies
    page.locator("footer").get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")
    # Clear-Site-Data on the logout response: no cache, no worker left in this browser.
    page.wait_for_function("async () => (await caches.keys()).length === 0", polling=200)
    assert page.evaluate("async () => (await navigator.serviceWorker.getRegistrations()).length") == 0
    page.context.set_offline(True)

    with pytest.raises(Error, match="ERR_INTERNET_DISCONNECTED|ERR_FAILED"):
        page.goto(f"/machines/{scene.machine.hostname}/")


def test_no_longer_a_member_the_copies_are_gone_at_the_next_visit(member_with_copies, scene, member_user):
    page = member_with_copies
    member_user.groups.remove(Group.objects.get(name=MEMBERS))

    response = page.goto(f"/machines/{scene.machine.hostname}/")

    assert response.status == 403
    page.wait_for_function("async () => (await (" + KEPT_URLS + ")()).length === 0", polling=200)
    page.context.set_offline(True)
    with pytest.raises(Error, match="ERR_INTERNET_DISCONNECTED|ERR_FAILED"):
        page.goto(f"/sites/{scene.site.slug}/")


def test_chromium_reads_the_manifest_of_an_installable_app(logged_in_member_page):
    page = logged_in_member_page
    page.evaluate(CONTROLLED)
    devtools = page.context.new_cdp_session(page)

    manifest = devtools.send("Page.getAppManifest")
    errors = devtools.send("Page.getInstallabilityErrors")["installabilityErrors"]

    assert manifest["errors"] == [] and manifest["manifest"]["display"] == "kStandalone"
    assert manifest["manifest"]["icons"]
    # Playwright's browser contexts are incognito ones, where nothing installs; nothing else stands in the way.
    assert [error["errorId"] for error in errors] == ["in-incognito"]
