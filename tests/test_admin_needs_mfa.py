"""The admin can rewire outlets and change BMC passwords: a password alone does not open it."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from .conftest import log_in_with_second_factor

pytestmark = pytest.mark.django_db


def test_an_admin_without_an_authenticator_app_is_sent_to_set_one_up(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/admin/power/powercontroller/")
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


def test_an_admin_who_logged_in_with_a_password_only_is_asked_for_a_code(client, admin_user):
    TOTP.activate(admin_user, generate_totp_secret())
    client.force_login(admin_user)
    response = client.get("/admin/power/powercontroller/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("mfa_reauthenticate"))
    assert "next=%2Fadmin%2Fpower%2Fpowercontroller%2F" in response.url


def test_an_admin_who_entered_a_code_gets_in(client, admin_user):
    log_in_with_second_factor(client, admin_user)
    assert client.get("/admin/power/powercontroller/").status_code == 200


def test_the_local_demo_can_switch_the_requirement_off(client, admin_user, settings):
    settings.ADMIN_REQUIRES_MFA = False
    client.force_login(admin_user)
    assert client.get("/admin/power/powercontroller/").status_code == 200


def test_anonymous_visitors_still_get_the_login_page(client):
    response = client.get("/admin/power/powercontroller/")
    assert response.status_code == 302
    assert "login" in response.url
