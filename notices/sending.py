"""Sending one owner notice, and what happens when its channel fails.

As alerts do (alerts.sending), with the same settings: a notice is claimed before it is sent
(queued → sending, a conditional UPDATE), so two workers never send the same one; a transport
failure is tried again with backoff (ALERT_SEND_ATTEMPTS, ALERT_RETRY_SECONDS) and then given up
and written on the incident's timeline; one left "sending" by a worker that died past its lease
(ALERT_SEND_LEASE_SECONDS) is failed, not sent again: at most once.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.delivery import DeliveryError, record_outcome, send_apprise, send_email
from incidents.models import TimelineEntry

from .compose import Withdrawn, compose
from .models import OwnerNotice

logger = logging.getLogger(__name__)

PENDING = [OwnerNotice.Status.QUEUED, OwnerNotice.Status.RETRYING]


def send(notice_id, now=None):
    """Claim one notice and send it; returns its status afterwards (None if it was not this call's to send)."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.ALERT_SEND_LEASE_SECONDS)
    # A retry is claimed only once its backoff is over, whoever sends the task.
    claimable = Q(status=OwnerNotice.Status.QUEUED) | Q(status=OwnerNotice.Status.RETRYING, next_attempt_at__lte=now)
    claimed = OwnerNotice.objects.filter(claimable, pk=notice_id).update(
        status=OwnerNotice.Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=lease
    )
    if not claimed:
        return None
    notice = OwnerNotice.objects.select_related("incident", "entry", "organization", "person", "contact_method").get(
        pk=notice_id
    )
    try:
        subject, body = compose(notice)
        deliver(notice, subject, body)
    except Withdrawn as exc:
        return _give_up(notice, str(exc))
    except DeliveryError as exc:
        return _failed(notice, str(exc), now)
    except Exception as exc:
        # A bug or a bad row, not the channel: retried like a failure, with the kind of error only.
        logger.exception("owner notice %s: sending failed", notice.pk)
        return _failed(notice, f"an error in Switchboard ({type(exc).__name__})", now)
    record_outcome(notice, OwnerNotice.Status.SENT, sent_at=timezone.now())
    return OwnerNotice.Status.SENT


def deliver(notice, subject, body):
    """Hand the message to its channel (core.delivery); raises DeliveryError."""
    if notice.is_email:
        send_email(notice.address, subject, body)
        return
    method = notice.contact_method
    if method is None or not method.alert_url:
        raise DeliveryError("the alert channel was removed")
    send_apprise(method.alert_url, subject, body)


def _failed(notice, why, now):
    if notice.attempts < settings.ALERT_SEND_ATTEMPTS:
        retry_at = now + timedelta(seconds=settings.ALERT_RETRY_SECONDS * 4 ** (notice.attempts - 1))
        record_outcome(notice, OwnerNotice.Status.RETRYING, next_attempt_at=retry_at, last_error=why)
        return notice.status
    return _give_up(notice, f"{why}; gave up after {notice.attempts} attempts")


def _give_up(notice, why):
    # The failure and its timeline entry together: whoever sees the one sees the other.
    with transaction.atomic():
        if record_outcome(notice, OwnerNotice.Status.FAILED, last_error=why[:300]):
            _note(notice, f"Could not reach {notice.organization.name} at {notice.shown_as}: {why}.")
    return notice.status


def fail_abandoned(now=None):
    """Notices a dead worker left "sending": failed, not sent again (nobody gets one twice)."""
    now = now or timezone.now()
    abandoned = OwnerNotice.objects.filter(status=OwnerNotice.Status.SENDING, next_attempt_at__lte=now)
    for notice in abandoned.select_related("incident", "organization", "person"):
        with transaction.atomic():
            if not record_outcome(notice, OwnerNotice.Status.FAILED, last_error="the worker stopped while sending it"):
                continue
            _note(
                notice,
                f"Could not reach {notice.organization.name} at {notice.shown_as}: the worker stopped while "
                "sending it. Not sent again, so nobody gets it twice.",
            )


def _note(notice, body):
    notice.incident.note(body, kind=TimelineEntry.Kind.OWNERS_TOLD)
