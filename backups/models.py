"""Where backups land and whether they are real.

A target's check (run_check) gathers values — the S3 listing (backups.s3) or the latest pings —
hands them to the pure judgement in backups.verdicts, and keeps the verdict (record). A change
of state is told to incidents.policy: a failing target reports its own incident ("backup:<pk>"),
or, when its S3 endpoint does not answer at all, the endpoint's ("s3:<endpoint>": one incident
for every target on it); a target that is good again leaves its incident, which is resolved
once nothing it lists is still failing.
"""

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

from core.fields import EncryptedSecretField, KeepsSecrets
from hosts.models import Guest, Machine, exactly_one_of, how_many_set
from incidents import policy
from incidents.models import Incident, TimelineEntry

from . import s3
from .verdicts import BackupState, Expectations, GoodBackup, Ping, Verdict, judge_heartbeat

# A claim older than this belongs to a worker that died mid-check: another may take the target.
CHECK_CLAIM_TIMEOUT = timedelta(minutes=10)


class BackupTargetQuerySet(models.QuerySet):
    def failing(self):
        """Targets whose last check was anything but ok (never-checked ones are not failing yet)."""
        # Listed, not excluded: `state IN (...)` can use the state index, `NOT IN` reads every target.
        return self.filter(state__in=[state for state in BackupState if state.is_failing])

    def due_for_check(self, now):
        """S3 targets whose last check is older than BACKUP_CHECK_EVERY_MINUTES, never checked, or asked for."""
        cutoff = now - timedelta(minutes=settings.BACKUP_CHECK_EVERY_MINUTES)
        return self.filter(kind=BackupTarget.Kind.S3).filter(
            Q(last_checked_at__isnull=True) | Q(last_checked_at__lt=cutoff) | Q(check_requested_at__isnull=False)
        )


class BackupTarget(KeepsSecrets, models.Model):
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
    ping_post_only = models.BooleanField(
        "count POST pings only",
        default=False,
        help_text="Chat apps and link previewers open a pasted URL with GET: with this on, only a job's POST counts.",
    )
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
            models.CheckConstraint(condition=exactly_one_of("machine", "guest"), name="backuptarget_one_subject"),
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
        if how_many_set(self, "machine", "guest") != 1:
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
        started = timezone.now()
        now = now or started
        if not self.claim(started):
            return None
        try:
            verdict = self.judge_heartbeat(now) if self.kind == self.Kind.HEARTBEAT else self.check_s3(now)
            return self.record(verdict, now=now, duration=timezone.now() - started)
        finally:
            self.release()

    @property
    def expectations(self):
        return Expectations(self.expected_interval, self.grace, self.min_size_bytes, self.encryption_required)

    def last_good_backup(self):
        """What the last ok check saw (its newest object and size), or None."""
        good = self.checks.filter(state=BackupState.OK, size_bytes__isnull=False).first()
        return GoodBackup(good.newest_key, good.size_bytes) if good else None

    def check_s3(self, now):
        """The verdict on this target's S3 prefix at `now` (over the network; never raises for a broken endpoint)."""
        if not self._meta.get_field("secret_access_key").is_readable(self):
            return Verdict(
                BackupState.ERROR,
                "Could not check: the stored secret access key cannot be decrypted — re-enter it "
                "(Switchboard's encryption key is not the one it was stored with).",
            )
        location = s3.Location(
            self.endpoint_url, self.region, self.bucket, self.prefix, self.access_key_id, self.secret_access_key
        )
        return s3.check(location, self.expectations, self.last_good_backup(), now)

    def judge_heartbeat(self, now):
        """The verdict from this heartbeat target's pings up to `now`."""
        pings = self.pings.filter(received_at__lte=now)
        last_finish = pings.exclude(kind=HeartbeatPing.Kind.START).first()
        if last_finish is not None and last_finish.kind == HeartbeatPing.Kind.SUCCESS:
            last_success = last_finish
        else:
            last_success = pings.filter(kind=HeartbeatPing.Kind.SUCCESS).first()
        usual = last_success.usual_run_time() if last_success and last_success.run_time is not None else None
        return judge_heartbeat(
            _as_ping(last_finish), _as_ping(last_success), usual, self.expectations, self.created_at, now
        )

    @transaction.atomic
    def record(self, verdict, *, now, duration=None, keep_unchanged=True):
        """Keep a check's result, move the target's state, and tell the incident timeline about a change.

        A change to a failing state reports it to incidents.policy (joining or opening the
        target's incident, or its unreachable endpoint's); a change back to ok leaves that
        incident, resolving it when nothing else there still fails. Repeated failing checks add
        nothing to the timeline. With keep_unchanged=False (the beat's heartbeat
        sweep) a verdict that changes nothing is not kept as a row.
        """
        target = BackupTarget.objects.select_related("incident").select_for_update(of=("self",)).get(pk=self.pk)
        old = BackupState(target.state)
        new = BackupState(verdict.state)
        key = target.incident_key(new, verdict.unreachable)
        # A new state, or the same failure on another footing (its endpoint answers again). An
        # incident a person resolved while it still fails stays resolved until the state changes.
        changed = new != old or key != (target.incident.cause_key if target.incident_id else None)
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
            fields["incident"] = target._tell_incident(old, new, check, key, verdict.unreachable, now)
        BackupTarget.objects.filter(pk=target.pk).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)
        return check

    def incident_key(self, state, unreachable=""):
        """The key of the incident this target's failure belongs on (incidents.policy), or None when not failing."""
        if not state.is_failing:
            return None
        return f"s3:{unreachable}" if unreachable else f"backup:{self.pk}"

    def _tell_incident(self, old, new, check, key, unreachable, now):
        """Tell incidents.policy about a change of state; returns the incident this target is now on (or None)."""
        change = f"{old.label} → {new.label}" if new != old else f"still {new.label.lower()}"
        body = f"Backup “{self.name}”: {change}. {check.message}".strip()
        kind = TimelineEntry.Kind.BACKUP
        current = self.incident if self.incident_id and self.incident.is_open else None
        if current is not None and current.cause_key != key:
            # Good again, or failing another way (its endpoint answers again but the backup is stale).
            def others_still_on(incident):
                return BackupTarget.objects.filter(incident=incident).exclude(pk=self.pk).exists()

            policy.leave(
                current, cause=Incident.Cause.BACKUP, note=body, kind=kind, still_affected=others_still_on, at=now
            )
        if key is None:
            return None
        subject = {"guests": [self.guest]} if self.guest_id else {"machines": [self.machine]}
        title = (
            f"Backups cannot be checked: {unreachable} does not answer"
            if unreachable
            else self.incident_title(new, check)
        )
        incident, _ = policy.report(Incident.Cause.BACKUP, key, title=title, note=body, kind=kind, at=now, **subject)
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
            # A check row only when the verdict changes: a WAL job pinging every minute writes one ping row.
            target.record(target.judge_heartbeat(now), now=now, keep_unchanged=False)
        cls._keep_newest(target)
        return ping

    @classmethod
    def _keep_newest(cls, target):
        """Only the newest PING_KEEP_PER_TARGET pings of a target are kept (one flood cannot fill the disk)."""
        keep = settings.PING_KEEP_PER_TARGET
        oldest_kept = target.pings.order_by("-received_at", "-pk").values_list("received_at", "pk")[keep - 1 : keep]
        oldest_kept = list(oldest_kept)
        if oldest_kept:
            at, pk = oldest_kept[0]
            target.pings.filter(Q(received_at__lt=at) | Q(received_at=at, pk__lt=pk)).delete()

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


def _as_ping(ping):
    return Ping(ping.kind, ping.received_at, ping.run_time) if ping is not None else None
