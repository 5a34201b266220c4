"""The invitation link, /invitations/<token>/: checks it and sends the invited person on to sign up.

Anonymous, no account yet → the token goes into the session and they land on
the sign-up form with the address fixed (coop.adapters opens sign-up for it).
Anonymous with an account for that address → log in first, then back here.
Logged in as the invited address → a button accepts it (a new role for an
existing account). Expired, used or unknown → a page that says so and whom to ask.
"""

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.account.utils import filter_users_by_email
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .models import Invitation

INVITATION_SESSION_KEY = "switchboard_invitation_token"


def invitation_in_session(request):
    """The invitation whose link this browser followed (valid or not), or None."""
    token = request.session.get(INVITATION_SESSION_KEY)
    if not token:
        return None
    return Invitation.objects.select_related("invited_by").filter(token=token).first()


def invalid_invitation_response(request, invitation):
    """A page saying why `invitation` (None: an unknown link) cannot be used, and whom to ask."""
    state = invitation.state() if invitation else None
    status = 404 if invitation is None else 410
    return render(request, "invitations/invalid.html", {"invitation": invitation, "state": state}, status=status)


def _is_address_of(user, email):
    if (user.email or "").lower() == email.lower():
        return True
    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()


@require_http_methods(["GET", "POST"])
def accept_invitation(request, token):
    """Check an invitation link; send its person to sign up or log in, or accept it for the logged-in user."""
    invitation = Invitation.objects.select_related("invited_by").filter(token=token).first()
    if invitation is None or not invitation.is_valid():
        return invalid_invitation_response(request, invitation)

    if not request.user.is_authenticated:
        if filter_users_by_email(invitation.email):
            messages.info(request, "You already have an account with this address: log in to accept the invitation.")
            return redirect_to_login(request.get_full_path())
        request.session[INVITATION_SESSION_KEY] = invitation.token
        # allauth marks a stashed address verified at sign-up: the invitation reached it.
        get_adapter(request).stash_verified_email(request, invitation.email)
        return redirect("account_signup")

    if not _is_address_of(request.user, invitation.email):
        return render(request, "invitations/wrong_account.html", {"invitation": invitation}, status=403)
    if request.method == "POST":
        try:
            invitation.accept(request.user)
        except Invitation.NotValid:
            invitation.refresh_from_db()
            return invalid_invitation_response(request, invitation)
        messages.success(request, f"Invitation accepted: you are now a co-op {invitation.get_role_display().lower()}.")
        return redirect(get_adapter(request).get_login_redirect_url(request))
    return render(request, "invitations/accept.html", {"invitation": invitation})
