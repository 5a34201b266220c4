"""The API tokens page: a member makes, sees and revokes their own tokens.

A token is shown once, on the page that made it. A power token needs an operator who entered a
code from their authenticator app within the last ten minutes, and lasts hours, not days.
"""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.access import is_operator, member_required, second_factor_refusal

from .models import ApiToken
from .permissions import POWER_MFA_SECONDS

LIFETIMES = {
    "1h": timedelta(hours=1),
    "8h": timedelta(hours=8),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "365d": timedelta(days=365),
}


class TokenForm(forms.Form):
    name = forms.CharField(label="What it is for", max_length=100, help_text="e.g. backup script on store1")
    scope = forms.ChoiceField(
        label="What it may do",
        choices=[(scope.value, scope.label) for scope in ApiToken.Scope if scope != ApiToken.Scope.REPORT],
        initial=ApiToken.Scope.READ,
        widget=forms.RadioSelect,
    )
    lifetime = forms.ChoiceField(
        label="Lasts",
        choices=[("1h", "1 hour"), ("8h", "8 hours"), ("30d", "30 days"), ("90d", "90 days"), ("365d", "1 year")],
        initial="90d",
    )


@never_cache
@require_http_methods(["GET", "POST"])
@member_required
def api_tokens(request):
    form = TokenForm(request.POST or None)
    made = None
    if request.method == "POST" and form.is_valid():
        scope = form.cleaned_data["scope"]
        if scope == ApiToken.Scope.POWER:
            if not is_operator(request.user):
                form.add_error("scope", "Only operators can make a power token.")
            elif (refusal := second_factor_refusal(request, mfa_within=POWER_MFA_SECONDS)) is not None:
                return refusal
        if not form.errors:
            try:
                token, text = ApiToken.issue(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    scope=scope,
                    lifetime=LIFETIMES[form.cleaned_data["lifetime"]],
                )
            except ValidationError as error:
                form.add_error("lifetime", error.messages)
            else:
                made = {"token": token, "text": text}
                form = TokenForm()
    tokens = ApiToken.objects.filter(user=request.user).select_related("machine")
    status = 400 if form.errors else 201 if made else 200
    return render(request, "api/tokens.html", {"form": form, "tokens": tokens, "made": made}, status=status)


@require_POST
@member_required
def api_token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token.revoke()
    messages.success(request, f"Revoked “{token.name}”: it no longer works.")
    return redirect("api_tokens")
