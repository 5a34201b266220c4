"""Wen typed the reason and the hostname on the power form, then was asked for a code: what she typed waits.

A stale code (or an authenticator app not set up yet) sends an operator through allauth's pages;
back on the form, the reason and the choices are filled in again; the hostname is typed again (it
is the confirmation). Passwords, codes and tokens are never kept.
"""

import time

import pytest
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, TOTP, generate_totp_secret
from django.urls import reverse

from core.access import held_form_data
from tests.browser.conftest import totp_now

from .conftest import power_form

REASON = "dom0 frozen, no ping <b>at all</b>"


def _form_url(scene):
    return reverse("power_request", args=[scene.machine.hostname])


def _logged_in(client, user, *, mfa_ago=None):
    """A session that typed the password just now and, if mfa_ago is given, a code that long ago."""
    client.force_login(user)
    session = client.session
    session["account_authentication_methods_user"] = str(user.pk)
    records = [{"method": "password", "at": time.time(), "email": user.email}]
    if mfa_ago is not None:
        records.append({"method": "mfa", "at": time.time() - mfa_ago, "type": "totp"})
    session["account_authentication_methods"] = records
    session.save()


def _typed(scene):
    return power_form(scene, reason=REASON, password="never-kept", csrfmiddlewaretoken="x")


@pytest.mark.django_db
def test_a_stale_code_sends_wen_to_enter_one_and_back_to_what_she_typed(scene, client, operator):
    secret = generate_totp_secret()
    TOTP.activate(operator, secret)
    _logged_in(client, operator, mfa_ago=3600)

    refused = client.post(_form_url(scene), _typed(scene), HTTP_REFERER=f"http://testserver{_form_url(scene)}")
    assert refused.url.startswith(reverse("mfa_reauthenticate"))

    back = client.post(refused.url, {"code": totp_now(secret)})
    assert back.status_code == 302 and back.url == _form_url(scene)
    form = client.get(back.url).content.decode()
    assert "dom0 frozen, no ping &lt;b&gt;at all&lt;/b&gt;" in form and "<b>at all" not in form
    # The hostname is typed again: confirming the machine is the point of typing it.
    assert f'value="{scene.machine.hostname}"' not in form
    assert "never-kept" not in form

    # Given back once: opening the form again later starts empty.
    assert "dom0 frozen" not in client.get(_form_url(scene)).content.decode()


# Real commits: allauth announces the new authenticator once its transaction commits.
@pytest.mark.django_db(transaction=True)
def test_setting_up_the_app_brings_wen_back_to_the_form_without_another_code(scene, client, operator):
    operator.set_password("tangerine-lantern-42")
    operator.save()
    _logged_in(client, operator)  # an operator who never set up an authenticator app

    refused = client.post(_form_url(scene), _typed(scene), HTTP_REFERER=f"http://testserver{_form_url(scene)}")
    assert refused.url == reverse("mfa_activate_totp")
    # allauth asks for the password again before an authenticator is added, then shows the QR code.
    password_page = client.get(refused.url).url
    assert client.post(password_page, {"password": "tangerine-lantern-42"}).url == refused.url
    client.get(refused.url)  # the QR code; its secret waits in the session
    secret = client.session[SECRET_SESSION_KEY]
    activated = client.post(refused.url, {"code": totp_now(secret)})
    assert activated.status_code == 302

    codes_page = client.get(activated.url).content.decode()
    assert f'href="{_form_url(scene)}"' in codes_page and "back to what I was doing" in codes_page
    # The code that set the app up counts: straight onto the form, with what she typed.
    form = client.get(_form_url(scene))
    assert form.status_code == 200
    assert "dom0 frozen, no ping" in form.content.decode()
    # Through the gate: the setup page no longer offers the way back.
    assert "back to what I was doing" not in client.get(reverse("mfa_view_recovery_codes")).content.decode()


@pytest.mark.django_db
def test_what_was_typed_is_only_given_back_to_the_page_it_came_from(scene, client, operator, rf):
    _logged_in(client, operator, mfa_ago=3600)
    client.post(_form_url(scene), _typed(scene), HTTP_REFERER=f"http://testserver{_form_url(scene)}")
    request = rf.get("/machines/other.example.org/power/")
    request.session = client.session
    assert held_form_data(request) == {}


@pytest.mark.django_db
def test_what_was_typed_does_not_wait_forever(scene, client, operator, rf, monkeypatch):
    _logged_in(client, operator, mfa_ago=3600)
    client.post(_form_url(scene), _typed(scene), HTTP_REFERER=f"http://testserver{_form_url(scene)}")
    later = time.time() + 16 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    request = rf.get(_form_url(scene))
    request.session = client.session
    assert held_form_data(request) == {}
