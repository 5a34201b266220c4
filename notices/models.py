"""Telling the owners an outage touches: every message sent to them, and the addresses that asked
for every public update.

- OwnerNotice: one message to one address of one owner about one public update, or about the
  resolution. Unique per (incident, purpose, entry, organisation, address): pressing "Notify
  affected owners" twice, or a subscriber's automatic copy followed by a press, sends nobody the
  same update twice.
- OwnerSubscription: an address that asked (through the signed link in an owner email) for every
  public update about incidents affecting its organisation.
"""

from django.db import models
from django.utils import timezone

from coop.models import ContactMethod, Organization, Person
from incidents.models import Incident, TimelineEntry


class OwnerNotice(models.Model):
    """One message to one address (or apprise channel) of one affected owner."""

    class Purpose(models.TextChoices):
        UPDATE = "update", "Public update"
        RESOLVED = "resolved", "Resolved"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        RETRYING = "retrying", "Failed, will retry"
        FAILED = "failed", "Failed"

        @property
        def colour(self):
            return {"sent": "green", "failed": "red", "retrying": "amber"}.get(self.value, "grey")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="owner_notices")
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.UPDATE)
    entry = models.ForeignKey(
        TimelineEntry,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The public update it carries, or the timeline entry that resolved the incident.",
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    contact_method = models.ForeignKey(
        ContactMethod, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    address = models.CharField(
        max_length=254,
        help_text="The email address; for an alert URL its channel and a digest of it, never the URL.",
    )
    channel = models.CharField(max_length=40, help_text="email, ntfy, matrix, json…: where it went, never the secret.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # A second press, a duplicated task or a subscriber's automatic copy never sends an update twice.
            models.UniqueConstraint(
                fields=["incident", "purpose", "entry", "organization", "address"], name="ownernotice_once_per_address"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="ownernotice_due_idx")]

    def __str__(self):
        return f"{self.get_purpose_display()} to {self.organization} at {self.shown_as}"

    @property
    def is_email(self):
        return self.channel == "email"

    @property
    def shown_as(self):
        """Where it went, for members: the email address, or whose channel ("Ana Example's ntfy")."""
        if self.is_email:
            return self.address
        return f"{self.person.name}'s {self.channel}" if self.person else self.channel


class OwnerSubscription(models.Model):
    """An address that gets every public update about incidents affecting its organisation."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="owner_subscriptions")
    address = models.EmailField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["organization", "address"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "address"], name="ownersubscription_once_per_address")
        ]

    def __str__(self):
        return f"{self.address} for {self.organization}"

    def save(self, *args, **kwargs):
        # One spelling per address, so "Ops@" and "ops@" are one subscription and one notice.
        self.address = normalise_address(self.address)
        super().save(*args, **kwargs)

    @classmethod
    def subscribe(cls, organization, address):
        """`address` gets every public update about `organization`'s outages; (subscription, created)."""
        return cls.objects.get_or_create(organization=organization, address=normalise_address(address))

    @classmethod
    def unsubscribe(cls, organization, address):
        """`address` gets no more automatic updates about `organization`; True if it had them."""
        deleted, _ = cls.objects.filter(organization=organization, address=normalise_address(address)).delete()
        return bool(deleted)


def normalise_address(address):
    return (address or "").strip().lower()
