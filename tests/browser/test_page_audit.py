"""Every page of the demo co-op, for the public, a member and an operator, on a phone (360 × 740, touch,
2× pixels) and a desktop (1280 × 800): nothing scrolls sideways, every control is big enough for a
thumb, text is readable, every image and field has a name, the console stays clean, and axe-core
finds nothing serious.

How it runs: one test per (role, viewport), six in all. Each seeds the demo (`manage.py seed_demo`,
about a second, no services needed) into the transactional test database, logs in through the real
login page (the operator with a TOTP code), then opens each page of tests/browser/audit/pages.py in
turn, collecting findings, and fails once with all of them. Every test also writes its result to
test-artifacts/audit/results/ and rewrites test-artifacts/audit/report.md (also when it passes);
phone-size tests save a full-page screenshot of every page as test-artifacts/audit/<role>--<slug>.png.

Which pages, once per URL and role where the role changes the page:
- public: the login page, /status/, every published incident's page, a 404. The public pages render
  one cached body for everyone (core.page_cache.cached_public), so they are audited only here;
- member: every list page, every machine, guest, site, person, organisation, incident, runbook (and
  its versions), backup target (and its drills) in the demo, /search/?q=wiki, the calendar page, the
  404 for an unknown hostname and the 403 of an operator-only form;
- operator: the 2FA step of logging in, the operator-only forms (new incident, new and edit runbook,
  power request and controller password for each machine with outlets), and the
  pages whose templates offer operators more (pages.OPERATOR_VARIES: where templates test
  can_operate, user_is_operator or can_act). The rest are the member's page with the same body.
The demo login (demo@example.org) is a superuser without an authenticator app: it sees the operator's
pages, and cannot use the operator forms until it sets one up, so it is not a role of its own here.
Feeds, the badge, JSON and Markdown are not HTML and are left out, as are htmx partials (audited in
the page that includes them) and signed-link pages that need a token from an email.

The rules (tests/browser/audit/checks.js), each naming the element (a CSS path) and a snippet:
- horizontal-overflow: document.documentElement.scrollWidth is wider than the viewport (compared with
  the configured width: a phone's innerWidth grows when the page is zoomed out to fit). It names the
  elements whose right edge sticks out of a parent that fits.
- tap-target: a shown a[href], button, input, select, textarea, summary or [role=button], or the
  label of a checkbox or radio (which is measured instead of the box itself), smaller than 44 × 44
  CSS px (0.05 px allowed for sub-pixel rounding). The one exception is WCAG 2.5.8's inline one: an
  <a> whose computed display is `inline` and whose nearest block ancestor also holds words outside
  any link, button or label — a link inside a sentence. A link alone in a list item, a table cell or
  a <dd> is a standalone control and must be 44 × 44. Disabled controls and controls nested inside
  another target (an <a> in a <button>) are not measured.
- small-text: a shown element holding text whose computed font-size is under 14 px.
- image-alt: an <img> or <input type=image> without an alt attribute (alt="" is a decorative
  image), or an <svg role=img> without aria-label, aria-labelledby or a <title>.
- field-label: an input (not hidden, submit, button, reset, image), select or textarea with no
  <label> holding text, no aria-label and no aria-labelledby pointing at text. A placeholder or a
  title is not a label.
- console-error: a console message of type error or an uncaught exception (pageerror). Blocked
  inline scripts and styles show up here: Chromium logs each CSP violation as an error. The one
  message left out is "Failed to load resource" with the status a 403 or 404 page is meant to have,
  for that page's own URL.
- http-status / redirected: the page did not answer with its expected status, or sent us elsewhere.
- axe:<rule>: an axe-core violation of impact serious or critical (moderate and minor are counted
  in the report, not failed). axe is put in the page with page.evaluate(source): evaluation goes
  through the DevTools protocol, which the page's CSP (script-src 'self') does not govern, whereas
  page.add_script_tag() inserts an inline <script> that the policy blocks.
What is not a finding, so that the audit never reports what nobody sees or touches: elements with no
box, hidden by display, visibility or opacity 0 (the htmx indicator), aria-hidden or inert; visually
hidden text (.visually-hidden: clipped to 1 px) and the skip link parked off-screen until focused
(a keyboard affordance, not a tap target); and the content of a closed <details>. Closed <details>
(the phone's Menu) are then opened and the geometric rules run again on what they hold, reported with
"(inside a <details>, opened)". The image and label rules read attributes, so they look at every
element, shown or not.
"""

import time
from io import StringIO

import pytest
from django.core.management import call_command

from tests.browser.audit.auditor import PageAuditor, TemplateWatch
from tests.browser.audit.pages import ANONYMOUS, MEMBER, OPERATOR, Page, demo_pages
from tests.browser.audit.report import failure_message, save_result
from tests.browser.conftest import DESKTOP, PASSWORD, PHONE, totp_now

VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
TWO_FACTOR_STEP = Page("2fa-authenticate", "/accounts/2fa/authenticate/", "mfa_authenticate")


@pytest.fixture
def demo_coop(transactional_db, _browser_settings):
    """The demo co-op (`manage.py seed_demo`) in the test database, as a volunteer opening the demo finds it."""
    call_command("seed_demo", "--even-without-debug", stdout=StringIO())


def _log_in(auditor, page, user, totp_secret=None):
    """Log in through the real pages; the operator's 2FA step is audited on the way."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    found = []
    if totp_secret:
        page.wait_for_url("**/accounts/2fa/authenticate/")
        found = auditor.audit(TWO_FACTOR_STEP, navigate=False)
        page.get_by_label("Code").fill(totp_now(totp_secret))
        page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url and "/2fa/authenticate/" not in url)
    return found


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("role", [ANONYMOUS, MEMBER, OPERATOR])
def test_every_demo_page_passes_the_audit(role, viewport, demo_coop, live_server, request):
    started = time.monotonic()
    page = request.getfixturevalue("phone_page" if viewport == "phone" else "desktop_page")
    with TemplateWatch() as templates:
        auditor = PageAuditor(
            page, live_server.url, role, viewport, VIEWPORTS[viewport], templates, screenshots=viewport == "phone"
        )
        findings, audited = [], []
        if role == MEMBER:
            _log_in(auditor, page, request.getfixturevalue("member_user"))
        elif role == OPERATOR:
            user, secret = request.getfixturevalue("operator_user"), request.getfixturevalue("operator_totp_secret")
            findings += _log_in(auditor, page, user, totp_secret=secret)
            audited.append(TWO_FACTOR_STEP)
        pages = demo_pages(role)
        for each in pages:
            findings += auditor.audit(each)
        audited += pages

    save_result(role, viewport, audited, findings, time.monotonic() - started, auditor.minor_axe, auditor.seconds)
    assert not findings, failure_message(role, viewport, findings)


# Put into the real status page by test_the_audit_sees_what_it_should_and_nothing_else: one of each
# problem (id="bad-…"), and one of each thing the rules leave alone (id="fine-…").
PLANTED = """() => {
  document.querySelector("main").insertAdjacentHTML("beforeend", `
    <div id="bad-wide"></div>
    <button id="bad-small-button">Go</button>
    <p><a id="bad-lone-link" href="/status/">A link alone in its paragraph</a></p>
    <p id="bad-small-text">Fine print</p>
    <img id="bad-img" src="/static/none.png">
    <input id="bad-field" name="q" placeholder="A placeholder is not a label">
    <details id="fine-closed"><summary id="fine-summary">More</summary>
      <a id="bad-in-details" href="/status/">small once opened</a></details>
    <p>Read <a id="fine-inline" href="/status/">the inline link</a> in this sentence.</p>
    <a id="fine-hidden" href="/status/" hidden>hidden</a>
    <span id="fine-indicator" class="htmx-indicator">Loading…</span>
    <label class="visually-hidden" for="fine-field">Labelled</label><input id="fine-field" name="x">
    <img id="fine-decorative" alt="" src="/static/none.png">`);
  // Styles set through the CSSOM: the CSP (style-src 'self') blocks style attributes in markup only.
  const style = (id, css) => Object.assign(document.getElementById(id).style, css);
  style("bad-wide", {width: "2000px", height: "2px"});
  style("bad-small-button", {fontSize: "16px", padding: "0", height: "30px", minHeight: "0", minWidth: "0"});
  style("bad-small-text", {fontSize: "12px"});
  style("fine-summary", {display: "block", minHeight: "44px", fontSize: "16px"});
  style("fine-indicator", {opacity: "0", fontSize: "10px"});
  style("fine-field", {minHeight: "44px", width: "200px", fontSize: "16px"});
  console.error("planted console error");
}"""


def test_the_audit_sees_what_it_should_and_nothing_else(phone_page, live_server):
    # Without this, an audit that saw nothing would pass every page.
    with TemplateWatch() as templates:
        auditor = PageAuditor(phone_page, live_server.url, ANONYMOUS, "phone", PHONE, templates, screenshots=False)
        status = Page("status", "/status/", "status")
        assert [f for f in auditor.audit(status) if f["rule"] != "console-error"] == []  # the page as it is

        phone_page.evaluate(PLANTED)
        found = auditor.audit(status, navigate=False)

    def ids(rule):
        named = [f["selector"] for f in found if f["rule"] == rule and "#" in f["selector"]]
        return {selector.rsplit("#", 1)[-1].split(" ")[0] for selector in named}

    assert any(f["rule"] == "horizontal-overflow" and "bad-wide" in f["detail"] for f in found)
    assert ids("tap-target") == {"bad-small-button", "bad-lone-link", "bad-in-details"}
    assert "bad-small-text" in ids("small-text") and "fine-indicator" not in ids("small-text")
    assert ids("image-alt") == {"bad-img"}
    assert ids("field-label") == {"bad-field"}
    assert any(f["rule"] == "console-error" and "planted console error" in f["detail"] for f in found)
    assert not {f["selector"] for f in found} & {"a#fine-inline", "a#fine-hidden", "input#fine-field"}
