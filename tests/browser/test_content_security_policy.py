"""Under the strict Content-Security-Policy (no inline script or style, nothing from elsewhere), the
pages a volunteer and an admin use load without a single violation in Chromium, htmx still swaps
parts in and sends the CSRF token it reads from <body hx-headers>, and the Django admin works."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD
from tests.scene import build_scene

# Records every violation the page reports, whether or not Chromium also logs it to the console.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${where}`);
});
"""


class Violations:
    """What a page's Content-Security-Policy blocked: console errors and securitypolicyviolation events."""

    def __init__(self, page):
        self.page = page
        self.console = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console.append(f"page error: {error}"))

    def _console(self, message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(message.text)

    def on(self, path):
        """Open `path` and return everything the policy blocked there."""
        self.page.goto(path)
        self.page.wait_for_load_state("load")
        return self.now()

    def now(self):
        events = self.page.evaluate("window.__cspViolations || []")
        found, self.console = [*self.console, *events], []
        return found


@pytest.fixture
def violations(phone_page):
    return Violations(phone_page)


@pytest.fixture
def admin_page(phone_page, django_user_model, log_in, violations):
    """A phone page logged in as an admin with an authenticator code (the admin asks for one)."""
    secret = generate_totp_secret()
    admin = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD, first_name="Ada")
    TOTP.activate(admin, secret)
    return log_in(phone_page, admin.email, totp_secret=secret)


def test_the_violation_watch_sees_a_blocked_inline_style(violations, logged_in_member_page):
    # Without this, a watch that saw nothing would pass every test below.
    assert violations.on("/") == []

    logged_in_member_page.evaluate("document.body.setAttribute('style', 'background: red')")
    logged_in_member_page.wait_for_timeout(200)

    assert any("style-src" in violation for violation in violations.now())


def test_member_pages_load_with_no_violation(violations, logged_in_member_page, screenshot):
    scene = build_scene()
    page = logged_in_member_page

    # The login pages it went through first, then these.
    for path in ["/", f"/machines/{scene.machine.hostname}/", f"/incidents/{scene.incident.pk}/", "/status/"]:
        assert violations.on(path) == [], path
    screenshot(page, "status-under-the-policy")
    # htmx took its settings from the meta tag: no indicator <style> of its own, no eval.
    assert page.evaluate("[htmx.config.includeIndicatorStyles, htmx.config.allowEval]") == [False, False]


def test_htmx_swaps_a_part_and_sends_the_csrf_token_from_body_hx_headers(violations, logged_in_member_page):
    scene = build_scene()
    page = logged_in_member_page
    assert violations.on(f"/runbooks/{scene.runbook.pk}/") == []

    page.get_by_label("I followed these steps just now").fill("restored last night's dump")
    with page.expect_request(lambda r: r.url.endswith("/exercised/")) as sent:
        page.get_by_role("button", name="Record it").click()

    headers = sent.value.headers
    assert headers["hx-request"] == "true"
    assert headers["x-csrftoken"]
    expect(page.locator("#exercised")).to_contain_text("restored last night's dump")
    assert page.url.endswith(f"/runbooks/{scene.runbook.pk}/")  # swapped in place, not a new page
    assert violations.now() == []


def test_the_authenticator_setup_page_shows_its_qr_code(violations, logged_in_member_page):
    page = logged_in_member_page
    page.goto("/accounts/2fa/totp/activate/")
    if "/reauthenticate/" in page.url:
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_url("**/accounts/2fa/totp/activate/")

    expect(page.get_by_role("img", name="QR code to scan with your authenticator app")).to_be_visible()
    assert violations.now() == []


def test_admin_pages_load_with_no_violation(admin_page, violations, screenshot):
    scene = build_scene()
    machine, incident, person = scene.machine.pk, scene.incident.pk, scene.noor.pk

    for path in [
        "/admin/",
        "/admin/hosts/machine/",
        f"/admin/hosts/machine/{machine}/change/",
        f"/admin/incidents/incident/{incident}/change/",
        f"/admin/coop/person/{person}/change/",
        f"/admin/coop/person/{person}/history/",
    ]:
        assert violations.on(path) == [], path
    admin_page.goto(f"/admin/hosts/machine/{machine}/change/")
    expect(admin_page.locator("#machine_form")).to_be_visible()
    screenshot(admin_page, "admin-change-page")
