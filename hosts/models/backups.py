"""Where backups land and whether they are real."""

import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from coop.fields import EncryptedSecretField

from .inventory import Guest, Machine, _exactly_one_of, _how_many_set


class BackupState(models.TextChoices):
    """The verdict of the latest backup check; "could not check" is never ok."""

    UNKNOWN = "unknown", "Not checked yet"
    OK = "ok", "OK"
    STALE = "stale", "Stale"
    UNENCRYPTED = "unencrypted", "Unencrypted"
    SHRUNK = "shrunk", "Shrunk"
    FAILED = "failed", "Failed"
    ERROR = "error", "Could not check"

    @property
    def colour(self):
        return {"ok": "green", "unknown": "grey"}.get(self.value, "red")


class BackupTarget(models.Model):
    """Where a backup lands (an S3 prefix) or a job that reports in (a heartbeat)."""

    class Kind(models.TextChoices):
        S3 = "s3", "S3 bucket"
        HEARTBEAT = "heartbeat", "Heartbeat URL"

    name = models.CharField(max_length=150, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    machine = models.ForeignKey(Machine, on_delete=models.CASCADE, null=True, blank=True, related_name="backup_targets")
    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, null=True, blank=True, related_name="backup_targets")
    expected_interval = models.DurationField(
        default=timedelta(days=1), help_text="How often a new backup should appear, e.g. 1 00:00:00 for daily."
    )
    grace = models.DurationField(default=timedelta(hours=2), help_text="How late it may be before it is stale.")
    encryption_required = models.BooleanField(default=True)
    min_size_bytes = models.PositiveBigIntegerField(default=1, help_text="A backup smaller than this is a failure.")
    endpoint_url = models.URLField(blank=True, help_text="S3 API endpoint; empty for AWS.")
    region = models.CharField(max_length=50, blank=True)
    bucket = models.CharField(max_length=63, blank=True)
    prefix = models.CharField(max_length=500, blank=True)
    access_key_id = models.CharField(max_length=128, blank=True)
    secret_access_key = EncryptedSecretField(help_text="Stored encrypted; never shown again.")
    heartbeat_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(max_length=20, choices=BackupState.choices, default=BackupState.UNKNOWN)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_exercised_at = models.DateTimeField(
        null=True, blank=True, help_text="When a restore from this backup was last tried."
    )
    notes = models.TextField(blank=True)

    history = HistoricalRecords(excluded_fields=["secret_access_key"])

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["state"], name="backuptarget_state_idx")]
        constraints = [
            models.CheckConstraint(condition=_exactly_one_of("machine", "guest"), name="backuptarget_one_subject"),
            models.CheckConstraint(
                condition=~models.Q(kind="s3") | ~models.Q(bucket=""), name="backuptarget_s3_has_bucket"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if _how_many_set(self, "machine", "guest") != 1:
            errors["guest"] = "A backup target protects exactly one machine or one guest."
        if self.kind == self.Kind.S3 and not self.bucket:
            errors["bucket"] = "An S3 target needs a bucket."
        if self.expected_interval is not None and self.expected_interval <= timedelta(0):
            errors["expected_interval"] = "The interval must be longer than zero."
        if errors:
            raise ValidationError(errors)

    @property
    def subject(self):
        return self.guest or self.machine
