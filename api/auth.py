"""Who is calling the API: a personal token (Authorization: Bearer sb_…) or the browser's session."""

from rest_framework import authentication, exceptions

from .models import ApiToken


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>` (or `Token <token>`): the token's owner, with the token as request.auth.

    A wrong, revoked or expired token is refused with a message saying which, never silently treated
    as anonymous: a script with a dead token must say so in its log.
    """

    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the header as “Authorization: Bearer <token>”.")
        token = ApiToken.find(header[1])
        if token is None:
            raise exceptions.AuthenticationFailed("This token is not one of Switchboard's.")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This token was revoked.")
        if token.is_expired:
            raise exceptions.AuthenticationFailed("This token has expired: make a new one on the API tokens page.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("This token's owner can no longer log in.")
        token.note_use()
        return token.user, token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) to a request with no credentials.
        return 'Bearer realm="switchboard"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The logged-in browser (the browsable docs, htmx): CSRF-checked on every write, as the pages are."""
