"""The confirm link in a "does this still reach you?" message, /contacts/confirm/<token>/ (coop.verification).

No login: the link is the key, and the page shows nothing but the value it confirms. GET shows one
button (mail scanners fetch links); only the POST confirms. Expired, altered, out-of-date (the value
changed) and already-used links get a page that says so and changes nothing.
"""

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .models import ContactMethod
from .verification import read_confirm_token


@never_cache
@require_http_methods(["GET", "POST"])
def confirm_contact(request: HttpRequest, token):
    """GET shows the value and a button; the POST records that it still reaches the person."""
    try:
        link = read_confirm_token(token)
    except signing.SignatureExpired:
        return _invalid(request, "expired", status=410)
    except (signing.BadSignature, KeyError, TypeError, ValueError, OverflowError):
        return _invalid(request, "tampered", status=400)
    method = ContactMethod.objects.filter(pk=link.method_id).first()
    if method is None or not link.is_for(method):
        return _invalid(request, "changed", status=410)

    confirmed = False
    if method.verification_requested_at == link.asked_at and request.method == "POST":
        confirmed = method.confirm_by_link(link.asked_at)
        if not confirmed:
            method.refresh_from_db()  # a second tap, or the value changed meanwhile: said below
            if not link.is_for(method):
                return _invalid(request, "changed", status=410)
    if not confirmed and method.verification_requested_at != link.asked_at:
        if method.verified_at is not None and method.verified_at >= link.asked_at:
            return render(request, "coop/confirm.html", {"method": method, "already_confirmed": True})
        # A newer message went out since (its link is the one that works).
        return _invalid(request, "expired", status=410)
    return render(request, "coop/confirm.html", {"method": method, "confirmed": confirmed})


def _invalid(request, reason, status):
    context = {"reason": reason, "days": settings.CONTACT_VERIFICATION_ASK_EVERY_DAYS}
    return render(request, "coop/confirm_invalid.html", context, status=status)
