"""The owner-notice pages: the operators' "Notify affected owners" button, and the signed links in an
owner email that subscribe its address to every public update (or stop them)."""

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from coop.models import Organization
from core.access import operator_required
from incidents.models import Incident

from . import owners
from .links import read_subscribe_token, read_unsubscribe_token
from .models import OwnerSubscription, normalise_address

# The subscribe page names the organisation's guests (the link's holder was told about them), a few.
GUESTS_SHOWN = 20


@require_POST
@operator_required
def notify_owners(request: HttpRequest, pk):
    """Tell every affected owner the latest public update (once per update), then back to the incident."""
    incident = get_object_or_404(Incident, pk=pk)
    try:
        told = owners.notify_owners(incident, by=request.user)
    except ValidationError as error:
        messages.warning(request, " ".join(error.messages))
        return redirect(incident)
    if told.already_told:
        messages.warning(
            request,
            f"Owners were already told about this update at {timezone.localtime(told.already_told_at):%H:%M}; "
            "post a new public update to tell them more.",
        )
    else:
        said = f"Telling {told.owners} owner{'s' if told.owners != 1 else ''} "
        said += f"({told.addresses} address{'es' if told.addresses != 1 else ''}) about the update of "
        said += f"{timezone.localtime(told.update.at):%H:%M}."
        if told.unreachable:
            said += f" No way to reach {', '.join(told.unreachable)}: add an email address in the admin."
        messages.success(request, said)
    return redirect(incident)


@never_cache
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest, token):
    """GET shows what the link would do and one button; only the POST subscribes (link scanners GET)."""
    return _subscription_page(
        request, token, read_subscribe_token, "notices/subscribe.html", OwnerSubscription.subscribe
    )


@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token):
    """GET asks to confirm; only the POST stops the automatic updates."""
    return _subscription_page(
        request, token, read_unsubscribe_token, "notices/unsubscribe.html", OwnerSubscription.unsubscribe
    )


def _subscription_page(request, token, read, template, change):
    try:
        organization_id, address = read(token)
    except signing.SignatureExpired:
        return render(request, "notices/link_invalid.html", {"expired": True}, status=410)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return render(request, "notices/link_invalid.html", {"expired": False}, status=400)
    organization, address = Organization.objects.filter(pk=organization_id).first(), normalise_address(address)
    if organization is None or not address:
        return render(request, "notices/link_invalid.html", {"expired": False}, status=400)
    done = False
    if request.method == "POST":
        change(organization, address)
        done = True
    context = {
        "organization": organization,
        "address": address,
        "guests": organization.guests.values_list("name", flat=True)[:GUESTS_SHOWN],
        "subscribed": OwnerSubscription.objects.filter(organization=organization, address=address).exists(),
        "done": done,
    }
    return render(request, template, context)
