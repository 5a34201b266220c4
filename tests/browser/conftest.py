"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium) against Django's live server.

Fixtures for any page's browser test:
- `phone_page` (360 × 740, touch) and `desktop_page` (1280 × 800): a Playwright
  Page whose relative URLs go to the live server (`page.goto("/machines/")`);
- `screenshot(page, "step")`: saves test-artifacts/screenshots/<test>--<step>.png;
- `log_in(page, email, password=PASSWORD, totp_secret=None)`: through the real login page;
- `member_user`, `operator_user` (+ `operator_totp_secret`), and
  `logged_in_member_page` / `logged_in_operator_page`: a phone page already logged in
  (the operator with a TOTP code, so operator_required lets them act).
A failing test leaves a screenshot of each open page named <test>--FAILED-<n>.png.
Browser tests run after all the others (see pytest_collection_modifyitems below).

Chromium comes from apt (`apt-get install chromium`), never `playwright install`.
Without it the tests skip on a laptop and fail in CI (tests.conftest.service_missing).
"""

import os
import re
from pathlib import Path

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.contrib.auth.models import Group
from django.test import override_settings

from core.access import MEMBERS, OPERATORS
from tests.conftest import service_missing

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PASSWORD = "tangerine-lantern-42"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    # Browser tests run last (after pytest-django's own ordering): from the first one on, Playwright
    # keeps an event loop in this thread, and DJANGO_ALLOW_ASYNC_UNSAFE with it (see `playwright`).
    here = Path(__file__).resolve().parent
    items.sort(key=lambda item: Path(item.path).resolve().is_relative_to(here))


@pytest.fixture(scope="session")
def playwright(playwright):
    """pytest-playwright's Playwright, with Django told that the ORM may be used beside its event loop.

    Playwright's sync API keeps an event loop running in this thread until the session ends, and
    Django refuses ORM calls from such a thread unless DJANGO_ALLOW_ASYNC_UNSAFE is set (safe
    here: nothing else runs on that loop). Set only now, not at import, so that tests running
    before the browser tests (and `manage.py check --deploy` in their subprocesses) never see it.
    """
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    return playwright


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Overrides pytest-playwright's fixture: Debian's Chromium with flags for a container.
    if not Path(CHROMIUM).exists():
        service_missing(f"chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def _plain_http_live_server():
    # The live server builds its middleware once, when it starts, and SecurityMiddleware reads
    # SECURE_SSL_REDIRECT then: tests.conftest's per-test override comes too late for it.
    # Plain HTTP on localhost also means cookies marked Secure would never come back.
    with override_settings(SECURE_SSL_REDIRECT=False, SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False):
        yield


@pytest.fixture(scope="session")
def live_server(_plain_http_live_server, live_server):
    """pytest-django's live server, started with plain-HTTP settings."""
    return live_server


@pytest.fixture
def _browser_settings(settings, live_server):
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SITE_URL = live_server.url
    # Used TOTP codes and rate limits live in the cache: a fresh one per test.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "browser"}}
    from django.core.cache import cache

    cache.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_test_failed = report.failed
    return report


def _new_page(browser, live_server, request, options):
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    request.node.open_pages = [*getattr(request.node, "open_pages", []), page]
    return context, page


def _save_failure_screenshots(node):
    if getattr(node, "browser_test_failed", False):
        for n, page in enumerate(getattr(node, "open_pages", []), 1):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{_safe(node.originalname)}--FAILED-{n}.png", full_page=True)


@pytest.fixture
def phone_page(browser, live_server, transactional_db, _browser_settings, request):
    """A phone-sized (360 × 740, touch) page on the live server."""
    context, page = _new_page(browser, live_server, request, PHONE)
    yield page
    _save_failure_screenshots(request.node)
    context.close()


@pytest.fixture
def desktop_page(browser, live_server, transactional_db, _browser_settings, request):
    """A desktop-sized (1280 × 800) page on the live server."""
    context, page = _new_page(browser, live_server, request, DESKTOP)
    yield page
    _save_failure_screenshots(request.node)
    context.close()


def _safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


@pytest.fixture
def screenshot(request):
    """screenshot(page, "step") saves the whole page as test-artifacts/screenshots/<test>--<step>.png."""

    def take(page, step):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{_safe(request.node.originalname)}--{_safe(step)}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return take


def totp_now(secret):
    """The code an authenticator app shows for `secret` right now."""
    import time

    from allauth.mfa import app_settings

    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD))


@pytest.fixture
def log_in():
    """log_in(page, email, password=PASSWORD, totp_secret=None): log in through the login page (and TOTP step)."""

    def do(page, email, password=PASSWORD, totp_secret=None):
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        if totp_secret:
            page.wait_for_url("**/accounts/2fa/authenticate/")
            page.get_by_label("Code").fill(totp_now(totp_secret))
            page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url and "/2fa/authenticate/" not in url)
        return page

    return do


def _user(django_user_model, username, email, group, name):
    first, last = name.split(" ", 1)
    user = django_user_model.objects.create_user(username, email, PASSWORD, first_name=first, last_name=last)
    # get_or_create: transactional tests flush the tables, taking the migration-made groups with them.
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def member_user(django_user_model, transactional_db):
    """Priya, a member: reads the inventory and contacts. Password: PASSWORD."""
    return _user(django_user_model, "priya", "priya@example.org", MEMBERS, "Priya Raman")


@pytest.fixture
def operator_totp_secret():
    return generate_totp_secret()


@pytest.fixture
def operator_user(django_user_model, transactional_db, operator_totp_secret):
    """Wen, an operator with an authenticator app (operator_totp_secret) and recovery codes."""
    user = _user(django_user_model, "wen", "wen@example.org", OPERATORS, "Wen Li")
    TOTP.activate(user, operator_totp_secret)
    RecoveryCodes.activate(user)
    return user


@pytest.fixture
def logged_in_member_page(phone_page, member_user, log_in):
    """A phone page logged in as Priya, the member."""
    return log_in(phone_page, member_user.email)


@pytest.fixture
def logged_in_operator_page(phone_page, operator_user, operator_totp_secret, log_in):
    """A phone page logged in as Wen, the operator, with a TOTP code (an MFA session)."""
    return log_in(phone_page, operator_user.email, totp_secret=operator_totp_secret)
