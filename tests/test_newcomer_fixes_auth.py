"""What a newcomer met on a 375 px phone in the login and second-factor pages, fixed.

Otto, an operator without an authenticator app, taps Power-cycle: the password page says why it is
asked and that he comes back; the setup page tells him to copy the key on this phone and shows it in
full; the recovery-codes page puts its main button first and "Make new codes" apart. A form refused
for a stale token says "send it again" when it offers to, with labels a person reads. Logging in
greets Ines by her name, and the alert link only says "(log in)" to someone not logged in.
"""

import re

import pytest
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from alerts.models import Alert, Notification
from alerts.sending import ack_token
from tests.browser.conftest import totp_now

from .conftest import log_in_with_second_factor
from .test_error_pages import EXPIRED, RESEND, SAME_SITE

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db

PASSWORD = "tangerine-lantern-42"


def words(response):
    """The page's text with its line breaks and indentation folded to single spaces."""
    return " ".join(response.content.decode().split())


def _power_form_url(scene):
    return reverse("power_request", args=[scene.machine.hostname])


# --- 1. Setting up an authenticator app from a power button -------------------------------------


@pytest.fixture
def otto_without_an_app(client, operator):
    """Otto's browser: logged in a while ago with his password, no authenticator app yet."""
    operator.set_password(PASSWORD)
    operator.save()
    client.force_login(operator)
    return client


def test_the_password_page_before_adding_an_app_says_why_and_that_he_comes_back(otto_without_an_app, scene):
    client = otto_without_an_app
    setup_url = reverse("mfa_activate_totp")
    assert client.get(_power_form_url(scene)).url == setup_url

    asked = client.get(setup_url)
    assert asked.url.startswith(reverse("account_reauthenticate"))
    page = words(client.get(asked.url))

    assert (
        "Before adding an authenticator app (needed for power actions and incident edits), type your password "
        "again. You come back to what you were doing."
    ) in page
    assert "Confirm Access" not in page and "Please reauthenticate" not in page
    assert client.post(asked.url, {"password": PASSWORD}).url == setup_url


def test_the_password_page_asked_for_anything_else_says_to_continue(client, member):
    member.set_password(PASSWORD)
    member.save()
    client.force_login(member)

    page = words(client.get(reverse("account_reauthenticate"), {"next": "/accounts/email/"}))

    assert "To continue, type your password again. You come back to what you were doing." in page
    assert "Before adding an authenticator app" not in page
    assert 'name="next" value="/accounts/email/"' in page


def test_the_setup_page_says_to_copy_the_key_on_this_phone_and_shows_all_of_it(otto_without_an_app, scene):
    client = otto_without_an_app
    client.get(_power_form_url(scene))  # sent here from the power form
    setup_url = reverse("mfa_activate_totp")
    client.post(client.get(setup_url).url, {"password": PASSWORD})

    response = client.get(setup_url)

    page = words(response)
    secret = client.session[SECRET_SESSION_KEY]
    assert "On another device, scan the QR code; on this phone, copy the setup key into your authenticator app" in page
    # In full, in blocks of four, as text to select (not cut off in a read-only box).
    blocks = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    assert f'<code class="setup-key" aria-labelledby="setup-key-label">{blocks}</code>' in page
    assert 'id="setup-key-label">Setup key<' in page
    assert f'value="{secret}"' not in page
    # The blocks are what the app is given: spaces aside, the very key this session will check.
    assert client.post(setup_url, {"code": totp_now(blocks.replace(" ", ""))}).status_code == 302


def test_the_recovery_codes_page_puts_the_main_button_first_and_new_codes_apart(otto_without_an_app, scene):
    client = otto_without_an_app
    client.get(_power_form_url(scene))
    setup_url = reverse("mfa_activate_totp")
    client.post(client.get(setup_url).url, {"password": PASSWORD})
    client.get(setup_url)
    activated = client.post(setup_url, {"code": totp_now(client.session[SECRET_SESSION_KEY])})

    page = words(client.get(activated.url))

    back = page.index(f'<a href="{_power_form_url(scene)}" class="button primary">Saved them: back to what I')
    download = page.index(">Download codes</a>")
    rule = page.index('<section class="set-apart"')
    new_codes = page.index(">Make new codes</a>")
    assert back < download < rule < new_codes
    assert "the old ones stop working" in page


# --- 2. A form refused for a stale token -------------------------------------------------------


def test_a_refused_power_form_says_send_it_again_with_labels_a_person_reads(operator, scene):
    browser = log_in_with_second_factor(Client(enforce_csrf_checks=True), operator)
    typed = {"outlet": "all", "operation": "cycle", "confirm_hostname": scene.machine.hostname, "reason": "frozen"}

    response = browser.post(_power_form_url(scene), {**typed, "csrfmiddlewaretoken": "stale" * 8}, headers=SAME_SITE)

    assert response.status_code == 403
    page = words(response)
    assert RESEND in page and "Reload and try again" not in page
    assert "<dt>Outlet</dt><dd>all</dd>" in page
    assert "<dt>Operation</dt><dd>cycle</dd>" in page
    assert f"<dt>Confirm hostname</dt><dd>{scene.machine.hostname}</dd>" in page
    assert "confirm_hostname</dt>" not in page and "Send it again" in page


def test_a_refused_form_that_cannot_be_sent_again_still_says_reload(operator, scene):
    browser = log_in_with_second_factor(Client(enforce_csrf_checks=True), operator)

    response = browser.post(
        _power_form_url(scene), {"reason": "frozen", "outlet": "all"}, headers={"Origin": "https://evil.example"}
    )

    page = words(response)
    assert EXPIRED in page and RESEND not in page and "Send it again" not in page


# --- 3. The greeting after logging in ------------------------------------------------------------


def _log_in(client, user):
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_logging_in_greets_ines_by_her_name_not_her_login(client, django_user_model):
    ines = django_user_model.objects.create_user(
        "demo", "demo@example.org", PASSWORD, first_name="Ines", last_name="Okafor"
    )

    said = _log_in(client, ines)

    assert "Signed in as Ines Okafor." in said
    assert not any("demo" in message for message in said)


def test_someone_without_a_name_is_greeted_by_their_email(client, django_user_model):
    olga = django_user_model.objects.create_user("olga", "olga@example.org", PASSWORD)

    assert "Signed in as olga@example.org." in _log_in(client, olga)


# --- 4. The alert link's way to the incident -----------------------------------------------------


@pytest.fixture
def ack_link(scene):
    alert, _ = Alert.objects.get_or_create(incident=scene.incident)
    notification = Notification.objects.create(alert=alert, person=scene.noor, channel="email")
    return reverse("alert_ack", args=[ack_token(notification)])


def test_the_alert_link_says_log_in_to_open_the_incident_only_when_not_logged_in(client, member, ack_link, scene):
    incident_link = re.escape(f'href="{scene.incident.get_absolute_url()}">Open the incident')

    anonymous = words(client.get(ack_link))
    client.force_login(member)
    logged_in = words(client.get(ack_link))

    assert re.search(incident_link + r" \(log in\)</a>", anonymous)
    assert re.search(incident_link + "</a>", logged_in) and "(log in)" not in logged_in
