"""Where django-allauth is fitted to Switchboard: invite-only sign-up, TOTP kept encrypted, MFA for operators.

settings.ACCOUNT_ADAPTER, ACCOUNT_FORMS, MFA_ADAPTER and MFA_FORMS point here.
The invitation link (coop.invitation_views) puts the invitation's token in the
session; sign-up is open only while that invitation is still valid, and saving
the new account accepts it in the same transaction.
"""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.forms import SignupForm
from allauth.account.models import EmailAddress
from allauth.account.utils import get_next_redirect_url
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.base import forms as mfa_forms
from allauth.mfa.base.internal.flows import post_authentication
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.forms import ActivateTOTPForm as ActivateTOTPFormBase
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from core.access import has_totp, is_operator
from core.fields import fernet

from .invitation_views import INVITATION_SESSION_KEY, invalid_invitation_response, invitation_in_session
from .models import Invitation


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up only with a valid invitation; operators without TOTP sent to set it up (sign-up) or told (login)."""

    def is_open_for_signup(self, request):
        invitation = invitation_in_session(request)
        if invitation is None:
            return False
        if not invitation.is_valid():
            # Say why (expired, used) and whom to ask, rather than the generic "closed".
            raise ImmediateHttpResponse(invalid_invitation_response(request, invitation))
        return True

    def save_user(self, request, user, form, commit=True):
        invitation = invitation_in_session(request)
        if invitation is None or invitation.email.lower() != form.cleaned_data["email"].lower():
            # The form pins the address; this only fires if someone went around it.
            raise PermissionDenied("Signing up needs a valid invitation for this address.")
        try:
            with transaction.atomic():
                user = super().save_user(request, user, form, commit=True)
                invitation.accept(user, name=form.cleaned_data.get("name", ""))
        except Invitation.NotValid:
            # Used or expired between showing the form and saving it: no account either.
            invitation.refresh_from_db()
            raise ImmediateHttpResponse(invalid_invitation_response(request, invitation)) from None
        request.session.pop(INVITATION_SESSION_KEY, None)
        return user

    def pre_login(self, request, user, **kwargs):
        # An address typed by an admin (the admin, createsuperuser, seed_demo) is
        # vouched for like an invitation; without this, ACCOUNT_EMAIL_VERIFICATION
        # = "mandatory" would hold such accounts at "verify your email".
        if (
            user.email
            and not EmailAddress.objects.filter(user=user).exists()
            and not EmailAddress.objects.filter(email__iexact=user.email, verified=True).exists()
        ):
            EmailAddress.objects.create(user=user, email=user.email.lower(), primary=True, verified=True)
        return super().pre_login(request, user, **kwargs)

    def post_login(self, request, user, **kwargs):
        response = super().post_login(request, user, **kwargs)
        if not kwargs.get("signup") and is_operator(user) and not has_totp(user):
            # A nudge, not the gate (that is operator_required): the pages stay one tap away.
            messages.warning(
                request,
                format_html(
                    'Operators need an authenticator app for power actions and incident edits. <a href="{}">Set it '
                    "up now</a>.",
                    reverse("mfa_activate_totp"),
                ),
            )
        return response

    def logout(self, request):
        super().logout(request)
        if request.method == "POST" and getattr(request.resolver_match, "url_name", None) == "account_logout":
            # Logging out also empties this browser of what Switchboard kept for the member: the offline
            # copies of the outage pages and the service worker that kept them (static/js/sw.js). The
            # header must be on the logout view's own response, which allauth builds after this method:
            # answer with that same redirect now (the session is already flushed, so allauth's remaining
            # clean-up of it has nothing left to do). Other flows that log out (a password reset) go on.
            response = redirect(get_next_redirect_url(request) or self.get_logout_redirect_url(request))
            response["Clear-Site-Data"] = '"cache", "storage"'
            raise ImmediateHttpResponse(response)

    def get_signup_redirect_url(self, request):
        if is_operator(request.user) and not has_totp(request.user):
            return reverse("mfa_activate_totp")
        return super().get_signup_redirect_url(request)


class InvitationSignupForm(SignupForm):
    """Sign-up form whose email is fixed to the invited address; asks for the name colleagues know you by."""

    name = forms.CharField(
        max_length=150,
        label="Your name",
        help_text="As the other volunteers know you; shown on the co-op's contact pages.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    field_order = ["name", "email", "password1", "password2"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitation = invitation = invitation_in_session(context.request)
        email = self.fields["email"]
        # A disabled field keeps its initial value whatever the browser posts.
        email.disabled = True
        email.initial = invitation.email if invitation else ""
        email.help_text = "The address your invitation was sent to. You log in with it."


def _numeric_code(form):
    # Phones then show the number pad; TOTP and recovery codes are both digits.
    form.fields["code"].widget.attrs.update({"inputmode": "numeric", "autocomplete": "one-time-code"})
    form.fields["code"].label = "Code"


class AuthenticateForm(mfa_forms.AuthenticateForm):
    """The code asked for at login, with a number pad on phones."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _numeric_code(self)


class ReauthenticateForm(mfa_forms.ReauthenticateForm):
    """The code asked for again before operator actions, with a number pad on phones."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _numeric_code(self)


class ActivateTOTPForm(ActivateTOTPFormBase):
    """The first code from a newly set up authenticator app, with a number pad on phones."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _numeric_code(self)
        self.fields["code"].help_text = "The 6-digit code your app shows now."


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds encrypted at rest; operators cannot switch their TOTP off."""

    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": (
            "Operators must keep an authenticator app. Ask an admin to remove you from "
            "Operators first, or to reset your authenticator if you lost your phone."
        ),
    }

    def encrypt(self, text):
        return fernet().encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text):
        return fernet().decrypt(encrypted_text.encode()).decode()

    def can_delete_authenticator(self, authenticator):
        if authenticator.type == Authenticator.Type.TOTP and is_operator(authenticator.user):
            return False
        return super().can_delete_authenticator(authenticator)


def setup_counts_as_a_code(sender, request, user, authenticator, **kwargs):
    """Record the first code of a newly set up authenticator app as this session's second factor.

    Connected to allauth's authenticator_added (coop.apps). Setting it up already took the password
    again and a code from the app: asking for another code straight after, on the way back to the
    power form the operator was sent from, would only cost them time in an outage.
    """
    if authenticator.type == Authenticator.Type.TOTP and request is not None:
        post_authentication(request, authenticator, reauthenticated=True)
