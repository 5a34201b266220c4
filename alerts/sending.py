"""Sending one notification: what it says, delivering it (core.delivery: email through Django's mail
backend, everything else through apprise), and what happens when a channel fails.

A failed send is tried again with backoff (ALERT_SEND_ATTEMPTS, ALERT_RETRY_SECONDS) and then
reported; every outcome goes on the incident's timeline. Every channel has a timeout (EMAIL_TIMEOUT,
apprise's cto/rto), and each notification is its own task, so a hanging channel holds up nothing
else. A notification is claimed before it is sent (queued → sending), so two workers never send
the same one; one left "sending" by a worker that died is failed, not sent again.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from core.delivery import DeliveryError, record_outcome, send_apprise, send_email
from incidents.models import TimelineEntry

from .models import Notification

logger = logging.getLogger(__name__)

ACK_SALT = "switchboard.alerts.acknowledge"
PENDING = [Notification.Status.QUEUED, Notification.Status.RETRYING]


def ack_token(notification):
    """A signed, expiring token naming the notification: the one-tap link's key. Acknowledges nothing else."""
    return signing.dumps({"n": notification.pk}, salt=ACK_SALT, compress=True)


def read_ack_token(token):
    """The notification id in a token; raises signing.SignatureExpired or signing.BadSignature."""
    data = signing.loads(token, salt=ACK_SALT, max_age=timedelta(hours=settings.ALERT_ACK_LINK_HOURS))
    return int(data["n"])


def ack_link(notification):
    return settings.SITE_URL + reverse("alert_ack", args=[ack_token(notification)])


def compose(notification):
    """(subject, body) of the message: short enough for a phone's lock screen, the ack link near the top."""
    incident = notification.alert.incident
    started = timezone.localtime(incident.started_at, notification.person.timezone if notification.person else None)
    url = settings.SITE_URL + incident.get_absolute_url()
    if notification.purpose == Notification.Purpose.RESOLVED:
        subject = f"[Switchboard] RESOLVED (was: {incident.title})"
        body = f"{incident.title}: resolved, it answers again. No need to act.\n\nIncident: {url}\n"
        return subject, body
    if notification.purpose == Notification.Purpose.ACKNOWLEDGED:
        who = notification.alert.acknowledged_by.name if notification.alert.acknowledged_by else "An operator"
        subject = f"[Switchboard] ON IT: {who} has {incident.title}"
        body = f"{who} acknowledged the alert: {incident.title}. No need to act unless they ask.\n\nIncident: {url}\n"
        return subject, body
    guests = incident.affected_guest_count()
    machine = incident.machines.first() or getattr(incident.guests.select_related("machine").first(), "machine", None)
    page = f"{settings.SITE_URL}{machine.get_absolute_url()}" if machine else ""
    machine_line = f"Runbook and who can get into the site:\n{page}\n\n" if machine else ""
    owners = incident.affected_owners().count()
    why = _why_you(notification)
    subject = f"[Switchboard] DOWN: {incident.title}"
    body = (
        f"{incident.title} (since {started:%H:%M %Z}, {started:%a %d %b}).\n"
        f"Affects {guests} guest{'s' if guests != 1 else ''} of {owners} owner{'s' if owners != 1 else ''}.\n\n"
        f"I'm on it (acknowledge, stops the escalation):\n{ack_link(notification)}\n\n"
        f"Incident:\n{url}\n\n"
        f"{machine_line}"
        f"You get this because {why}.\n"
    )
    return subject, body


def _why_you(notification):
    """One line on why this person got it: on call, named next because nobody answered, or asked for."""
    if notification.purpose == Notification.Purpose.SITE_ACCESS:
        return "you have access to the site and an operator asked for someone to go there"
    steps = notification.alert.steps
    if notification.step >= len(steps):
        return "the escalation policy names you"
    step = steps[notification.step]
    whom = {"rota": step["describe"], "person": "you", "site": "everyone with access to the site"}[step["notify"]]
    if notification.step == 0 and notification.round == 0:
        return f"the escalation policy alerts {whom} first"
    waited = steps[notification.step - 1]["wait_minutes"]
    return f"nobody acknowledged within {waited} minutes, and the escalation policy alerts {whom} next"


def deliver(notification, subject, body):
    """Hand the message to its channel (core.delivery); raises DeliveryError."""
    method = notification.contact_method
    if method is None:
        raise DeliveryError("the contact method was deleted")
    if not method.alert_url:
        send_email(method.value, subject, body)
    else:
        send_apprise(method.alert_url, subject, body)


def send(notification_id, token, now=None):
    """Claim one notification and send it; returns its status afterwards (None if someone else had it)."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.ALERT_SEND_LEASE_SECONDS)
    # A retry is claimed only once its backoff is over, whoever sends the task.
    claimable = Q(status=Notification.Status.QUEUED) | Q(status=Notification.Status.RETRYING, next_attempt_at__lte=now)
    claimed = Notification.objects.filter(claimable, pk=notification_id).update(
        status=Notification.Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=lease
    )
    if not claimed:
        return None
    notification = Notification.objects.select_related("alert__incident", "contact_method", "person").get(
        pk=notification_id
    )
    if str(notification.alert.token) != str(token):
        # The alert stopped (acknowledged, resolved) after this task was queued.
        record_outcome(notification, Notification.Status.CANCELLED)
        return Notification.Status.CANCELLED
    try:
        subject, body = compose(notification)
        deliver(notification, subject, body)
    except DeliveryError as exc:
        return _failed(notification, str(exc), now)
    except Exception as exc:
        # A bug or a bad row, not the channel: retried like a failure, with the kind of error only.
        logger.exception("notification %s: sending failed", notification.pk)
        return _failed(notification, f"an error in Switchboard ({type(exc).__name__})", now)
    with transaction.atomic():  # the outcome and its timeline entry together: whoever sees one sees both
        if record_outcome(notification, Notification.Status.SENT, sent_at=timezone.now()):
            _note(notification, f"{_what(notification)} sent to {_who(notification)} by {notification.channel}.")
    return Notification.Status.SENT


def _failed(notification, why, now):
    with transaction.atomic():  # the outcome and its timeline entry together
        return _record_failure(notification, why, now)


def _record_failure(notification, why, now):
    who = f"{_who(notification)} by {notification.channel}"
    if notification.attempts < settings.ALERT_SEND_ATTEMPTS:
        delay = settings.ALERT_RETRY_SECONDS * 4 ** (notification.attempts - 1)
        retry_at = now + timedelta(seconds=delay)
        if not record_outcome(notification, Notification.Status.RETRYING, next_attempt_at=retry_at, last_error=why):
            return notification.status
        _note(
            notification,
            f"Could not reach {who} ({why}): trying again in {delay} s "
            f"(attempt {notification.attempts} of {settings.ALERT_SEND_ATTEMPTS}).",
            failed=True,
        )
        return Notification.Status.RETRYING
    if not record_outcome(notification, Notification.Status.FAILED, last_error=why):
        return notification.status
    _note(
        notification,
        f"Gave up reaching {who} after {notification.attempts} attempts ({why}). The escalation goes on.",
        failed=True,
    )
    return Notification.Status.FAILED


def fail_abandoned(now=None):
    """Notifications a dead worker left "sending": failed, not sent again (nobody gets one twice)."""
    now = now or timezone.now()
    abandoned = Notification.objects.filter(status=Notification.Status.SENDING, next_attempt_at__lte=now)
    for notification in abandoned.select_related("alert__incident", "person"):
        with transaction.atomic():
            if not record_outcome(
                notification, Notification.Status.FAILED, last_error="the worker stopped while sending it"
            ):
                continue
            _note(
                notification,
                f"The worker stopped while sending to {_who(notification)} by {notification.channel}; "
                "not sent again, so nobody gets it twice. The escalation goes on.",
                failed=True,
            )


def _what(notification):
    return {
        "resolved": "News of the resolution",
        "site": "Request for site access",
        "acknowledged": "News that someone is on it",
    }.get(notification.purpose, "Alert")


def _who(notification):
    return notification.person.name if notification.person else "a deleted person"


def _note(notification, body, failed=False):
    kind = TimelineEntry.Kind.ALERT_FAILED if failed else TimelineEntry.Kind.ALERT_SENT
    notification.alert.incident.note(body, kind=kind)
