"""One row per break-glass bundle built: what happened to it, where it is, and why it failed."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Bundle(models.Model):
    """A break-glass bundle: built into BREAK_GLASS_DIR, then uploaded off-site (breakglass.tasks)."""

    class State(models.TextChoices):
        REQUESTED = "requested", "Requested"
        BUILDING = "building", "Building"
        BUILT = "built", "Built, not uploaded"
        UPLOADED = "uploaded", "Uploaded"
        UPLOAD_FAILED = "upload_failed", "Upload failed"
        FAILED = "failed", "Build failed"

        @property
        def colour(self):
            return {
                "requested": "blue",
                "building": "blue",
                "built": "amber",
                "uploaded": "green",
                "upload_failed": "red",
                "failed": "red",
            }[self.value]

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.REQUESTED)
    filename = models.CharField(max_length=200, blank=True, help_text="Also its key in the bucket, after the prefix.")
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    build_seconds = models.FloatField(null=True, blank=True)
    summary = models.CharField(max_length=300, blank=True, help_text="What is in it, e.g. 12 people, 3 sites.")
    uploaded_at = models.DateTimeField(null=True, blank=True)
    upload_attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, help_text="The last thing that went wrong, without secrets.")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.filename or f"bundle {self.pk}"

    def claim(self, from_state, to_state):
        """Move this bundle from one state to another if no other worker did first; True if this one did."""
        claimed = Bundle.objects.filter(pk=self.pk, state=from_state).update(state=to_state)
        if claimed:
            self.state = to_state
        return bool(claimed)

    def record_upload_failure(self, error):
        """Count a failed upload and keep its reason, read by the admin's list of bundles."""
        self.upload_attempts += 1
        self.state = self.State.UPLOAD_FAILED
        self.error = error
        self.save(update_fields=["upload_attempts", "state", "error"])

    def record_upload(self, when=None):
        """Mark the bundle as safely off-site."""
        self.upload_attempts += 1
        self.state = self.State.UPLOADED
        self.uploaded_at = when or timezone.now()
        self.error = ""
        self.save(update_fields=["upload_attempts", "state", "uploaded_at", "error"])
