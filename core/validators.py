"""Validators for the things volunteers type: hostnames, phone numbers, Matrix IDs."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def validate_hostname(value):
    """A DNS name such as `xen1.colo.example.org` (letters, digits, hyphens, dots)."""
    name = value.strip().rstrip(".").lower()
    if not name or len(name) > 253:
        raise ValidationError("A hostname is 1 to 253 characters long.", code="invalid_hostname")
    for label in name.split("."):
        if not _LABEL.match(label):
            raise ValidationError(
                "“%(value)s” is not a valid hostname: use letters, digits and hyphens, "
                "separated by dots, no label starting or ending with a hyphen.",
                code="invalid_hostname",
                params={"value": value},
            )


_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{5,30}$")
_MATRIX = re.compile(r"^@[a-z0-9._=/+-]+:[a-zA-Z0-9.-]+(:[0-9]+)?$")


def validate_phone(value):
    """A dialable phone number: digits with optional +, spaces, dots, dashes, brackets."""
    if not _PHONE.match(value.strip()):
        raise ValidationError(
            "“%(value)s” is not a phone number: use digits, optionally starting with + "
            "and the country code, e.g. +1 555 0100.",
            code="invalid_phone",
            params={"value": value},
        )


def validate_matrix_id(value):
    """A Matrix user ID such as @alex:example.org."""
    if not _MATRIX.match(value.strip()):
        raise ValidationError(
            "“%(value)s” is not a Matrix ID: it looks like @name:example.org.",
            code="invalid_matrix_id",
            params={"value": value},
        )


def validate_contact_value(kind, value):
    """Check `value` is a plausible address for a contact method of `kind`."""
    if kind in ("phone", "sms", "signal"):
        validate_phone(value)
    elif kind == "email":
        validate_email(value)
    elif kind == "matrix":
        validate_matrix_id(value)


def validate_alert_url(value):
    """An apprise URL Switchboard can send an alert to (ntfy://…, matrixs://…, signal://…, json://…)."""
    import apprise  # here, not at the top: apprise loads its plugins on import, and most callers never need it

    if apprise.Apprise.instantiate(value.strip()) is None:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        why = f"no alert service is called “{scheme}”" if scheme else "it has no scheme such as ntfys://"
        raise ValidationError(
            "This alert URL does not parse (%(why)s). Examples: ntfys://ntfy.example.org/your-topic, "
            "matrixs://user:token@matrix.example.org/#room, json://hooks.example.org/alerts "
            "(see the apprise documentation for every service).",
            code="invalid_alert_url",
            params={"why": why},
        )
