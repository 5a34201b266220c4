"""Open a page in Playwright and collect what the audit finds on it (rules: tests/browser/test_page_audit.py).

`PageAuditor(page, role, viewport)` watches the page's console from the start; `audit(Page)` opens it,
runs checks.js and axe-core, screenshots it at phone size, and returns a list of Finding dicts.
"""

import re
import threading
import time
from collections import Counter
from pathlib import Path

from django.test.signals import template_rendered

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parents[2] / "test-artifacts" / "audit"
CHECKS_JS = (HERE / "checks.js").read_text()
AXE_JS = HERE / "axe.min.js"
# axe-core impacts that fail the audit; moderate and minor ones are counted in the report only.
AXE_FAILING = ("serious", "critical")


def finding(page, viewport, rule, selector="", snippet="", detail="", template=""):
    return {
        "page": page.slug,
        "path": page.path,
        "name": page.name,
        "template": template,
        "viewport": viewport,
        "rule": rule,
        "selector": selector,
        "snippet": snippet,
        "detail": detail,
    }


class TemplateWatch:
    """The templates the live server renders (its thread is in this process): the first is the page's own."""

    def __init__(self):
        self.names = []
        self._lock = threading.Lock()

    def __enter__(self):
        template_rendered.connect(self._rendered)
        return self

    def __exit__(self, *exc):
        template_rendered.disconnect(self._rendered)

    def _rendered(self, sender, template, **kwargs):
        with self._lock:
            self.names.append(template.name or "?")

    def take(self):
        """The page's template: the first rendered whole (a cached public page renders its _body first)."""
        with self._lock:
            names, self.names = self.names, []
        whole = [name for name in names if not name.rsplit("/", 1)[-1].startswith("_")]
        return (whole or names or [""])[0]


class PageAuditor:
    """Audits pages one after another in one Playwright page (one role, one viewport)."""

    def __init__(self, page, base_url, role, viewport_name, viewport, templates, screenshots=True):
        self.page = page
        self.base_url = base_url
        self.minor_axe = 0  # axe violations of moderate or minor impact: reported, not failed
        self.seconds = Counter()  # where the time goes: open, checks, axe, screenshot
        self.role = role
        self.viewport_name = viewport_name
        self.width = viewport["viewport"]["width"]
        self.templates = templates
        self.screenshots = screenshots
        self.console = []
        # axe-core goes in as an init script: Playwright adds it through the DevTools protocol, which the
        # page's CSP (script-src 'self') does not govern; page.add_script_tag() would insert an inline
        # <script> that the policy blocks. (page.evaluate(source) works too, but sends 650 kB per page.)
        page.context.add_init_script(path=AXE_JS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console.append(("pageerror", str(error), "")))

    def _console(self, message):
        if message.type == "error":
            self.console.append(("console", message.text, (message.location or {}).get("url", "")))

    def audit(self, audited, navigate=True):
        """Open `audited` (unless already there) and return its findings."""
        found = []
        page = self.page
        clock = time.monotonic()
        if navigate:
            self.console.clear()
            self.templates.take()
            response = page.goto(audited.path)
            page.wait_for_load_state("load")
            status = response.status if response else 0
            if status != audited.status:
                found.append(self._f(audited, "http-status", detail=f"HTTP {status}, expected {audited.status}"))
            if page.url.split("?")[0] != (self.base_url + audited.path).split("?")[0]:
                found.append(self._f(audited, "redirected", detail=f"ended at {page.url}"))
        template = self.templates.take() if navigate else ""
        clock = self._lap("open", clock)

        options = {"viewportWidth": self.width, "checkOverflow": True}
        for item in page.evaluate(CHECKS_JS, options):
            found.append(self._f(audited, **item))
        clock = self._lap("checks", clock)
        found += self._axe(audited)
        clock = self._lap("axe", clock)
        if self.screenshots:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=ARTIFACTS / f"{self.role}--{_safe(audited.slug)}.png", full_page=True)
        clock = self._lap("screenshot", clock)
        # The same checks on what closed <details> hold (the phone's Menu, folded sections), opened.
        opened = page.evaluate(
            """() => { const closed = [...document.querySelectorAll("details:not([open])")];
                       closed.forEach((d) => { d.open = true; d.setAttribute("data-audit-opened", ""); });
                       return closed.length; }"""
        )
        if opened:
            for item in page.evaluate(CHECKS_JS, {**options, "scope": "[data-audit-opened]", "checkOverflow": False}):
                item["detail"] += " (inside a <details>, opened)"
                found.append(self._f(audited, **item))
        self._lap("checks", clock)
        found += self._console_findings(audited)
        for item in found:
            item["template"] = template
        return _dedupe(found)

    def _lap(self, what, since):
        now = time.monotonic()
        self.seconds[what] += now - since
        return now

    def _axe(self, audited):
        if not self.page.evaluate("() => typeof window.axe === 'object'"):  # a page opened before the init script
            self.page.evaluate(AXE_JS.read_text())
        result = self.page.evaluate(
            """async () => {
                 const r = await axe.run(document, {resultTypes: ["violations"]});
                 return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.map((n) => ({target: n.target.join(" "), html: n.html,
                                               summary: n.failureSummary}))}));
               }"""
        )
        found = []
        for violation in result:
            if violation["impact"] not in AXE_FAILING:
                self.minor_axe += len(violation["nodes"])
                continue
            for node in violation["nodes"]:
                summary = re.sub(r"\s+", " ", node["summary"] or "").strip()[:200]
                found.append(
                    self._f(
                        audited,
                        f"axe:{violation['id']}",
                        selector=node["target"],
                        snippet=re.sub(r"\s+", " ", node["html"])[:140],
                        detail=f"{violation['impact']}: {violation['help']}. {summary}",
                    )
                )
        return found

    def _console_findings(self, audited):
        found = []
        for kind, text, url in self.console:
            # An error page's own status shows up as "Failed to load resource" for the document itself.
            if (
                audited.status != 200
                and f"status of {audited.status}" in text
                and url.split("?")[0].endswith(audited.path.split("?")[0])
            ):
                continue
            where = url.replace(self.base_url, "")  # the live server's port changes from run to run
            found.append(self._f(audited, "console-error", selector=where, detail=f"{kind}: {text}"[:300]))
        self.console.clear()
        return found

    def _f(self, audited, rule, selector="", snippet="", detail=""):
        return finding(audited, self.viewport_name, rule, selector, snippet, detail)


def _dedupe(found):
    seen, unique = set(), []
    for item in found:
        key = (item["rule"], item["selector"], item["detail"])
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def _safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
