"""Asking people whether their contact methods still reach them, and the one-tap link that says yes.

Once a contact method's confirmation is older than CONTACT_VERIFICATION_MAX_AGE_DAYS, the daily task
(coop.tasks) sends "are you still reachable here?" to it: to the address itself for an email, through
its alert URL (apprise) for the others. Each is asked at most once in CONTACT_VERIFICATION_ASK_EVERY_DAYS
(ContactMethod.claim_confirmation_request); a message that does not go out is not counted as asked.

The link is signed for one purpose and works for CONTACT_VERIFICATION_ASK_EVERY_DAYS. It names the
contact method, a digest of its value (a link for an old address stops working when the value changes,
and the address itself stays out of server logs) and the time of the request it answers: once confirmed,
or once a newer request went out, it changes nothing again. It confirms only by a POST: mail scanners
fetch links.
"""

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from core.delivery import DeliveryError, send_apprise, send_email

from .models import ContactMethod

logger = logging.getLogger(__name__)

CONFIRM_SALT = "switchboard.coop.confirm-contact"
SUBJECT = "Does this still reach you? (Switchboard)"
# The most contact methods one run asks; the rest are asked by the next run.
BATCH = 100
# A mail server that hangs costs each message EMAIL_TIMEOUT: a run stops sending after this long
# (and one more timeout), so that it never holds a worker the alerts need for long.
RUN_BUDGET_SECONDS = 300

# How a message names what it asks about: "Switchboard lists +1 555 0100 as your phone number".
KIND_NAMES = {
    ContactMethod.Kind.PHONE: "phone number",
    ContactMethod.Kind.SMS: "number for text messages",
    ContactMethod.Kind.EMAIL: "email address",
    ContactMethod.Kind.MATRIX: "Matrix address",
    ContactMethod.Kind.SIGNAL: "Signal number",
    ContactMethod.Kind.OTHER: "contact",
}


@dataclass(frozen=True)
class ConfirmLink:
    """What a confirm link says: which contact method, for which value, answering the request of when."""

    method_id: int
    value_digest: str
    asked_at: datetime

    def is_for(self, method):
        """True when `method` still has the value the link was sent for."""
        return constant_time_compare(self.value_digest, _value_digest(method.value))


def confirm_token(method):
    """The token of the link answering `method`'s current request (verification_requested_at must be set)."""
    payload = {"c": method.pk, "v": _value_digest(method.value), "t": int(method.verification_requested_at.timestamp())}
    return signing.dumps(payload, salt=CONFIRM_SALT, compress=True)


def read_confirm_token(token):
    """The ConfirmLink in a token; raises signing.SignatureExpired, signing.BadSignature (or KeyError, ValueError)."""
    data = signing.loads(token, salt=CONFIRM_SALT, max_age=timedelta(days=settings.CONTACT_VERIFICATION_ASK_EVERY_DAYS))
    return ConfirmLink(int(data["c"]), str(data["v"]), datetime.fromtimestamp(int(data["t"]), UTC))


def confirm_link(method):
    """The absolute URL of `method`'s confirm link, as sent (built from SITE_URL)."""
    return settings.SITE_URL + reverse("contact_confirm", args=[confirm_token(method)])


def _value_digest(value):
    return salted_hmac(CONFIRM_SALT + ".value", value).hexdigest()[:20]


def compose(method):
    """The message asking whether `method` still reaches its person: (subject, body)."""
    context = {
        "method": method,
        "kind_name": KIND_NAMES.get(method.kind, "contact"),
        "link": confirm_link(method),
        "days": settings.CONTACT_VERIFICATION_ASK_EVERY_DAYS,
        "site_url": settings.SITE_URL,
    }
    return SUBJECT, render_to_string("coop/confirm_message.txt", context)


def deliver(method, subject, body):
    """An email address is asked at that address; anything else through its alert URL. Raises DeliveryError."""
    if method.kind == ContactMethod.Kind.EMAIL:
        send_email(method.value, subject, body)
    else:
        send_apprise(method.alert_url, subject, body)


def ask_to_confirm(method_id, now=None):
    """Claim one contact method's request and send it: True sent, False failed (asked again next run),
    None when it was not due (confirmed meanwhile, or another run asked)."""
    method = ContactMethod.objects.select_related("person").filter(pk=method_id).first()
    if method is None:
        return None
    if not method.claim_confirmation_request(now):
        return None
    try:
        deliver(method, *compose(method))
    except DeliveryError as exc:
        logger.warning("contact method %s: asking whether it still works failed: %s", method.pk, exc)
        method.release_confirmation_request(now)
        return False
    except Exception:
        # A bug or a bad row (an alert URL the key cannot decrypt), not the channel: not asked either.
        logger.exception("contact method %s: asking whether it still works failed", method.pk)
        method.release_confirmation_request(now)
        return False
    return True


# This many sends failing in a row end the run: the channel is down, not the contacts.
GIVE_UP_AFTER_FAILURES = 3


def ask_contacts_to_confirm(now=None):
    """One daily run: ask every stale contact method that is due (up to BATCH); returns what it did."""
    now = now or timezone.now()
    due = ContactMethod.objects.due_for_confirmation(now).order_by(
        F("verification_requested_at").asc(nulls_first=True), F("verified_at").asc(nulls_first=True), "pk"
    )
    ids = list(due.values_list("pk", flat=True)[:BATCH])
    outcomes = {"asked": 0, "failed": 0, "left": 0}
    deadline = time.monotonic() + RUN_BUDGET_SECONDS
    failing = 0
    for done, method_id in enumerate(ids):
        if time.monotonic() > deadline:
            outcomes["left"] = len(ids) - done
            logger.warning("asking contacts to confirm: out of time, %s left for the next run", outcomes["left"])
            break
        sent = ask_to_confirm(method_id, now)
        if sent is not None:
            outcomes["asked" if sent else "failed"] += 1
        failing = 0 if sent else failing + (sent is False)
        if failing >= GIVE_UP_AFTER_FAILURES:
            # The mail server (or the network) is down: tomorrow's run tries again; no worker held meanwhile.
            outcomes["left"] = len(ids) - done - 1
            logger.warning("asking contacts to confirm: %s failures in a row, stopping until the next run", failing)
            break
    return outcomes
