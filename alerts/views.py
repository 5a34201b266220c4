"""Alert pages: the one-tap acknowledgement link, the on-call calendar feeds, and the operators'
buttons on an incident (acknowledge; "I'm on it, send someone with site access")."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coop.models import Person
from core.access import member_required, operator_required

from . import escalation
from .calendars import person_calendar, rota_calendar
from .models import Alert, CalendarFeed, Notification, Rota, RotaMember
from .sending import read_ack_token


@never_cache
@require_http_methods(["GET", "POST"])
def acknowledge_by_link(request: HttpRequest, token):
    """GET shows what the alert is about and one button; only the POST acknowledges (link scanners GET)."""
    try:
        notification_id = read_ack_token(token)
    except signing.SignatureExpired:
        return render(request, "alerts/ack_invalid.html", {"expired": True}, status=410)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return render(request, "alerts/ack_invalid.html", {"expired": False}, status=400)
    notification = (
        Notification.objects.select_related("alert__incident", "alert__acknowledged_by", "person")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None:
        return render(request, "alerts/ack_invalid.html", {"expired": False}, status=400)
    alert = notification.alert
    acknowledged = False
    if request.method == "POST":
        alert, acknowledged = escalation.acknowledge(
            alert, person=notification.person, via=f"with the link in their {notification.channel} alert"
        )
    # Nobody need be logged in here: every time on the page in the time zone of the person the alert went to,
    # as in their message.
    zone = notification.person.timezone if notification.person else timezone.get_current_timezone()
    with timezone.override(zone):
        return render(request, "alerts/ack.html", _ack_context(alert, notification, acknowledged))


def _ack_context(alert, notification, acknowledged):
    started = timezone.localtime(alert.incident.started_at)
    return {
        "alert": alert,
        "incident": alert.incident,
        "notification": notification,
        "acknowledged": acknowledged,
        "started": started,
    }


@require_POST
@operator_required
def acknowledge_here(request: HttpRequest, pk):
    alert = get_object_or_404(Alert.objects.select_related("incident"), pk=pk)
    alert, acknowledged = escalation.acknowledge(alert, user=request.user, via="from the incident page")
    if acknowledged:
        messages.success(request, "Acknowledged: nobody else will be alerted for this incident.")
    else:
        messages.info(request, f"This alert was already {alert.get_status_display().lower()}.")
    return redirect(alert.incident)


@require_POST
@operator_required
def ask_for_site_access(request: HttpRequest, pk):
    alert = get_object_or_404(Alert.objects.select_related("incident"), pk=pk)
    reached = escalation.ask_for_site_access(alert, user=request.user)
    if reached is None:
        messages.info(request, "Not sent again: the incident is resolved, or someone asked a moment ago.")
    elif reached:
        people = sorted({n.person.name for n in reached})
        messages.success(request, f"You are on it. Alerting who can get into the site: {', '.join(people)}.")
    else:
        messages.warning(request, "Nobody with access to this site can be alerted: call them from the site page.")
    return redirect(alert.incident)


@require_GET
def calendar_feed(request: HttpRequest, token):
    """A secret iCal address: a rota's shifts, or one person's across every rota."""
    start = timezone.now() - timedelta(days=7)
    rota = Rota.objects.filter(calendar_token=token).first()
    if rota is not None:
        body = rota_calendar(rota, start)
    else:
        feed = CalendarFeed.objects.select_related("person").filter(token=token).first()
        if feed is None:
            raise Http404("No calendar has this address (it may have been replaced).")
        body = person_calendar(feed.person, start)
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


@require_GET
@member_required
def my_calendar(request: HttpRequest):
    """The volunteer's own secret calendar address, made the first time they ask for it."""
    person = Person.objects.filter(user=request.user).first()
    feed = CalendarFeed.objects.get_or_create(person=person)[0] if person is not None else None
    context = {
        "person": person,
        "url": settings.SITE_URL + reverse("oncall_calendar", args=[feed.token]) if feed else None,
        "rotas": Rota.objects.filter(pk__in=RotaMember.objects.filter(person=person).values("rota")) if person else [],
    }
    return render(request, "alerts/my_calendar.html", context)
