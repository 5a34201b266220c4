"""Delivering one message over one channel: email through Django's mail backend, everything else
through apprise. Shared by the apps that send (alerts to volunteers, notices to owners).

Every channel has a timeout (EMAIL_TIMEOUT; apprise's cto/rto, forced here whatever the URL says),
so a hanging peer holds a worker for seconds, not minutes. A failure raises DeliveryError with a
reason fit for the timeline: never the URL, a token or a secret topic.
"""

import logging
import re
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage


class DeliveryError(Exception):
    """The channel did not take the message; the text says why, without any secret."""


def send_email(address, subject, body):
    """Send a plain-text email to one address; raises DeliveryError."""
    try:
        sent = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address]).send()
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"the mail server did not take it ({type(exc).__name__}: {exc})"[:250]) from None
    if not sent:
        raise DeliveryError("the mail server did not take it")


def send_apprise(url, subject, body):
    """Send to one apprise URL (ntfy, matrix, signal, a json:// webhook...); raises DeliveryError."""
    import apprise  # loads its plugins on import: only in the processes that send

    service = apprise.Apprise()
    if not service.add(_with_timeouts(url)):
        raise DeliveryError("the alert URL does not parse any more")
    with apprise.LogCapture(level=logging.WARNING) as log:
        ok = service.notify(title=subject, body=body)
    if not ok:
        raise DeliveryError(_reason(log.getvalue()))


def apprise_channel(url):
    """What a page or the timeline may say about an apprise URL: "ntfy", "matrix", "json" — never the URL."""
    return url.split("://", 1)[0].rstrip("s") if "://" in url else "alert URL"


def _with_timeouts(url):
    """The URL with apprise's connect and read timeouts (cto 5 s, rto 10 s): ours, whatever the URL said."""
    base, _, query = url.partition("?")
    kept = [part for part in query.split("&") if part and not part.startswith(("cto=", "rto="))]
    return base + "?" + "&".join([*kept, "cto=5", "rto=10"])


def _reason(said):
    """Why apprise failed, without anything of the URL (a token, a secret ntfy topic): an HTTP status, or generic."""
    status = re.search(r"\b(?:error|status|code)[=: ]+(\d{3})\b", said, re.IGNORECASE) or re.search(
        r"\b([45]\d\d)\b", said
    )
    if status:
        return f"the service answered HTTP {status.group(1)}"
    if re.search(r"connection|timed? ?out|refused|unreachable", said, re.IGNORECASE):
        return "could not connect to the service"
    return "the service did not accept it"


def record_outcome(row, status, **fields):
    """Record the outcome of a send this worker claimed; False if it was no longer this worker's to record.

    For a row whose model has a Status with SENDING, SENT and FAILED (alerts.Notification,
    notices.OwnerNotice). A row the sweep failed as abandoned stays failed — unless it turns out it
    was sent after all.
    """
    states = type(row).Status
    fields["status"] = status
    mine = [states.SENDING] + ([states.FAILED] if status == states.SENT else [])
    if not type(row).objects.filter(pk=row.pk, status__in=mine).update(**fields):
        return False
    for name, value in fields.items():
        setattr(row, name, value)
    return True
