"""Every page of the access matrix, for a visitor, a member and an admin, carries the strict
Content-Security-Policy and the other headers a browser acts on, and its HTML holds nothing the
policy would block (an inline script, style or event handler).

The pages and the scene are tests/test_access_matrix.py's, so a new URL is checked here too.
The public badge keeps its own, stricter policy (front.views.public.status_badge).
"""

from html.parser import HTMLParser

import pytest
from django.conf import settings

from .conftest import log_in_with_second_factor
from .scene import build_scene
from .test_access_matrix import LOGIN, PAGES

pytest_plugins = ["tests.cast"]

POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "object-src": {"'none'"},
    "base-uri": {"'none'"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
}
BADGE_POLICY = {"default-src": {"'none'"}, "style-src": {"'unsafe-inline'"}}
ROLES = ["anonymous", "member", "admin"]


def parse_policy(header):
    """{directive: {sources}}: django-csp does not promise an order."""
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: set(sources) for name, *sources in directives}


class InlineCode(HTMLParser):
    """What a strict policy blocks in a page: inline <script> and <style>, style= and on...= attributes,
    javascript: links."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.found.append(f"inline <script> at line {self.getpos()[0]}")
        if tag == "style":
            self.found.append(f"<style> at line {self.getpos()[0]}")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}=...> at line {self.getpos()[0]}")
            is_link = name in {"href", "src", "action", "formaction"}
            if is_link and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...> at line {self.getpos()[0]}")


def inline_code(html):
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def _cases():
    return [pytest.param(name, role, id=f"{name}-{role}") for name in sorted(PAGES) for role in ROLES]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), _cases())
def test_every_page_sends_the_security_headers(name, role, client, request):
    page = PAGES[name]
    scene = build_scene()
    if role == "admin":
        log_in_with_second_factor(client, request.getfixturevalue("admin"))
    elif role != "anonymous":
        client.force_login(request.getfixturevalue(role))

    # Over HTTPS, as in production: HSTS is only sent there.
    response = getattr(client, page.method)(page.path(scene), page.data, secure=True)

    # The page the access matrix expects (an admin with a code this session fares as such an operator).
    expected = page.expect["operator_with_code" if role == "admin" else role]
    assert response.status_code == (302 if expected == LOGIN else expected)
    assert parse_policy(response["Content-Security-Policy"]) == (BADGE_POLICY if name == "status_badge" else POLICY)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Permissions-Policy"] == "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
    assert response["Strict-Transport-Security"] == (
        f"max-age={settings.SECURE_HSTS_SECONDS}"
        + ("; includeSubDomains" if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS else "")
        + ("; preload" if settings.SECURE_HSTS_PRELOAD else "")
    )
    if response.get("Content-Type", "").startswith("text/html"):
        assert inline_code(response.content.decode()) == []


def test_the_checker_finds_what_the_policy_would_block():
    html = """<p style="color:red" onclick="x()">a</p><script>alert(1)</script><style>p{}</style>
    <a href=" JavaScript:void(0)">b</a><script src="/static/js/htmx.js"></script>
    <script type="application/json" id="data">{}</script>"""

    assert inline_code(html) == [
        "<p style=...> at line 1",
        "<p onclick=...> at line 1",
        "inline <script> at line 1",
        "<style> at line 1",
        "<a href=javascript:...> at line 2",
    ]
