"""Refresh docs/screenshots from the browser audit's phone screenshots: the first screen (360 × 740) of each.

After `make test` (or `pytest tests/browser/test_page_audit.py`):
`.venv/bin/python -m tests.browser.audit.refresh_docs_screenshots`.
Chromium crops the full-page PNGs, so nothing beyond Playwright is needed.
"""

import base64
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[3]
AUDIT, DOCS = ROOT / "test-artifacts" / "audit", ROOT / "docs" / "screenshots"
# The audit's screenshot → the README's picture.
PICTURES = {
    "operator--machine--xen1.foghorn.example.net.png": "phone-machine-page.png",
    "operator--power-request--xen1.foghorn.example.net.png": "phone-power-form.png",
    "member--site--foghorn.png": "phone-site-page.png",
    "member--guest--wiki1.foghorn.example.net.png": "phone-guest-page.png",
    "anonymous--status.png": "phone-status-page.png",
    "operator--incident--dom0-down-wiki-and-blog-offline.png": "phone-incident-page.png",
}
WIDTH, HEIGHT = 720, 1480  # 360 × 740 CSS px at the audit's device scale factor of 2


def main():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        for source, picture in PICTURES.items():
            data = base64.b64encode((AUDIT / source).read_bytes()).decode()
            page.set_content(f'<img src="data:image/png;base64,{data}" width="{WIDTH}">')
            page.add_style_tag(content="body { margin: 0 } img { display: block }")
            page.screenshot(path=str(DOCS / picture), clip={"x": 0, "y": 0, "width": WIDTH, "height": HEIGHT})
            print(DOCS / picture)
        browser.close()


if __name__ == "__main__":
    main()
