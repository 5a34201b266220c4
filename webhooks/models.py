"""Webhooks out: the co-op's URLs that want to hear when something changes, and every POST made to them.

- WebhookEndpoint: a URL, the events it wants and its signing secret (Standard Webhooks,
  "whsec_<base64>"), made by Switchboard, stored encrypted, shown once when made or rotated.
- WebhookDelivery: one event for one endpoint, with the exact JSON it carries and a webhook-id
  that stays the same over its retries (the receiver's key for "seen that one already"). Written
  in the transaction of the change it tells (webhooks.listeners), sent by a task once committed
  (webhooks.sending), kept as the endpoint's delivery log: the newest WEBHOOK_KEEP_PER_ENDPOINT.
"""

import base64
import secrets
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone

from core.fields import EncryptedSecretField, KeepsSecrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret


class EventType(models.TextChoices):
    """What an endpoint may ask for; webhook.test is only ever sent by the admin's "Send a test event"."""

    INCIDENT_OPENED = "incident.opened", "Incident opened"
    INCIDENT_UPDATED = "incident.updated", "Incident updated (a timeline entry, a status change)"
    INCIDENT_RESOLVED = "incident.resolved", "Incident resolved"
    MONITOR_DOWN = "monitor.down", "Monitor went down"
    MONITOR_UP = "monitor.up", "Monitor came back up"
    POWER_ACTION_FINISHED = "power_action.finished", "Power action finished"
    BACKUP_STATE_CHANGED = "backup.state_changed", "Backup target changed state"


TEST_EVENT = "webhook.test"


def all_events():
    return list(EventType.values)


def new_secret():
    """A fresh signing secret in Standard Webhooks form: "whsec_" and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_webhook_id():
    return f"msg_{uuid.uuid4().hex}"


validate_http_url = URLValidator(
    schemes=["http", "https"],
    message="Enter a full http:// or https:// URL, e.g. https://chat.example.org/hooks/ops.",
    code="not_http",  # not "invalid": a form would show its own vaguer "Enter a valid URL." instead
)


class WebhookEndpoint(KeepsSecrets, models.Model):
    """A URL that gets a signed POST for each event it wants."""

    name = models.CharField(max_length=100, unique=True, help_text="What it is, for the delivery log: “Ops chat”.")
    url = models.URLField(
        "URL", max_length=500, validators=[validate_http_url], help_text="Where the POSTs go (http or https)."
    )
    secret = EncryptedSecretField(
        "signing secret", help_text="Made by Switchboard, stored encrypted, shown once when made or rotated."
    )
    events = models.JSONField(default=all_events, blank=True, help_text="The event types it gets.")
    is_active = models.BooleanField("active", default=True, help_text="Switched off: it gets nothing new.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "webhook endpoint"

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # Every endpoint has a secret from the start: the first POST is signed like the others.
        if self._state.adding and not self._meta.get_field("secret").is_set(self):
            self.secret = new_secret()
        super().save(*args, **kwargs)

    def clean(self):
        self.name = (self.name or "").strip()
        if not self.name:
            raise ValidationError({"name": "Give the endpoint a name (what it is, e.g. “Ops chat”)."})
        unknown = [event for event in self.events or [] if event not in EventType.values]
        if unknown:
            raise ValidationError({"events": f"Unknown event type: {', '.join(map(str, unknown))}."})
        if not self.events:
            raise ValidationError({"events": "Choose at least one event, or switch the endpoint off instead."})

    def wants(self, event_type):
        return event_type in (self.events or [])

    def rotate_secret(self):
        """Give the endpoint a new signing secret and return it (to show once); the old one stops at once."""
        self.secret = new_secret()
        self.save(update_fields=["secret"])
        return self.secret


class WebhookDelivery(models.Model):
    """One event for one endpoint: the POST, its attempts and its outcome."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Failed, will retry"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

        @property
        def colour(self):
            return {"delivered": "green", "failed": "red", "retrying": "amber"}.get(self.value, "grey")

    FINISHED = (State.DELIVERED, State.FAILED)

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40)
    subject = models.CharField(
        max_length=60,
        blank=True,
        help_text="What it is about: incident:12, monitor:3, power_action:7…",
    )
    webhook_id = models.CharField("webhook-id", max_length=40, unique=True, default=new_webhook_id, editable=False)
    payload = models.JSONField(help_text="The body, exactly as POSTed (and signed).")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, help_text="Why the last attempt failed; never the URL.")
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="webhookdelivery_due_idx"),
            models.Index(fields=["endpoint", "-created_at"], name="webhookdelivery_log_idx"),
        ]

    def __str__(self):
        return f"{self.event_type} to {self.endpoint_id} ({self.get_state_display()})"
