"""What a caller may do through the API: the same roles as the pages, narrowed by the token's scope.

- reading needs a member (people and their contact methods are personal data: members only);
- writing needs the role the page or admin needs for that object (`write_role` on the view:
  "operator" for incidents, "admin" for the inventory and the directory), and either a session that
  passed a second factor or a token of scope write or power;
- a power action needs an operator, and either a session that passed a code within the last
  ten minutes (as the power form does) or a power token, which the operator made right after a code
  and which expires within hours;
- a host-report token does one thing only: report for its own machine.
"""

from rest_framework import permissions

from core.access import is_member, is_operator, session_used_mfa

from .models import ApiToken

# As the power form (power/views.py MFA_FRESH): a code within the last ten minutes.
POWER_MFA_SECONDS = 600


def token_of(request):
    return request.auth if isinstance(request.auth, ApiToken) else None


def has_role(user, role):
    if role == "admin":
        return user.is_authenticated and user.is_superuser
    if role == "operator":
        return is_operator(user)
    return is_member(user)


class RolePermission(permissions.BasePermission):
    """The default for every API view; views say `write_role` and, for power, `needs_power = True`."""

    def has_permission(self, request, view):
        user, token = request.user, token_of(request)
        if not user or not user.is_authenticated:
            return False
        if token is not None and token.scope == ApiToken.Scope.REPORT:
            self.message = "A host report token can only send its machine's report."
            return getattr(view, "allows_report_tokens", False)
        if getattr(view, "allows_report_tokens", False):
            self.message = "Only a host report token can send a host report."
            return False
        if not is_member(user):
            self.message = "Only co-op members can use the API."
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return self._may_write(request, view, user, token)

    def _may_write(self, request, view, user, token):
        role = getattr(view, "write_role", "admin")
        if not has_role(user, role):
            self.message = (
                f"Only the co-op's {role}s can change this."
                if role != "admin"
                else ("Only the co-op's admins can change this.")
            )
            return False
        needs_power = getattr(view, "needs_power", False) and view.action == "create"
        if token is not None:
            if needs_power and token.scope != ApiToken.Scope.POWER:
                self.message = "A power action needs a power token (made on the API tokens page after a code)."
                return False
            if not ApiToken.Scope(token.scope).allows_writes:
                self.message = "This token can only read: make a write token to change things."
                return False
            return True
        django_request = request._request
        if needs_power and not session_used_mfa(django_request, within=POWER_MFA_SECONDS):
            self.message = "A power action needs a code from your authenticator app within the last 10 minutes."
            return False
        if not session_used_mfa(django_request):
            self.message = "Changing things needs a session that entered a code from your authenticator app."
            return False
        return True
