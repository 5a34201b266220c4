"""Power controllers (switched PDUs, BMCs), the outlets that feed machines, and power actions.

A PowerAction is the unit of idempotency: the web writes it (request) and queues it on
commit (power.tasks.queue_power_action), a worker claims it with a conditional UPDATE
(claim), marks the moment the command leaves (mark_command_sent) and records the outcome
once (finish). A task that finds the command already sent never sends it again: it reads
the state back instead. Every step is written on the machine's timeline, and on the
incident people are working on it if there is one (incidents.policy.record): a power action
never opens an incident of its own.

An action switches one outlet, or every outlet of a machine (a dual-PSU server only goes down when
all its supplies do): then it walks its PowerSteps in order (off each outlet, wait, on each), and
each step keeps the same discipline on its own row (command_sent_at set before the command leaves).
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

    def clean(self):
        # Moving the outlet while an action switches it would switch another machine than the one asked for.
        if self.pk is None:
            return
        before = PowerOutlet.objects.filter(pk=self.pk).values_list("machine_id", flat=True).first()
        if before == self.machine_id:
            return
        single = PowerAction.objects.filter(outlet=self, state__in=PowerAction.ACTIVE_STATES).exists()
        if single or PowerStep.objects.filter(outlet=self, holds_outlet=True).exists():
            raise ValidationError(
                {
                    "machine": f"A power action is switching {self} right now: wait for it to finish before "
                    "moving the outlet to another machine."
                }
            )


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

    class Scope(models.TextChoices):
        OUTLET = "outlet", "One outlet"
        MACHINE = "machine", "Every outlet of the machine"

    ACTIVE_STATES = (State.REQUESTED, State.QUEUED, State.RUNNING)

    # One outlet (outlet and controller set), or every outlet of the machine (neither: its steps name them).
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.OUTLET)
    outlet = models.ForeignKey(PowerOutlet, on_delete=models.PROTECT, null=True, blank=True, related_name="actions")
    controller = models.ForeignKey(
        PowerController, on_delete=models.PROTECT, null=True, blank=True, related_name="actions"
    )
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
            models.CheckConstraint(
                condition=(
                    models.Q(scope="outlet", outlet__isnull=False, controller__isnull=False)
                    | models.Q(scope="machine", outlet__isnull=True, controller__isnull=True)
                ),
                name="poweraction_scope_matches_its_target",
            ),
        ]
        indexes = [models.Index(fields=["state", "requested_at"])]

    def __str__(self):
        return f"{self.get_operation_display()} {self.target} ({self.get_state_display()})"

    @property
    def is_whole_machine(self):
        return self.scope == self.Scope.MACHINE

    @property
    def target(self):
        """What is switched, in words: "pdu-sf-1 outlet 4", or "all outlets of xen1 (PSU A, PSU B)"."""
        if not self.is_whole_machine:
            return str(self.outlet)
        outlets = list(dict.fromkeys(step.outlet for step in self.steps.all()))  # each outlet once, in order
        names = ", ".join(outlet.label or str(outlet) for outlet in outlets)
        machine = self.machine or "the machine"
        return f"all outlets of {machine} ({names})" if names else f"all outlets of {machine}"

    @property
    def is_manual(self):
        """True when a person on site does it (a manual controller): nothing is sent, someone marks it done."""
        if not self.is_whole_machine:
            return self.controller.driver == PowerController.Driver.MANUAL
        return any(step.outlet.controller.driver == PowerController.Driver.MANUAL for step in self.steps.all())

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
        _refuse_if_in_a_whole_machine_action(outlet)
        in_cooldown = _check_cooldown(outlet, cooldown_override, by)
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

    @classmethod
    def request_all_outlets(cls, *, machine, operation, reason, by, cooldown_override=""):
        """Record one request to switch every outlet of `machine` (off all, wait, on all for a cycle), with its
        steps, and write one POWER_REQUESTED on the machine's timeline.

        Like request(): returns (action, created), joins the same whole-machine action if it is still running,
        raises PowerActionRefused when any outlet is busy or in its cooldown. The caller queues it on commit.
        """
        try:
            with transaction.atomic():
                return cls._request_all_outlets(machine, operation, reason, by, cooldown_override)
        except IntegrityError:
            # Two requests raced past the checks; the unique constraints let one in: join or refuse it.
            with transaction.atomic():
                return cls._request_all_outlets(machine, operation, reason, by, cooldown_override)

    @classmethod
    def _request_all_outlets(cls, machine, operation, reason, by, cooldown_override):
        # Lock every outlet in primary-key order, like a single request locks its one: two requests that share
        # an outlet wait for each other here (and never deadlock), so neither sees the other's outlet as free.
        locked = list(PowerOutlet.objects.select_for_update(of=("self",)).filter(machine=machine).order_by("pk"))
        if not locked:
            raise PowerActionRefused(f"{machine} has no switched outlet or BMC.")
        outlets = sorted(
            PowerOutlet.objects.filter(pk__in=[outlet.pk for outlet in locked]).select_related("controller"),
            key=lambda outlet: (outlet.controller.name, outlet.number),
        )
        same = cls.objects.filter(
            scope=cls.Scope.MACHINE, machine=machine, operation=operation, state__in=cls.ACTIVE_STATES
        ).first()
        if same is not None and {step.outlet_id for step in same.steps.all()} == {o.pk for o in outlets}:
            return same, False
        for outlet in outlets:
            active = cls.objects.filter(outlet=outlet, state__in=cls.ACTIVE_STATES).first()
            if active is not None:
                raise PowerActionRefused(
                    f"A {active.get_operation_display().lower()} of {outlet} is {active.get_state_display().lower()}:"
                    f" wait for it to finish before switching all outlets of {machine}."
                )
            _refuse_if_in_a_whole_machine_action(outlet)
        overridden = [outlet for outlet in outlets if _check_cooldown(outlet, cooldown_override, by)]
        action = cls.objects.create(
            scope=cls.Scope.MACHINE,
            machine=machine,
            incident=policy.work_incident(machine),
            operation=operation,
            reason=reason,
            requested_by=by,
            cooldown_override_reason=cooldown_override if overridden else "",
        )
        PowerStep.objects.bulk_create(PowerStep.plan(action, outlets))
        override = f" Cooldown overridden: {cooldown_override}" if overridden else ""
        plan = {
            cls.Operation.CYCLE: f"off one by one, {settings.POWER_ALL_OFF_SECONDS} s off, then on one by one",
            cls.Operation.OFF: "off one by one",
            cls.Operation.ON: "on one by one",
        }[operation]
        action.record(
            f"{_name(by)} asked for a {action.get_operation_display().lower()} of {action.target}: {plan}. "
            f"Reason: {reason}{override}",
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
            models.Q(state=cls.State.RUNNING, scope=cls.Scope.OUTLET, started_at__lt=now - lease)
            & (models.Q(controller__locked_until__isnull=True) | models.Q(controller__locked_until__lt=now))
            & ~models.Q(controller__driver=PowerController.Driver.MANUAL)
        )
        # A whole-machine run holds the lease of the controller of the step it is on (and through the wait):
        # when none of its controllers is leased any more, its worker is gone.
        steps = PowerStep.objects.filter(action=models.OuterRef("pk"))
        abandoned_machine = (
            models.Q(state=cls.State.RUNNING, scope=cls.Scope.MACHINE, started_at__lt=now - lease)
            & ~models.Exists(steps.filter(outlet__controller__locked_until__gte=now))
            & ~models.Exists(steps.filter(outlet__controller__driver=PowerController.Driver.MANUAL))
        )
        return cls.objects.filter(requested | queued | abandoned | abandoned_machine).order_by("requested_at")

    @classmethod
    def overdue_manual(cls, now=None):
        """Manual actions nobody marked done within POWER_MANUAL_DEADLINE_HOURS; the sweep fails them."""
        now = now or timezone.now()
        deadline = now - timedelta(hours=settings.POWER_MANUAL_DEADLINE_HOURS)
        manual = models.Q(controller__driver=PowerController.Driver.MANUAL) | models.Q(
            scope=cls.Scope.MACHINE, steps__outlet__controller__driver=PowerController.Driver.MANUAL
        )
        return cls.objects.filter(manual, state__in=cls.ACTIVE_STATES, requested_at__lt=deadline).distinct()

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
        """Save the last error while the action waits for a retry (the page shows it); never over an outcome."""
        PowerAction.objects.filter(pk=self.pk, state__in=self.ACTIVE_STATES).update(error=error)
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
        """Save the state just read back, for the page's live progress; never over an outcome."""
        PowerAction.objects.filter(pk=self.pk, state__in=self.ACTIVE_STATES).update(state_after=state)
        self.state_after = state

    def note_progress(self, result):
        """Save the controller's answer so far (the page shows it while the action runs); never over an outcome."""
        PowerAction.objects.filter(pk=self.pk, state__in=self.ACTIVE_STATES).update(result=result)
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
        elif self.is_whole_machine and self.steps.exclude(command_sent_at=None).exists():
            # The worker turns back on what it turned off, and sends nothing else (tasks._why_skip).
            error += " Some outlets had already been switched: check them before asking again."
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
            if self.is_whole_machine and not self._run_may_still_switch():
                self.release_outlets()
            verdict = "done" if succeeded else "FAILED"
            text = f"{self.get_operation_display()} of {self.target} {verdict} in {_seconds(self.duration)}"
            text += f": {self.result}" if succeeded else f": {error}"
            if performed_by is not None:
                text += f" (done on site by {_name(performed_by)})"
            self.record(text, kind=TimelineEntry.Kind.POWER_DONE, by=by)
        return True

    def _run_may_still_switch(self):
        # A worker claimed it (started_at) and has steps left: it is still turning back on what it turned off
        # (tasks._why_skip), so the outlets stay held until its run ends (or the sweep finds its worker gone).
        return self.started_at is not None and not self.is_manual and self.steps.filter(finished_at=None).exists()

    def release_outlets(self):
        """Free the outlets of a whole-machine action for the next one; True if this call freed them.

        Called when the action ends with nothing left to switch, by the run that walked the steps once it is
        done, and by the sweep when that run's worker is gone. Only the caller that frees them tells the timeline.
        """
        return self.steps.filter(holds_outlet=True).update(holds_outlet=False) > 0

    def close_leftover_steps(self, why):
        """Record an outcome on every step a stopped run left unfinished; `why` says why it stopped.

        A step whose command went out failed (nobody read it back); the others were not sent. For the sweep.
        """
        for step in self.steps.filter(finished_at=None).select_related("outlet__controller"):
            if step.command_sent_at is None:
                step.finish(PowerStep.Outcome.SKIPPED, result=f"Not sent: {why}.")
            else:
                step.finish(
                    PowerStep.Outcome.FAILED,
                    error=f"The command to {step.outlet_name} had gone out, but {why} before it was read back: "
                    "check the outlet.",
                )

    @classmethod
    def holding_after_the_end(cls, now=None):
        """Whole-machine actions that ended but still hold outlets, whose run's worker is gone: no controller of
        theirs is leased and they ended longer than a lease ago. The sweep closes their steps and frees them."""
        now = now or timezone.now()
        lease = timedelta(seconds=settings.POWER_LOCK_SECONDS)
        steps = PowerStep.objects.filter(action=models.OuterRef("pk"))
        return cls.objects.filter(
            models.Exists(steps.filter(holds_outlet=True)),
            ~models.Exists(steps.filter(outlet__controller__locked_until__gte=now)),
            scope=cls.Scope.MACHINE,
            state__in=[cls.State.SUCCEEDED, cls.State.FAILED],
            finished_at__lt=now - lease,
        ).order_by("finished_at")


class PowerStep(models.Model):
    """One outlet switched off or on as part of a whole-machine action; walked in `position` order.

    The same discipline as a single action, per step: command_sent_at is set by a conditional UPDATE just
    before the command leaves, and a step whose command was recorded is never sent again, only read back.
    """

    class Operation(models.TextChoices):
        OFF = "off", "Off"
        ON = "on", "On"

    class Outcome(models.TextChoices):
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

        @property
        def colour(self):
            return {"done": "green", "failed": "red"}.get(self.value, "grey")

    action = models.ForeignKey(PowerAction, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    outlet = models.ForeignKey(PowerOutlet, on_delete=models.PROTECT, related_name="power_steps")
    operation = models.CharField(max_length=3, choices=Operation.choices)
    undo_only = models.BooleanField(
        default=False,
        help_text="An on step of a power-off: runs only to turn an outlet back on when a later off failed.",
    )
    # True on the first step of each outlet while the action is active, and after a cancel until its run has
    # finished switching: the unique constraint below keeps two whole-machine actions off one outlet, as
    # poweraction_one_active_per_outlet does for single ones.
    holds_outlet = models.BooleanField(default=False, editable=False)
    command_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="Set just before the command goes out: after this, never send it again."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    state_before = models.CharField(max_length=10, choices=PowerState.choices, blank=True)
    state_after = models.CharField(max_length=10, choices=PowerState.choices, blank=True)
    result = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["action", "position"]
        constraints = [
            models.UniqueConstraint(fields=["action", "position"], name="powerstep_one_per_position"),
            models.UniqueConstraint(
                fields=["outlet"], condition=models.Q(holds_outlet=True), name="powerstep_one_active_per_outlet"
            ),
            models.CheckConstraint(
                condition=models.Q(finished_at__isnull=True, outcome="")
                | models.Q(finished_at__isnull=False, outcome__in=["done", "failed", "skipped"]),
                name="powerstep_finished_has_an_outcome",
            ),
        ]

    def __str__(self):
        return f"{self.get_operation_display()} {self.outlet}"

    @property
    def outlet_name(self):
        """The outlet as a volunteer finds it: "pdu-sf-1 outlet 4 (PSU A)"."""
        return f"{self.outlet} ({self.outlet.label})" if self.outlet.label else str(self.outlet)

    @classmethod
    def plan(cls, action, outlets):
        """The unsaved steps of a whole-machine `action` over `outlets` (in order): offs, then ons."""
        op = PowerAction.Operation
        offs = [(outlet, cls.Operation.OFF, False) for outlet in outlets if action.operation != op.ON]
        ons = [(outlet, cls.Operation.ON, action.operation == op.OFF) for outlet in outlets]
        steps, held = [], set()
        for position, (outlet, operation, undo_only) in enumerate(offs + ons, start=1):
            steps.append(
                cls(
                    action=action,
                    position=position,
                    outlet=outlet,
                    operation=operation,
                    undo_only=undo_only,
                    holds_outlet=outlet.pk not in held,
                )
            )
            held.add(outlet.pk)
        return steps

    def mark_command_sent(self, state_before):
        """Record that this step's command is leaving now; False if it already left (never send it again)."""
        now = timezone.now()
        marked = PowerStep.objects.filter(pk=self.pk, command_sent_at=None, finished_at=None).update(
            command_sent_at=now, state_before=state_before
        )
        if marked:
            self.command_sent_at, self.state_before = now, state_before
        return marked == 1

    def note(self, **fields):
        """Save what is known so far (state_before, state_after, error) for the page's live progress.

        Only while the step is unfinished: a twin run that wakes up late never rewrites what was recorded.
        """
        PowerStep.objects.filter(pk=self.pk, finished_at=None).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)

    def finish(self, outcome, *, result="", error="", state_after=""):
        """Record the step's outcome once; False if it was already recorded (another run got there first)."""
        now = timezone.now()
        changes = {"finished_at": now, "outcome": outcome, "result": result, "error": error}
        if state_after:
            changes["state_after"] = state_after
        updated = PowerStep.objects.filter(pk=self.pk, finished_at=None).update(**changes)
        self.refresh_from_db()
        return updated == 1


def _refuse_if_in_a_whole_machine_action(outlet):
    # The flag is what the unique constraint sees; the state says why. After a cancel the flag outlives the
    # active state until the cancelled run has finished switching (PowerAction._end, release_outlets).
    holding = models.Q(holds_outlet=True) | models.Q(action__state__in=PowerAction.ACTIVE_STATES)
    busy = PowerStep.objects.filter(holding, outlet=outlet).select_related("action__machine").first()
    if busy is not None:
        action = busy.action
        if not action.is_active:
            # Cancelled, but its run is still turning back on what it had turned off (PowerAction._end).
            raise PowerActionRefused(
                f"{outlet} is still being switched back on after a cancel of the "
                f"{action.get_operation_display().lower()} of all outlets of {action.machine}; wait a moment "
                "and ask again."
            )
        raise PowerActionRefused(
            f"{outlet} is part of a {action.get_operation_display().lower()} of all outlets of {action.machine}, "
            f"{action.get_state_display().lower()}: wait for it to finish before asking for something else."
        )


def _last_switched(outlet):
    """When a command last went to `outlet`, by a single action or a step of a whole-machine one; None if never."""
    times = [
        PowerAction.objects.filter(outlet=outlet).aggregate(last=models.Max("command_sent_at"))["last"],
        PowerStep.objects.filter(outlet=outlet).aggregate(last=models.Max("command_sent_at"))["last"],
    ]
    times = [when for when in times if when is not None]
    return max(times) if times else None


def cooldown_notice(outlet):
    """Why `outlet` cannot be switched now without an admin's override (its cooldown), or "".

    Read by the request (which refuses) and by the power form, which says it before anything is typed.
    """
    cooldown = outlet.controller.cooldown
    last = _last_switched(outlet)
    if last is None or timezone.now() - last >= cooldown:
        return ""
    wait = cooldown - (timezone.now() - last)
    return (
        f"{outlet} was switched {_ago(last)} ago; the cooldown of "
        f"{_minutes(cooldown)} ends in {_minutes(wait)}. Only an admin can override it."
    )


def _check_cooldown(outlet, override, by):
    """True if `outlet` is in its cooldown and an admin overrides it; raises PowerActionRefused if not allowed."""
    notice = cooldown_notice(outlet)
    in_cooldown = bool(notice)
    if in_cooldown and not override:
        raise PowerActionRefused(notice)
    if in_cooldown and not getattr(by, "is_superuser", False):
        raise PowerActionRefused("Only an admin can override the cooldown.")
    return in_cooldown


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
