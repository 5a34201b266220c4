"""POSTing one delivery, signed the Standard Webhooks way, and what happens when the endpoint fails.

A delivery is claimed before it is sent (queued or due retry → sending, a conditional UPDATE), so two
workers never POST it at once. The answer decides:
- 2xx: delivered;
- no connection, no answer within WEBHOOK_TIMEOUT_SECONDS, 5xx or 429: tried again with backoff
  (WEBHOOK_RETRY_SECONDS ×4 each time, at most WEBHOOK_RETRY_MAX_SECONDS apart; a 429's Retry-After
  is honoured within that), WEBHOOK_SEND_ATTEMPTS in all, then failed;
- anything else (a 4xx, a redirect, an URL requests refuses): failed at once — sending it again
  would get the same answer.
Webhooks are at least once: a worker that died mid-POST leaves the delivery "sending", and the sweep
tries it again with the same webhook-id, which is what receivers deduplicate on.
What is recorded (and logged) is an HTTP status or the kind of failure: never the URL (it may hold
a token) nor the secret.
"""

import json
import logging
from datetime import UTC, timedelta

import requests
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from core.fields import SecretUnreadable

from .models import TEST_EVENT, WebhookDelivery

logger = logging.getLogger(__name__)

State = WebhookDelivery.State
# A delivery still "sending" this long after it was claimed was dropped by a dead worker (the task's
# hard limit is 45 s): the sweep tries it again.
LEASE = timedelta(seconds=120)
USER_AGENT = "Switchboard-Webhooks/1"


class Retry(Exception):
    """The endpoint could not take it now (transport, 5xx, 429): worth another try later."""

    def __init__(self, why, status=None, wait=None):
        super().__init__(why)
        self.status, self.wait = status, wait


class Refused(Exception):
    """The endpoint (or its URL) refuses it for good: no retry."""

    def __init__(self, why, status=None):
        super().__init__(why)
        self.status = status


def send(delivery_id, now=None):
    """Claim one delivery and POST it; returns its state afterwards (None if it was not this call's to send)."""
    now = now or timezone.now()
    claimable = Q(state=State.QUEUED) | Q(state=State.RETRYING, next_attempt_at__lte=now)
    claimed = WebhookDelivery.objects.filter(claimable, pk=delivery_id).update(
        state=State.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + LEASE, last_attempt_at=now
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    try:
        status = post(delivery)
    except Retry as exc:
        return _retry_or_fail(delivery, str(exc), now, status=exc.status, wait=exc.wait)
    except Refused as exc:
        return _record(delivery, State.FAILED, last_error=str(exc), last_status_code=exc.status)
    except Exception as exc:
        # A bug or a bad row, not the endpoint: recorded with the kind of error only (no URL, no secret).
        logger.exception("webhook delivery %s: sending failed", delivery.pk)
        return _record(delivery, State.FAILED, last_error=f"an error in Switchboard ({type(exc).__name__})")
    logger.info("webhook delivery %s to endpoint %s: HTTP %s", delivery.pk, delivery.endpoint_id, status)
    return _record(delivery, State.DELIVERED, last_status_code=status, last_error="", delivered_at=timezone.now())


def post(delivery):
    """POST the delivery to its endpoint, signed; returns the 2xx status, raises Retry or Refused."""
    endpoint = delivery.endpoint
    if not endpoint.is_active and delivery.event_type != TEST_EVENT:
        raise Refused("the endpoint was switched off before it was sent")
    try:
        secret = endpoint.secret
    except SecretUnreadable:
        raise Refused("the signing secret cannot be decrypted with Switchboard's key: rotate it") from None
    body = body_of(delivery)
    headers = signed_headers(secret, delivery.webhook_id, body)
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    try:
        # No redirects: requests would turn the POST into a GET, and a moved endpoint should be updated.
        response = requests.post(
            endpoint.url, data=body.encode(), headers=headers, timeout=timeout, allow_redirects=False, stream=True
        )
    except requests.Timeout:
        raise Retry(f"no answer within {timeout} s") from None
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
        raise Retry("could not connect to the endpoint") from None
    except requests.RequestException as exc:
        raise Refused(f"the URL cannot be used ({type(exc).__name__})") from None
    status = response.status_code
    retry_after = response.headers.get("Retry-After", "")
    response.close()  # the answer's body is not read: a receiver's page is not ours to keep
    if 200 <= status < 300:
        return status
    if status == 429 or status >= 500:
        wait = int(retry_after) if retry_after.isdigit() else None
        raise Retry(f"the endpoint answered HTTP {status}", status=status, wait=wait)
    if 300 <= status < 400:
        raise Refused(f"the endpoint answered HTTP {status} (a redirect): put the new URL in", status=status)
    raise Refused(f"the endpoint answered HTTP {status}: not retried", status=status)


def body_of(delivery):
    """The exact text POSTed and signed: the stored payload as compact JSON."""
    return json.dumps(delivery.payload, separators=(",", ":"))


def signed_headers(secret, webhook_id, body, at=None):
    """The Standard Webhooks headers for `body`: webhook-id, webhook-timestamp, webhook-signature."""
    at = (at or timezone.now()).astimezone(UTC)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, at, body),
    }


def retry_delay(attempts, wait=None):
    """How long to wait after the `attempts`-th failed attempt: 30 s, 2 min, 8 min, 32 min, ... capped."""
    delay = min(settings.WEBHOOK_RETRY_SECONDS * 4 ** (attempts - 1), settings.WEBHOOK_RETRY_MAX_SECONDS)
    if wait is not None:
        delay = max(delay, min(wait, settings.WEBHOOK_RETRY_MAX_SECONDS))
    return timedelta(seconds=delay)


def _retry_or_fail(delivery, why, now, *, status=None, wait=None):
    if delivery.attempts < settings.WEBHOOK_SEND_ATTEMPTS:
        logger.info("webhook delivery %s: %s; attempt %s, tried again later", delivery.pk, why, delivery.attempts)
        return _record(
            delivery,
            State.RETRYING,
            next_attempt_at=now + retry_delay(delivery.attempts, wait),
            last_error=why,
            last_status_code=status,
        )
    logger.warning("webhook delivery %s: %s; gave up after %s attempts", delivery.pk, why, delivery.attempts)
    return _record(
        delivery, State.FAILED, last_error=f"{why}; gave up after {delivery.attempts} attempts", last_status_code=status
    )


def _record(delivery, state, **fields):
    """Record the outcome of the send this worker claimed (only while it is still "sending")."""
    fields["state"] = state
    if "last_error" in fields:
        fields["last_error"] = fields["last_error"][:300]
    if WebhookDelivery.objects.filter(pk=delivery.pk, state=State.SENDING).update(**fields):
        for name, value in fields.items():
            setattr(delivery, name, value)
    return delivery.state


def give_abandoned_another_try(now=None):
    """Deliveries a dead worker left "sending" past their lease: due again now, or failed when out of attempts."""
    now = now or timezone.now()
    abandoned = WebhookDelivery.objects.filter(state=State.SENDING, next_attempt_at__lte=now)
    why = "the worker stopped while sending it"
    retried = abandoned.filter(attempts__lt=settings.WEBHOOK_SEND_ATTEMPTS).update(
        state=State.RETRYING, next_attempt_at=now, last_error=why
    )
    abandoned.update(state=State.FAILED, last_error=f"{why}; gave up after {settings.WEBHOOK_SEND_ATTEMPTS} attempts")
    return retried
