"""The links in an owner email: the incident's public page, and the signed subscribe and unsubscribe
links. A signed link names one organisation and one address; it changes nothing but that address's
subscription, and only by a POST (link scanners GET)."""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

SUBSCRIBE_SALT = "switchboard.notices.subscribe"
UNSUBSCRIBE_SALT = "switchboard.notices.unsubscribe"
SUBSCRIBE_LINK_DAYS = 30
# Longer: an old email's "stop these updates" should still stop them (each new email carries a fresh one).
UNSUBSCRIBE_LINK_DAYS = 365


def public_link(incident):
    """The incident's public page, absolute, or "" while it is not on the status page."""
    path = incident.get_public_url()
    return settings.SITE_URL + path if path else ""


def subscribe_token(organization, address):
    return signing.dumps({"o": organization.pk, "a": address}, salt=SUBSCRIBE_SALT, compress=True)


def unsubscribe_token(organization, address):
    return signing.dumps({"o": organization.pk, "a": address}, salt=UNSUBSCRIBE_SALT, compress=True)


def read_subscribe_token(token):
    """(organisation id, address) in a subscribe token; raises signing.SignatureExpired or signing.BadSignature."""
    return _read(token, SUBSCRIBE_SALT, SUBSCRIBE_LINK_DAYS)


def read_unsubscribe_token(token):
    """(organisation id, address) in an unsubscribe token; raises signing.SignatureExpired or signing.BadSignature."""
    return _read(token, UNSUBSCRIBE_SALT, UNSUBSCRIBE_LINK_DAYS)


def _read(token, salt, days):
    data = signing.loads(token, salt=salt, max_age=timedelta(days=days))
    return int(data["o"]), str(data["a"])


def subscribe_link(organization, address):
    return settings.SITE_URL + reverse("owner_subscribe", args=[subscribe_token(organization, address)])


def unsubscribe_link(organization, address):
    return settings.SITE_URL + reverse("owner_unsubscribe", args=[unsubscribe_token(organization, address)])
