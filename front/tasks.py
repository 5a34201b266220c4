"""Celery tasks of the cross-app pages: the weekly knowledge-gap digest to the co-op's admins."""

import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model

from core.delivery import DeliveryError, send_email

from . import gaps

logger = logging.getLogger(__name__)


def digest_text(now=None):
    """The digest's subject and body: each rule with rows, its count, and where the report is."""
    counts = gaps.counts(now)
    total = sum(counts.values())
    lines = [f"{counts[rule.key]:>5}  {rule.title}" for rule in gaps.RULES if counts[rule.key]]
    subject = f"[Switchboard] Knowledge gaps this week: {total}"
    body = "\n".join(
        [
            f"Switchboard lists {total} things the co-op has not written down or checked yet:",
            "",
            *(lines or ["    (none: everything is documented)"]),
            "",
            f"Each row links to where it is fixed: {settings.SITE_URL}/gaps/",
        ]
    )
    return subject, body


@shared_task(name="front.send_gap_digest")
def send_gap_digest():
    """Email the digest to every active superuser with an address; returns how many took it.

    A mail server that is down loses nothing that matters: next week's digest says it all again.
    """
    subject, body = digest_text()
    sent = 0
    admins = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
    for address in admins.values_list("email", flat=True):
        try:
            send_email(address, subject, body)
            sent += 1
        except DeliveryError as exc:
            logger.warning("gap digest not sent to an admin: %s", exc)
    return sent
