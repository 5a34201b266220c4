"""Where backups land and whether they are real."""

import statistics
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
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

    @property
    def is_failing(self):
        return self.value not in (self.OK, self.UNKNOWN)


# A claim older than this belongs to a worker that died mid-check: another may take the target.
CHECK_CLAIM_TIMEOUT = timedelta(minutes=10)


class BackupTargetQuerySet(models.QuerySet):
    def due_for_check(self, now):
        """S3 targets whose last check is older than BACKUP_CHECK_EVERY_MINUTES, never checked, or asked for."""
        cutoff = now - timedelta(minutes=settings.BACKUP_CHECK_EVERY_MINUTES)
        return self.filter(kind=BackupTarget.Kind.S3).filter(
            Q(last_checked_at__isnull=True) | Q(last_checked_at__lt=cutoff) | Q(check_requested_at__isnull=False)
        )


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
    state_since = models.DateTimeField(null=True, blank=True, help_text="When the current state began.")
    state_message = models.CharField(max_length=500, blank=True, help_text="What the latest check saw.")
    last_exercised_at = models.DateTimeField(
        null=True, blank=True, help_text="When a restore from this backup last worked (the latest good restore drill)."
    )
    drill_every_days = models.PositiveSmallIntegerField(
        default=90, help_text="A restore drill older than this many days is flagged."
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Check bookkeeping, written with UPDATE (not save) so it never lands in the change history.
    check_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    check_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="The incident this target's failure opened; resolved when it recovers.",
    )

    objects = BackupTargetQuerySet.as_manager()

    history = HistoricalRecords(
        excluded_fields=["secret_access_key", "check_requested_at", "check_claimed_at", "incident"]
    )

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

    def get_absolute_url(self):
        return reverse("backup_detail", args=[self.pk])

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

    @property
    def drill_due(self):
        """True when no restore drill worked within drill_every_days (read by the pages' "drill overdue" flag)."""
        if self.last_exercised_at is None:
            return True
        return self.last_exercised_at < timezone.now() - timedelta(days=self.drill_every_days)

    @property
    def is_failing(self):
        return BackupState(self.state).is_failing

    @property
    def is_checking(self):
        return self.check_requested_at is not None

    def request_check(self, now=None):
        """Mark a "check now" as asked for; the caller queues check_backup_target on commit."""
        self.check_requested_at = now or timezone.now()
        BackupTarget.objects.filter(pk=self.pk).update(check_requested_at=self.check_requested_at)

    def check_now(self):
        """A member's "check now": marked on the row (the page polls) and queued on commit."""
        from hosts.backup_tasks import queue_check

        self.request_check()
        queue_check(self.pk)

    def claim(self, now):
        """Take this target for one check with a conditional UPDATE; False when another worker has it."""
        free = Q(check_claimed_at__isnull=True) | Q(check_claimed_at__lt=now - CHECK_CLAIM_TIMEOUT)
        return BackupTarget.objects.filter(free, pk=self.pk).update(check_claimed_at=now) == 1

    def release(self):
        """Give the claim back and clear a "check now" request: the page stops polling."""
        BackupTarget.objects.filter(pk=self.pk).update(check_claimed_at=None, check_requested_at=None)
        self.check_claimed_at = self.check_requested_at = None

    def run_check(self, now=None):
        """Claim, check (S3 over the network, a heartbeat from its pings), record, release.

        Returns the BackupCheck, or None when another worker holds the target. The one entry
        point for the beat, the per-target task, "check now" and the benchmark.
        """
        from hosts.backup_checks import check_target

        started = timezone.now()
        now = now or started
        if not self.claim(started):
            return None
        try:
            verdict = check_target(self, now)
            return self.record(verdict, now=now, duration=timezone.now() - started)
        finally:
            self.release()

    @transaction.atomic
    def record(self, verdict, *, now, duration=None, keep_unchanged=True):
        """Keep a check's result, move the target's state, and tell the incident timeline about a change.

        A change to a failing state opens an incident for the guest or machine (or notes on the
        one this target already has open); a change back to ok resolves it. Repeated failing
        checks add nothing to the timeline. With keep_unchanged=False (the beat's heartbeat
        sweep) a verdict that changes nothing is not kept as a row.
        """
        target = BackupTarget.objects.select_for_update().get(pk=self.pk)
        old = BackupState(target.state)
        new = BackupState(verdict.state)
        changed = new != old or (new.is_failing and target.incident_id is None)
        if not changed and not keep_unchanged:
            return None
        previous = target.checks.filter(state=BackupState.OK, size_bytes__isnull=False).first()
        check = target.checks.create(
            checked_at=now,
            duration=duration,
            state=new,
            message=verdict.message[:500],
            newest_key=verdict.newest_key[:1024],
            newest_at=verdict.newest_at,
            newest_age=(now - verdict.newest_at) if verdict.newest_at else None,
            size_bytes=verdict.size_bytes,
            previous_size_bytes=previous.size_bytes if previous else None,
            encryption=verdict.encryption,
            object_count=verdict.object_count,
        )
        fields = {"state": new, "state_message": check.message, "last_checked_at": now}
        if new != old:
            fields["state_since"] = now
        if changed:
            fields["incident"] = target._tell_incident(old, new, check, now)
        BackupTarget.objects.filter(pk=target.pk).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)
        return check

    def _tell_incident(self, old, new, check, now):
        """Write the state change on the timeline; open or resolve the incident. Returns the open one (or None)."""
        from incidents.models import Incident, TimelineEntry

        incident = self.incident if self.incident_id and self.incident.is_open else None
        body = f"Backup “{self.name}”: {old.label} → {new.label}. {check.message}".strip()
        if not new.is_failing:
            if incident is not None:
                incident.note(body, kind=TimelineEntry.Kind.BACKUP, at=now)
                incident.resolve(note=f"Backups of {self.subject} are good again.", at=now)
            return None
        if incident is None:
            incident = Incident.objects.create(
                title=self.incident_title(new, check)[:200], severity=Incident.Severity.MINOR, started_at=now
            )
            (incident.guests if self.guest_id else incident.machines).add(self.subject)
            incident.note(f"Incident opened for {self.subject}.", kind=TimelineEntry.Kind.STATUS, at=now)
        incident.note(body, kind=TimelineEntry.Kind.BACKUP, at=now)
        return incident

    def incident_title(self, state, check):
        """ "wiki backups stale for 2 days": what the incident list shows."""
        name = self.subject.name if self.guest_id else self.subject.hostname
        name = name.split(".")[0]
        if state == BackupState.STALE and check.newest_age is not None:
            return f"{name} backups stale for {timesince(check.newest_at, check.checked_at, depth=1)}"
        words = {
            BackupState.STALE: "stale",
            BackupState.UNENCRYPTED: "unencrypted",
            BackupState.SHRUNK: "shrunk",
            BackupState.FAILED: "failing",
            BackupState.ERROR: "cannot be checked",
        }
        return f"{name} backups {words[state]} ({self.name})"


class BackupCheck(models.Model):
    """One check of a target, with what it saw: kept as history and drawn on the target's chart."""

    target = models.ForeignKey(BackupTarget, on_delete=models.CASCADE, related_name="checks")
    checked_at = models.DateTimeField(default=timezone.now)
    duration = models.DurationField(null=True, blank=True, help_text="How long the check took.")
    state = models.CharField(max_length=20, choices=BackupState.choices)
    message = models.CharField(max_length=500, blank=True)
    newest_key = models.CharField(max_length=1024, blank=True, help_text="The newest object, or the last success ping.")
    newest_at = models.DateTimeField(null=True, blank=True)
    newest_age = models.DurationField(null=True, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    previous_size_bytes = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The size the last ok check saw."
    )
    encryption = models.CharField(
        max_length=30, blank=True, help_text="Server-side encryption of the newest object (AES256, aws:kms), or empty."
    )
    object_count = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-checked_at", "-pk"]
        indexes = [models.Index(fields=["target", "-checked_at"], name="backupcheck_target_idx")]

    def __str__(self):
        return f"{self.target} {self.checked_at:%Y-%m-%d %H:%M} {self.state}"


class HeartbeatPing(models.Model):
    """A backup or WAL-archive job calling its target's /ping/<uuid> URL."""

    class Kind(models.TextChoices):
        START = "start", "Started"
        SUCCESS = "success", "Succeeded"
        FAIL = "fail", "Failed"

        @property
        def colour(self):
            return {"start": "blue", "success": "green", "fail": "red"}[self.value]

    BODY_LIMIT = 10_000  # bytes kept of a job's log; the rest is cut, not refused

    target = models.ForeignKey(BackupTarget, on_delete=models.CASCADE, related_name="pings")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    received_at = models.DateTimeField(default=timezone.now)
    body = models.TextField(blank=True)
    body_truncated = models.BooleanField(default=False)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    run_time = models.DurationField(null=True, blank=True, help_text="From the start ping to this one.")

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["target", "kind", "-received_at"], name="heartbeatping_target_idx")]

    def __str__(self):
        return f"{self.target} {self.kind} {self.received_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def receive(cls, target, kind, *, body=b"", remote_addr=None, user_agent="", now=None):
        """Keep a ping (its body cut to BODY_LIMIT) and judge the target at once, as healthchecks does."""
        now = now or timezone.now()
        run_time = None
        if kind != cls.Kind.START:
            last = target.pings.filter(received_at__lte=now).exclude(kind=cls.Kind.START).first()
            start = target.pings.filter(kind=cls.Kind.START, received_at__lte=now)
            if last is not None:
                start = start.filter(received_at__gt=last.received_at)
            start = start.first()
            run_time = now - start.received_at if start else None
        ping = cls.objects.create(
            target=target,
            kind=kind,
            received_at=now,
            body=body[: cls.BODY_LIMIT].decode("utf-8", errors="replace"),
            body_truncated=len(body) > cls.BODY_LIMIT,
            remote_addr=remote_addr,
            user_agent=user_agent[:200],
            run_time=run_time,
        )
        if kind != cls.Kind.START:
            from hosts.backup_checks import judge_heartbeat

            target.record(judge_heartbeat(target, now), now=now)
        return ping

    def usual_run_time(self, runs=10):
        """The median start→success time of the target's previous runs, or None with fewer than three."""
        earlier = self.target.pings.filter(
            kind=self.Kind.SUCCESS, run_time__isnull=False, received_at__lt=self.received_at
        ).values_list("run_time", flat=True)[:runs]
        earlier = list(earlier)
        return statistics.median(earlier) if len(earlier) >= 3 else None


class RestoreDrill(models.Model):
    """Someone restored a backup somewhere to prove it can be done: who, what, from which backup, onto what."""

    target = models.ForeignKey(BackupTarget, on_delete=models.CASCADE, related_name="drills")
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    what = models.CharField(max_length=200, help_text="What was restored, e.g. the wiki database and uploads.")
    from_backup = models.CharField(
        max_length=300, help_text="Which backup: the object key, snapshot or date restored from."
    )
    onto = models.CharField(max_length=200, help_text="Where it was restored, e.g. a scratch VM on xen2.")
    started_at = models.DateTimeField(default=timezone.now)
    duration = models.DurationField(help_text="How long the restore took, e.g. 1:30:00.")
    succeeded = models.BooleanField(help_text="Did the restored copy work?")
    notes = models.TextField(blank=True, help_text="What was missing from the runbook, what surprised you.")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self):
        return f"{self.target} drill {self.started_at:%Y-%m-%d}"

    def clean(self):
        if self.duration is not None and self.duration < timedelta(0):
            raise ValidationError({"duration": "A restore cannot take less than no time."})

    @transaction.atomic
    def record(self):
        """Save the drill; a good one moves the target's last_exercised_at (read by the "drill overdue" flag)."""
        self.save()
        if self.succeeded:
            BackupTarget.objects.filter(pk=self.target_id).filter(
                Q(last_exercised_at__isnull=True) | Q(last_exercised_at__lt=self.started_at)
            ).update(last_exercised_at=self.started_at)
