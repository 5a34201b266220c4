"""Power controllers (switched PDUs, BMCs), the outlets that feed machines, and power actions.

A PowerAction is the unit of idempotency: the web writes it (request) and queues it on
commit (power.tasks.queue_power_action), a worker claims it with a conditional UPDATE
(claim), marks the moment the command leaves (mark_command_sent) and records the outcome
once (finish). A task that finds the command already sent never sends it again: it reads
the state back instead. Every step is written on the machine's timeline, and on the
incident people are working on it if there is one (incidents.policy.record): a power action
never opens an incident of its own.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_ipv46_address
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from simple_history.models import HistoricalRecords

from coop.models import Site
from core.fields import EncryptedSecretField, KeepsSecrets
from core.validators import validate_hostname
from hosts.models import Machine
from incidents import policy
from incidents.models import TimelineEntry

# A request whose task is not sent after this many seconds found the broker unreachable (the page says so).
BROKER_GRACE_SECONDS = 5


class PowerController(KeepsSecrets, models.Model):
    """A switched PDU or a BMC that can turn machines off and on."""

    class Driver(models.TextChoices):
        APC_SNMP = "apc_snmp", "APC PDU (SNMP)"
        IPMI = "ipmi", "IPMI BMC"
        REDFISH = "redfish", "Redfish BMC"
        MANUAL = "manual", "Manual (someone on site)"

    class SNMPVersion(models.TextChoices):
        V1 = "1", "v1"
        V2C = "2c", "v2c"
        V3 = "3", "v3"

    name = models.CharField(max_length=100, unique=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="power_controllers")
    driver = models.CharField(max_length=20, choices=Driver.choices)
    host = models.CharField(max_length=253, blank=True, help_text="IP address or hostname the controller answers on.")
    port = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(65535)],
        help_text="Leave empty for the protocol's default (SNMP 161, IPMI 623, HTTPS 443).",
    )
    snmp_version = models.CharField(max_length=2, choices=SNMPVersion.choices, blank=True)
    username = models.CharField(max_length=100, blank=True, help_text="BMC user or SNMPv3 user.")
    secret = EncryptedSecretField(
        help_text="Password, or the SNMP community for v1/v2c. Stored encrypted; never shown again."
    )
    verify_tls = models.BooleanField(
        "verify TLS certificate",
        default=True,
        help_text="Turn off only for a BMC with a self-signed certificate on a management network.",
    )
    timeout = models.DurationField(
        default=timedelta(seconds=3), help_text="How long to wait for one answer before trying again."
    )
    cooldown = models.DurationField(
        default=timedelta(minutes=5), help_text="Minimum time between two actions on one outlet (admins may override)."
    )
    notes = models.TextField(blank=True)
    # One command at a time per controller (many PDUs cannot take parallel requests): a lease
    # taken with a conditional UPDATE, so it works on every database and expires if a worker dies.
    lock_token = models.CharField(max_length=64, blank=True, editable=False)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["secret", "lock_token", "locked_until"])

    class Meta:
        ordering = ["site", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.driver != self.Driver.MANUAL and not self.host:
            errors["host"] = "A remote power controller needs the address it answers on."
        if self.host:
            try:
                validate_ipv46_address(self.host)
            except ValidationError:
                try:
                    validate_hostname(self.host)
                except ValidationError:
                    errors["host"] = f"“{self.host}” is neither an IP address nor a hostname."
        if self.driver == self.Driver.APC_SNMP and not self.snmp_version:
            errors["snmp_version"] = "Choose the SNMP version the PDU speaks."
        if self.driver != self.Driver.APC_SNMP and self.snmp_version:
            errors["snmp_version"] = "Only SNMP PDUs have an SNMP version."
        if errors:
            raise ValidationError(errors)

    @property
    def has_secret(self):
        """Whether a password is stored (decrypts nothing: pages ask this)."""
        return self._meta.get_field("secret").is_set(self)

    @property
    def secret_is_readable(self):
        """False when the stored password cannot be decrypted with the current key: it must be re-entered."""
        return self._meta.get_field("secret").is_readable(self)

    def acquire_lock(self, token, ttl):
        """Take this controller's command lease (free, expired or already ours); False if another worker holds it.

        Read by the power task: commands to one PDU or BMC go one at a time.
        """
        now = timezone.now()
        free = models.Q(locked_until__isnull=True) | models.Q(locked_until__lt=now) | models.Q(lock_token=token)
        taken = PowerController.objects.filter(free, pk=self.pk).update(lock_token=token, locked_until=now + ttl)
        return taken == 1

    def release_lock(self, token):
        """Give the command lease back, if it is still ours."""
        PowerController.objects.filter(pk=self.pk, lock_token=token).update(lock_token="", locked_until=None)

    def reveal_secret(self, *, by, reason, machine):
        """Return the stored password and record who saw it and why: an audit entry on the machine's
        timeline (and on the incident being worked on it, if any), never a new incident."""
        policy.record(
            machine,
            f"{_name(by)} revealed the password of {self} ({self.get_driver_display()}). Reason: {reason}",
            kind=TimelineEntry.Kind.SECRET_REVEALED,
            by=by,
            incident=policy.work_incident(machine),
        )
        return self.secret


class PowerOutlet(models.Model):
    """Outlet N of a PDU (or the single power switch of a BMC) and the machine it feeds."""

    controller = models.ForeignKey(PowerController, on_delete=models.CASCADE, related_name="outlets")
    number = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    machine = models.ForeignKey(Machine, on_delete=models.SET_NULL, null=True, blank=True, related_name="outlets")
    label = models.CharField(max_length=100, blank=True, help_text="What is written on the cable, e.g. PSU A")

    history = HistoricalRecords()

    class Meta:
        ordering = ["controller", "number"]
        constraints = [
            models.UniqueConstraint(fields=["controller", "number"], name="poweroutlet_one_number_per_controller"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="poweroutlet_number_positive"),
        ]

    def __str__(self):
        return f"{self.controller} outlet {self.number}"


class PowerState(models.TextChoices):
    """What an outlet or a BMC reports; unknown is never treated as off."""

    ON = "on", "On"
    OFF = "off", "Off"
    UNKNOWN = "unknown", "Unknown"

    @property
    def colour(self):
        return {"on": "green", "off": "red"}.get(self.value, "grey")


class PowerAction(models.Model):
    """One request to switch an outlet: who, why, what, and what happened. The unit of idempotency."""

    class Operation(models.TextChoices):
        CYCLE = "cycle", "Power-cycle"
        ON = "on", "Power on"
        OFF = "off", "Power off"

    class State(models.TextChoices):
        REQUESTED = "requested", "Requested"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

        @property
        def colour(self):
            return {"succeeded": "green", "failed": "red", "running": "amber", "queued": "blue"}.get(self.value, "grey")

    ACTIVE_STATES = (State.REQUESTED, State.QUEUED, State.RUNNING)

    outlet = models.ForeignKey(PowerOutlet, on_delete=models.PROTECT, related_name="actions")
    controller = models.ForeignKey(PowerController, on_delete=models.PROTECT, related_name="actions")
    machine = models.ForeignKey(Machine, on_delete=models.SET_NULL, null=True, blank=True, related_name="power_actions")
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.SET_NULL, null=True, blank=True, related_name="power_actions"
    )
    operation = models.CharField(max_length=10, choices=Operation.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.REQUESTED)
    reason = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="For a manual controller: the person on site who did it.",
    )
    cooldown_override_reason = models.TextField(blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="Last time the task was sent to a worker.")
    dispatch_count = models.PositiveSmallIntegerField(default=0)
    transport_retries = models.PositiveSmallIntegerField(
        default=0, help_text="Times the controller did not answer before the command went out and it was retried."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    command_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="Set just before the command goes out: after this, never send it again."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    state_before = models.CharField(max_length=10, choices=PowerState.choices, blank=True)
    state_after = models.CharField(max_length=10, choices=PowerState.choices, blank=True)
    result = models.TextField(blank=True, help_text="What the controller answered, in words.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["outlet"],
                condition=models.Q(state__in=["requested", "queued", "running"]),
                name="poweraction_one_active_per_outlet",
            ),
        ]
        indexes = [models.Index(fields=["state", "requested_at"])]

    def __str__(self):
        return f"{self.get_operation_display()} {self.outlet} ({self.get_state_display()})"

    @property
    def is_active(self):
        return self.state in self.ACTIVE_STATES

    @property
    def is_finished(self):
        return self.state in (self.State.SUCCEEDED, self.State.FAILED)

    @property
    def expected_state(self):
        """What the outlet should read once the action is done."""
        return PowerState.OFF if self.operation == self.Operation.OFF else PowerState.ON

    @property
    def waiting_for_broker(self):
        """True when the task could not be sent (the broker was unreachable) and the sweep will send it."""
        if self.state != self.State.REQUESTED or self.dispatched_at is not None:
            return False
        return timezone.now() - self.requested_at > timedelta(seconds=BROKER_GRACE_SECONDS)

    @property
    def duration(self):
        if self.finished_at and self.requested_at:
            return self.finished_at - self.requested_at
        return None

    @classmethod
    def request(cls, *, outlet, operation, reason, by, cooldown_override=""):
        """Record a power request and write POWER_REQUESTED on the machine's timeline.

        Returns (action, created): an identical action still running is joined instead of
        started again. Raises PowerActionRefused for a conflicting action or the cooldown.
        The caller queues a created action on commit (power.tasks.queue_power_action); if it
        does not, the sweep sends it a minute later.
        """
        try:
            with transaction.atomic():
                return cls._request(outlet, operation, reason, by, cooldown_override)
        except IntegrityError:
            # Two requests raced past the check; the unique constraint let one in: join or refuse it.
            with transaction.atomic():
                return cls._request(outlet, operation, reason, by, cooldown_override)

    @classmethod
    def _request(cls, outlet, operation, reason, by, cooldown_override):
        outlet = (
            PowerOutlet.objects.select_for_update(of=("self",))
            .select_related("controller", "machine")
            .get(pk=outlet.pk)
        )
        controller = outlet.controller
        active = cls.objects.filter(outlet=outlet, state__in=cls.ACTIVE_STATES).first()
        if active is not None:
            if active.operation == operation:
                return active, False
            raise PowerActionRefused(
                f"A {active.get_operation_display().lower()} of {outlet} is {active.get_state_display().lower()}: "
                "wait for it to finish before asking for something else."
            )
        last = cls.objects.filter(outlet=outlet).exclude(command_sent_at=None).order_by("-command_sent_at").first()
        in_cooldown = last is not None and timezone.now() - last.command_sent_at < controller.cooldown
        if in_cooldown and not cooldown_override:
            wait = controller.cooldown - (timezone.now() - last.command_sent_at)
            raise PowerActionRefused(
                f"{outlet} was switched {_ago(last.command_sent_at)} ago; the cooldown of "
                f"{_minutes(controller.cooldown)} ends in {_minutes(wait)}. Only an admin can override it."
            )
        if in_cooldown and not getattr(by, "is_superuser", False):
            raise PowerActionRefused("Only an admin can override the cooldown.")
        # Joins the outage (or maintenance) people are working on, if any; never opens one.
        incident = policy.work_incident(outlet.machine)
        action = cls.objects.create(
            outlet=outlet,
            controller=controller,
            machine=outlet.machine,
            incident=incident,
            operation=operation,
            reason=reason,
            requested_by=by,
            cooldown_override_reason=cooldown_override if in_cooldown else "",
        )
        override = f" Cooldown overridden: {cooldown_override}" if in_cooldown else ""
        action.record(
            f"{_name(by)} asked for a {action.get_operation_display().lower()} of {outlet}. Reason: {reason}{override}",
            kind=TimelineEntry.Kind.POWER_REQUESTED,
            by=by,
        )
        return action, True

    def record(self, body, *, kind, by=None):
        """Write a step of this action on its machine's timeline and the incident it joined (if any)."""
        return policy.record(self.machine, body, kind=kind, by=by, incident=self.incident)

    def mark_dispatched(self):
        """Record that the task reached the broker (requested → queued); the sweep reads dispatched_at."""
        PowerAction.objects.filter(pk=self.pk).update(
            dispatched_at=timezone.now(), dispatch_count=F("dispatch_count") + 1
        )
        PowerAction.objects.filter(pk=self.pk, state=self.State.REQUESTED).update(state=self.State.QUEUED)

    @classmethod
    def needing_dispatch(cls, now=None):
        """Actions a worker should have picked up by now: requested for a minute, queued for five, or abandoned.

        Abandoned: running for longer than a controller lease (POWER_LOCK_SECONDS) and the lease has lapsed,
        so the worker that claimed it is gone.
        """
        now = now or timezone.now()
        lease = timedelta(seconds=settings.POWER_LOCK_SECONDS)
        requested = models.Q(state=cls.State.REQUESTED, requested_at__lt=now - timedelta(minutes=1))
        queued = models.Q(state=cls.State.QUEUED, dispatched_at__lt=now - timedelta(minutes=5))
        abandoned = (
            models.Q(state=cls.State.RUNNING, started_at__lt=now - lease)
            & (models.Q(controller__locked_until__isnull=True) | models.Q(controller__locked_until__lt=now))
            & ~models.Q(controller__driver=PowerController.Driver.MANUAL)
        )
        return cls.objects.filter(requested | queued | abandoned).order_by("requested_at")

    @classmethod
    def overdue_manual(cls, now=None):
        """Manual actions nobody marked done within POWER_MANUAL_DEADLINE_HOURS; the sweep fails them."""
        now = now or timezone.now()
        deadline = now - timedelta(hours=settings.POWER_MANUAL_DEADLINE_HOURS)
        return cls.objects.filter(
            state__in=cls.ACTIVE_STATES, controller__driver=PowerController.Driver.MANUAL, requested_at__lt=deadline
        )

    def claim(self):
        """Move a requested or queued action to running; False if it was not waiting (someone else has it)."""
        now = timezone.now()
        claimed = PowerAction.objects.filter(pk=self.pk, state__in=[self.State.REQUESTED, self.State.QUEUED]).update(
            state=self.State.RUNNING, started_at=now
        )
        if claimed:
            self.state, self.started_at = self.State.RUNNING, now
        return claimed == 1

    def unclaim(self):
        """Give a running action whose command was not sent back to the queue (a transport error to retry)."""
        PowerAction.objects.filter(pk=self.pk, state=self.State.RUNNING, command_sent_at=None).update(
            state=self.State.QUEUED
        )

    def note_retry(self, *, transport):
        """Record that the task was sent again by a retry: refreshes dispatched_at so the sweep leaves it to the
        retry's backoff, and counts transport retries (their budget is POWER_TRANSPORT_RETRIES)."""
        changes = {"dispatched_at": timezone.now()}
        if transport:
            changes["transport_retries"] = F("transport_retries") + 1
        PowerAction.objects.filter(pk=self.pk).update(**changes)
        self.refresh_from_db(fields=["dispatched_at", "transport_retries"])

    def note_error(self, error):
        """Save the last error while the action waits for a retry (the page shows it)."""
        PowerAction.objects.filter(pk=self.pk).update(error=error)
        self.error = error

    def mark_command_sent(self, state_before=""):
        """Record that the command is leaving now; False if it already left (then it must never be sent again)."""
        now = timezone.now()
        marked = PowerAction.objects.filter(pk=self.pk, state=self.State.RUNNING, command_sent_at=None).update(
            command_sent_at=now, state_before=state_before
        )
        if marked:
            self.command_sent_at, self.state_before = now, state_before
        return marked == 1

    def observe(self, state):
        """Save the state just read back, for the page's live progress."""
        PowerAction.objects.filter(pk=self.pk).update(state_after=state)
        self.state_after = state

    def note_progress(self, result):
        """Save the controller's answer so far (the page shows it while the action runs)."""
        PowerAction.objects.filter(pk=self.pk).update(result=result)
        self.result = result

    def finish(self, *, succeeded, result="", error="", state_after=""):
        """Record the outcome once (running → succeeded/failed) and write POWER_DONE; False if already recorded."""
        return self._end(
            from_states=[self.State.RUNNING], succeeded=succeeded, result=result, error=error, state_after=state_after
        )

    def fail(self, error, *, by=None, state_after=""):
        """Fail the action from any active state (requested, queued or running) and write POWER_DONE.

        For the sweep and the worker when nothing more can be done; False if it had already ended.
        """
        return self._end(from_states=self.ACTIVE_STATES, succeeded=False, error=error, state_after=state_after, by=by)

    def cancel(self, *, by, reason):
        """An operator stops waiting for an active action: failed as cancelled, on the timeline; False if ended."""
        error = f"Cancelled by {_name(by)}: {reason}"
        if self.command_sent_at is not None:
            error += " The command had already gone out: check the outlet before asking again."
        return self.fail(error, by=by)

    def mark_done_on_site(self, *, by):
        """A person on site says they switched it (manual controllers): succeeded, with who did it."""
        return self._end(
            from_states=self.ACTIVE_STATES, succeeded=True, result="Done by hand on site.", performed_by=by, by=by
        )

    def _end(self, *, from_states, succeeded, result="", error="", state_after="", by=None, performed_by=None):
        state = self.State.SUCCEEDED if succeeded else self.State.FAILED
        now = timezone.now()
        with transaction.atomic():
            updated = PowerAction.objects.filter(pk=self.pk, state__in=from_states).update(
                state=state,
                finished_at=now,
                result=result or self.result,
                error=error,
                state_after=state_after or self.state_after,
                performed_by=performed_by,
            )
            if not updated:
                return False
            self.refresh_from_db()
            verdict = "done" if succeeded else "FAILED"
            text = f"{self.get_operation_display()} of {self.outlet} {verdict} in {_seconds(self.duration)}"
            text += f": {self.result}" if succeeded else f": {error}"
            if performed_by is not None:
                text += f" (done on site by {_name(performed_by)})"
            self.record(text, kind=TimelineEntry.Kind.POWER_DONE, by=by)
        return True


class PowerActionRefused(Exception):
    """A power request that must not go ahead; str() tells the operator why."""


def _name(user):
    if user is None:
        return "Switchboard"
    return user.get_full_name() or user.get_username()


def _minutes(delta):
    seconds = max(int(delta.total_seconds()), 0)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def _ago(when):
    return _minutes(timezone.now() - when)


def _seconds(delta):
    return f"{delta.total_seconds():.1f} s" if delta else "?"
