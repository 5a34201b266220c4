"""Logging in with email and password, the TOTP step, recovery codes, and operator actions held to MFA.

The cast: Wen, an operator with an authenticator app; Tomás, an operator who
has not set one up; Priya, a member; Ada, the admin (tests/conftest.py).
"""

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.urls import path, reverse

import switchboard.urls
from core.access import MEMBERS, OPERATORS, operator_required, session_used_mfa

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

PASSWORD = "tangerine-lantern-42"
NOW = 1_900_000_000.0  # a fixed clock for TOTP, so each test knows which codes are current


@operator_required
def _power_cycle(request):
    return HttpResponse("cycled")


@operator_required(mfa_within=300)
def _fresh_power_cycle(request):
    return HttpResponse("cycled")


# The product's URLs plus two operator-only actions to knock on.
urlpatterns = [
    *switchboard.urls.urlpatterns,
    path("test/power-cycle/", _power_cycle, name="test_power_cycle"),
    path("test/fresh-power-cycle/", _fresh_power_cycle, name="test_fresh_power_cycle"),
]


@pytest.fixture(autouse=True)
def _own_cache(settings):
    # Used TOTP codes and rate limits live in the cache; keep them from leaking between tests.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "mfa"}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _frozen_totp_clock(monkeypatch):
    # Only TOTP's idea of "now" is fixed (time.time itself must keep running for sessions).
    def counters():
        now = int(NOW // mfa_settings.TOTP_PERIOD)
        return iter(range(now - mfa_settings.TOTP_TOLERANCE, now + mfa_settings.TOTP_TOLERANCE + 1))

    monkeypatch.setattr("allauth.mfa.totp.internal.auth.yield_hotp_counters_from_time", counters)


def totp_code(secret, steps=0):
    """The code an authenticator app shows for `secret` at NOW (`steps` × 30 s later or earlier)."""
    return format_hotp_value(hotp_value(secret, int(NOW // mfa_settings.TOTP_PERIOD) + steps))


def _user(django_user_model, name, email, group=None, **extra):
    user = django_user_model.objects.create_user(name, email, PASSWORD, **extra)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def member(django_user_model):
    return _user(django_user_model, "priya", "priya@example.org", MEMBERS)


@pytest.fixture
def operator_without_totp(django_user_model):
    return _user(django_user_model, "tomas", "tomas@example.org", OPERATORS)


@pytest.fixture
def totp_secret():
    return generate_totp_secret()


@pytest.fixture
def operator(django_user_model, totp_secret):
    wen = _user(django_user_model, "wen", "wen@example.org", OPERATORS)
    TOTP.activate(wen, totp_secret)
    RecoveryCodes.activate(wen)
    return wen


def _log_in(client, email):
    return client.post(reverse("account_login"), {"login": email, "password": PASSWORD})


def _logged_in(client):
    return "_auth_user_id" in client.session


def test_member_logs_in_with_email_and_password(client, member):
    response = _log_in(client, "priya@example.org")

    assert response.status_code == 302
    assert response.url == "/"
    assert int(client.session["_auth_user_id"]) == member.pk


def test_wrong_password_is_refused_next_to_the_form(client, member):
    response = client.post(reverse("account_login"), {"login": "priya@example.org", "password": "wrong"})

    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert not _logged_in(client)


def test_an_account_made_by_an_admin_is_not_held_at_email_verification(client, django_user_model, mailoutbox):
    _user(django_user_model, "ines", "ines@example.org", MEMBERS)

    response = _log_in(client, "ines@example.org")

    assert response.url == "/"
    assert _logged_in(client)
    assert mailoutbox == []


def test_operator_with_totp_must_pass_the_totp_step(client, operator, totp_secret):
    response = _log_in(client, "wen@example.org")

    assert response.url == reverse("mfa_authenticate")
    assert not _logged_in(client)

    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert "Incorrect code" in response.content.decode()
    assert not _logged_in(client)

    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(totp_secret)})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == operator.pk


def test_a_totp_code_works_only_once(client, operator, totp_secret):
    code = totp_code(totp_secret)
    _log_in(client, "wen@example.org")
    client.post(reverse("mfa_authenticate"), {"code": code})
    client.post(reverse("account_logout"))

    _log_in(client, "wen@example.org")
    response = client.post(reverse("mfa_authenticate"), {"code": code})

    assert "Incorrect code" in response.content.decode()
    assert not _logged_in(client)


def test_recovery_codes_work_once(client, operator):
    code = RecoveryCodes(Authenticator.objects.get(user=operator, type="recovery_codes")).get_unused_codes()[0]

    _log_in(client, "wen@example.org")
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert _logged_in(client)
    client.post(reverse("account_logout"))

    _log_in(client, "wen@example.org")
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert "Incorrect code" in response.content.decode()
    assert not _logged_in(client)


def test_totp_secret_is_stored_encrypted(operator, totp_secret):
    stored = Authenticator.objects.get(user=operator, type="totp").data["secret"]
    assert totp_secret not in stored


def test_operator_without_totp_is_told_to_set_it_up_after_logging_in(client, operator_without_totp):
    response = _log_in(client, "tomas@example.org")

    assert response.url == "/"
    [message] = [m for m in get_messages(response.wsgi_request) if "authenticator app" in str(m)]
    assert f'<a href="{reverse("mfa_activate_totp")}">Set it up now</a>' in str(message)


def test_admin_login_goes_through_the_same_login_page(client):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


# --- operator_required ----------------------------------------------------------------------


def test_operator_action_sends_anonymous_visitors_to_log_in(client):
    response = client.get("/test/power-cycle/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_member_cannot_do_operator_actions(client, member):
    client.force_login(member)
    assert client.get("/test/power-cycle/").status_code == 403


def test_operator_without_totp_is_sent_to_set_it_up(client, operator_without_totp):
    client.force_login(operator_without_totp)

    response = client.get("/test/power-cycle/")

    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


def test_operator_required_refuses_a_session_that_logged_in_without_mfa(client, operator, totp_secret):
    client.force_login(operator)  # a password-only session, as if TOTP was set up after logging in

    response = client.get("/test/power-cycle/")

    assert response.status_code == 302
    assert response.url == reverse("mfa_reauthenticate") + "?next=%2Ftest%2Fpower-cycle%2F"

    response = client.post(response.url, {"code": totp_code(totp_secret), "next": "/test/power-cycle/"})
    assert response.url == "/test/power-cycle/"
    assert client.get("/test/power-cycle/").content == b"cycled"


def test_a_refused_post_comes_back_to_the_page_with_the_button(client, operator):
    client.force_login(operator)

    response = client.post("/test/power-cycle/", headers={"referer": "http://testserver/machines/xen1/"})

    assert response.url == reverse("mfa_reauthenticate") + "?next=%2Fmachines%2Fxen1%2F"


def test_a_refused_htmx_request_sends_the_whole_page_to_the_code(client, operator):
    client.force_login(operator)

    response = client.post("/test/power-cycle/", headers={"HX-Request": "true"})

    assert response["HX-Redirect"].startswith(reverse("mfa_reauthenticate"))


def test_operator_who_logged_in_with_totp_can_act(client, operator, totp_secret):
    _log_in(client, "wen@example.org")
    client.post(reverse("mfa_authenticate"), {"code": totp_code(totp_secret)})

    response = client.get("/test/power-cycle/")

    assert response.status_code == 200
    assert response.content == b"cycled"


def test_an_old_mfa_check_is_not_fresh_enough_where_freshness_is_asked(client, operator, totp_secret):
    _log_in(client, "wen@example.org")
    client.post(reverse("mfa_authenticate"), {"code": totp_code(totp_secret)})
    session = client.session
    for record in session["account_authentication_methods"]:
        record["at"] -= 3600
    session.save()

    assert client.get("/test/power-cycle/").status_code == 200
    response = client.get("/test/fresh-power-cycle/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("mfa_reauthenticate"))


def test_admins_need_mfa_for_operator_actions_too(client, admin_user):
    client.force_login(admin_user)

    assert client.get("/test/power-cycle/").url == reverse("mfa_activate_totp")


def test_operator_cannot_switch_totp_off(client, operator, totp_secret):
    _log_in(client, "wen@example.org")
    client.post(reverse("mfa_authenticate"), {"code": totp_code(totp_secret)})
    # Switching it off asks to confirm with a code first.
    client.post(reverse("mfa_reauthenticate"), {"code": totp_code(totp_secret, steps=-1)})

    response = client.post(reverse("mfa_deactivate_totp"))

    assert "Operators must keep an authenticator app" in response.content.decode()
    assert Authenticator.objects.filter(user=operator, type="totp").exists()


def test_session_used_mfa_is_false_for_anonymous_requests(rf):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore

    request = rf.get("/")
    request.user, request.session = AnonymousUser(), SessionStore()
    assert not session_used_mfa(request)
