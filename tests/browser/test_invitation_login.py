"""Wen gets an invitation to be an operator and does everything on a phone: sign up, set up the
authenticator app, log out, log in again with password and code, log out."""

import re

from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from coop.models import Invitation
from core.access import OPERATORS
from tests.browser.conftest import PASSWORD, totp_now


def test_invited_operator_signs_up_sets_up_totp_and_logs_in_with_a_code(
    phone_page, admin_user, mailoutbox, screenshot, django_user_model
):
    page = phone_page
    Invitation.objects.create(email="wen@example.org", role=Invitation.Role.OPERATOR, invited_by=admin_user).send()
    [mail] = mailoutbox
    link = re.search(r"http://\S+/invitations/\S+/", mail.body).group(0)

    # The link lands on sign-up with the invited address fixed.
    page.goto(link)
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("wen@example.org")
    expect(page.get_by_label("Email")).to_be_disabled()
    screenshot(page, "1-sign-up")
    page.get_by_label("Your name").fill("Wen Li")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    # Operators go straight on to the authenticator app; allauth asks for the password once more first.
    page.wait_for_url("**/accounts/reauthenticate/**")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    expect(page.get_by_role("img", name="QR code to scan with your authenticator app")).to_be_visible()
    screenshot(page, "2-set-up-authenticator")
    secret = page.get_by_label("Setup key").inner_text().replace(" ", "")  # shown in blocks of four
    page.get_by_label("Code").fill(totp_now(secret))
    page.get_by_role("button", name="Turn on").click()

    page.wait_for_url("**/accounts/2fa/recovery-codes/")
    expect(page.get_by_label("Unused codes")).to_be_visible()
    screenshot(page, "3-recovery-codes")
    wen = django_user_model.objects.get(email="wen@example.org")
    assert wen.groups.filter(name=OPERATORS).exists()
    assert Authenticator.objects.filter(user=wen, type=Authenticator.Type.TOTP).exists()

    # Log out from the header, then back in: the password alone is not enough.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")
    page.get_by_label("Email").fill("wen@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    screenshot(page, "4-log-in")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    expect(page.get_by_label("Code")).to_have_attribute("inputmode", "numeric")
    screenshot(page, "5-enter-code")
    page.get_by_label("Code").fill(totp_now(secret))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/" not in url)
    screenshot(page, "6-logged-in")

    page.goto("/accounts/2fa/")
    expect(page.get_by_text("Authentication using an authenticator app is active.")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")
    page.goto("/accounts/2fa/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))


def test_expired_invitation_says_so_on_a_phone(phone_page, admin_user, screenshot):
    from datetime import timedelta

    from django.utils import timezone

    invitation = Invitation.objects.create(
        email="noor@example.org", invited_by=admin_user, expires_at=timezone.now() - timedelta(days=1)
    )

    phone_page.goto(f"/invitations/{invitation.token}/")

    expect(phone_page.get_by_role("heading", name="This invitation has expired")).to_be_visible()
    expect(phone_page.get_by_text("Ada Okoro")).to_be_visible()
    screenshot(phone_page, "expired")


def test_member_fixture_logs_in_on_a_phone(logged_in_member_page, screenshot):
    expect(logged_in_member_page.get_by_role("button", name="Log out")).to_be_visible()
    screenshot(logged_in_member_page, "member-logged-in")


def test_operator_fixture_logs_in_with_a_code(logged_in_operator_page):
    logged_in_operator_page.goto("/accounts/2fa/")
    expect(logged_in_operator_page.get_by_text("Authentication using an authenticator app is active.")).to_be_visible()


def test_login_page_on_a_desktop(desktop_page, screenshot):
    desktop_page.goto("/accounts/login/")
    expect(desktop_page.get_by_role("heading", name="Log in")).to_be_visible()
    screenshot(desktop_page, "login")
