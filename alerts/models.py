"""Who is on call, how an alert climbs when nobody answers, and every alert sent.

- Rota: people in order, each on call for one shift (a handoff time and a length), with
  overrides for "I'm away this week, Bo covers".
- EscalationPolicy: ordered steps (the rota's on-call person, a named person, or everyone with
  access to the machine's site), each followed by a wait, run again `repeat` times.
- Alert: one per incident that needs a person. It keeps a snapshot of its policy's steps, so
  editing the policy mid-outage changes nothing for alerts already climbing, and a token that
  changes whenever the alert stops or restarts, so a stale or duplicated task does nothing.
- Notification: one message to one contact method at one step; unique per step, so a step
  sends at most once to each.
"""

import secrets
import uuid
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from timezone_field import TimeZoneField

from coop.models import ContactMethod, Person, Site
from incidents.models import Incident

MIN_SHIFT, MAX_SHIFT = timedelta(hours=1), timedelta(days=90)
MAX_REPEAT = 10


def new_calendar_token():
    return secrets.token_urlsafe(24)


class Rota(models.Model):
    """People who take turns being on call, one shift each, in order."""

    name = models.CharField(max_length=100, unique=True)
    handoff_time = models.TimeField(default="09:00", help_text="When a shift hands over, in the rota's time zone.")
    shift_length = models.DurationField(
        default=timedelta(days=7), help_text="e.g. 7 days; at least one hour, at most 90 days."
    )
    starts_on = models.DateField(
        default=timezone.localdate, help_text="The first member's first shift starts on this day at the handoff time."
    )
    timezone = TimeZoneField(default="UTC")
    calendar_token = models.CharField(max_length=64, unique=True, default=new_calendar_token, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.shift_length is not None and not MIN_SHIFT <= self.shift_length <= MAX_SHIFT:
            raise ValidationError({"shift_length": "A shift lasts at least one hour and at most 90 days."})

    def shift_at(self, when, members=None):
        """(person, start, end) of the regular shift covering `when`; None when the rota is empty or not started.

        Counted on the rota's wall clock, so a 09:00 handoff stays at 09:00 across daylight saving time.
        """
        members = members if members is not None else self.ordered_people()
        if not members:
            return None
        first = datetime.combine(self.starts_on, self.handoff_time)
        local = when.astimezone(self.timezone).replace(tzinfo=None)
        if local < first:
            return None
        number = (local - first) // self.shift_length
        start = first + number * self.shift_length
        aware = [moment.replace(tzinfo=self.timezone) for moment in (start, start + self.shift_length)]
        return members[number % len(members)], *aware

    def ordered_people(self):
        # .all(): a list page prefetches members__person and overrides__person (RotaAdmin, the dashboard).
        members = self.members.all()
        if "members" not in getattr(self, "_prefetched_objects_cache", {}):
            members = members.select_related("person")
        members = sorted(members, key=lambda member: (member.position, member.pk))
        return [member.person for member in members]

    def on_call(self, when=None):
        """Who is on call at `when` (now): an override's person, else the regular shift's; None if nobody."""
        when = when or timezone.now()
        covering = [o for o in self.overrides.all() if o.starts_at <= when < o.ends_at]
        if covering:
            # The one that started last is the most specific: "Cy covers Tuesday" inside "Bo covers the month".
            return max(covering, key=lambda override: (override.starts_at, override.pk)).person
        shift = self.shift_at(when)
        return shift[0] if shift else None

    def shifts(self, start, end):
        """Every (person, start, end) between `start` and `end`, overrides cut in: what the calendar feed lists."""
        members = self.ordered_people()
        overrides = list(self.overrides.filter(ends_at__gt=start, starts_at__lt=end).select_related("person"))
        first = datetime.combine(self.starts_on, self.handoff_time).replace(tzinfo=self.timezone)
        pieces, shift = [], self.shift_at(max(start, first), members)
        while shift is not None and shift[1] < end:
            pieces += _cut(shift, overrides)
            shift = self.shift_at(shift[2], members)
        pieces += [(o.person, o.starts_at, o.ends_at) for o in overrides]
        return sorted(pieces, key=lambda piece: piece[1])


def _cut(shift, overrides):
    """The parts of a regular shift no override covers."""
    parts = [shift]
    for override in overrides:
        remaining = []
        for person, start, end in parts:
            if override.ends_at <= start or override.starts_at >= end:
                remaining.append((person, start, end))
                continue
            if start < override.starts_at:
                remaining.append((person, start, override.starts_at))
            if override.ends_at < end:
                remaining.append((person, override.ends_at, end))
        parts = remaining
    return parts


class RotaMember(models.Model):
    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="rota_memberships")
    position = models.PositiveSmallIntegerField(default=0, help_text="Shifts go in this order, lowest first.")

    class Meta:
        ordering = ["rota", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["rota", "person"], name="rotamember_once_per_rota")]

    def __str__(self):
        return f"{self.person} on {self.rota}"


class RotaOverride(models.Model):
    """Someone covers a stretch of the rota ("I'm away this week": Bo takes it)."""

    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="overrides")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="rota_overrides", help_text="Who covers.")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="override_ends_after_start")
        ]

    def __str__(self):
        return f"{self.person} covers {self.rota} from {self.starts_at:%Y-%m-%d %H:%M}"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The cover must end after it starts."})


class EscalationPolicy(models.Model):
    """Who is alerted, in what order, when an outage opens and nobody acknowledges."""

    name = models.CharField(max_length=100, unique=True)
    sites = models.ManyToManyField(
        Site, blank=True, related_name="escalation_policies", help_text="Outages of machines at these sites use it."
    )
    is_default = models.BooleanField(default=False, help_text="Used for sites no other policy names.")
    repeat = models.PositiveSmallIntegerField(
        default=1,
        validators=[MaxValueValidator(MAX_REPEAT)],
        help_text=f"How many more times the steps run when nobody acknowledges (0: once; at most {MAX_REPEAT}).",
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "escalation policies"
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_policy")
        ]

    def __str__(self):
        return self.name

    @classmethod
    def for_incident(cls, incident):
        """The policy covering the site of the incident's machine (or its guest's host), else the default."""
        site = site_of(incident)
        policy = cls.objects.filter(sites=site).order_by("pk").first() if site else None
        return policy or cls.objects.filter(is_default=True).first()

    def snapshot(self):
        """The steps as plain data, frozen into an alert when it starts."""
        return [step.as_data() for step in self.steps.select_related("rota", "person").order_by("position", "pk")]


def check_steps(steps, repeat):
    """Refuse a policy that would alert nobody or loop without waiting. `steps`: (notify, rota, person, wait)."""
    if not steps:
        raise ValidationError("An escalation policy needs at least one step.")
    if repeat and repeat > MAX_REPEAT:
        raise ValidationError(f"Repeat the steps at most {MAX_REPEAT} times.")
    if repeat and sum(wait or 0 for *_, wait in steps) == 0:
        raise ValidationError(
            "Every step waits 0 minutes and the steps repeat: that would alert people in a tight loop. "
            "Give at least one step a wait, or set repeat to 0."
        )
    for notify, rota, _person, _wait in steps:
        if notify == EscalationStep.Notify.ROTA and rota is not None and not rota.members.exists():
            raise ValidationError(f"The rota “{rota}” has nobody in it: add people to it first.")


def site_of(incident):
    """The site of the incident's first machine, or of its first guest's host; None if it names neither."""
    machine = incident.machines.select_related("site").first()
    if machine is None:
        guest = incident.guests.select_related("machine__site").first()
        machine = guest.machine if guest else None
    return machine.site if machine else None


class EscalationStep(models.Model):
    class Notify(models.TextChoices):
        ROTA = "rota", "Whoever is on call for a rota"
        PERSON = "person", "A named person"
        SITE_ACCESS = "site", "Everyone with access to the machine's site"

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    notify = models.CharField(max_length=10, choices=Notify.choices, default=Notify.ROTA)
    rota = models.ForeignKey(Rota, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    wait_minutes = models.PositiveSmallIntegerField(default=10, help_text="Minutes before the next step.")

    class Meta:
        ordering = ["policy", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(notify="rota") & Q(rota__isnull=False) & Q(person__isnull=True))
                | (Q(notify="person") & Q(person__isnull=False) & Q(rota__isnull=True))
                | (Q(notify="site") & Q(rota__isnull=True) & Q(person__isnull=True)),
                name="escalationstep_target_matches",
            )
        ]

    def __str__(self):
        return self.describe()

    def clean(self):
        if self.notify == self.Notify.ROTA and self.rota_id is None:
            raise ValidationError({"rota": "Choose the rota whose on-call person is alerted."})
        if self.notify == self.Notify.PERSON and self.person_id is None:
            raise ValidationError({"person": "Choose the person to alert."})
        if self.notify != self.Notify.ROTA:
            self.rota = None
        if self.notify != self.Notify.PERSON:
            self.person = None

    def describe(self):
        if self.notify == self.Notify.ROTA:
            return f"the on-call person of {self.rota}"
        if self.notify == self.Notify.PERSON:
            return str(self.person)
        return "everyone with access to the site"

    def as_data(self):
        return {
            "notify": self.notify,
            "rota": self.rota_id,
            "person": self.person_id,
            "wait_minutes": self.wait_minutes,
            "describe": self.describe(),
        }


class Alert(models.Model):
    """An incident calling for a person: climbs its policy's steps until someone acknowledges it."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Alerting"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        EXHAUSTED = "exhausted", "Nobody acknowledged"
        RESOLVED = "resolved", "Resolved"

        @property
        def colour(self):
            return {"active": "red", "acknowledged": "amber", "exhausted": "red", "resolved": "green"}[self.value]

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="alert")
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    steps = models.JSONField(default=list, help_text="The policy's steps when the alert started.")
    repeat = models.PositiveSmallIntegerField(default=0)
    token = models.UUIDField(default=uuid.uuid4, help_text="Changes when the alert stops: stale tasks do nothing.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    step = models.PositiveSmallIntegerField(default=0, help_text="The next step to run.")
    round = models.PositiveSmallIntegerField(default=0)
    next_step_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["status", "next_step_at"], name="alert_due_idx")]

    def __str__(self):
        return f"Alert for {self.incident}"


class Notification(models.Model):
    """One message to one contact method: the alert itself, or the news that it is over."""

    class Purpose(models.TextChoices):
        ALERT = "alert", "Alert"
        SITE_ACCESS = "site", "Asked for someone with site access"
        ACKNOWLEDGED = "acknowledged", "Someone is on it"
        RESOLVED = "resolved", "Resolved"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        RETRYING = "retrying", "Failed, will retry"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled (acknowledged first)"

        @property
        def colour(self):
            return {"sent": "green", "failed": "red", "retrying": "amber"}.get(self.value, "grey")

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notifications")
    purpose = models.CharField(max_length=12, choices=Purpose.choices, default=Purpose.ALERT)
    round = models.PositiveSmallIntegerField(default=0)
    step = models.PositiveSmallIntegerField(default=0)
    person = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, related_name="+")
    contact_method = models.ForeignKey(ContactMethod, on_delete=models.SET_NULL, null=True, related_name="+")
    channel = models.CharField(max_length=40, help_text="e.g. email, ntfy, matrix: where it went, never the secret.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # At most once per step: a duplicated escalation task cannot alert someone twice.
            models.UniqueConstraint(
                fields=["alert", "purpose", "round", "step", "contact_method"], name="notification_once_per_step"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notification_due_idx")]

    def __str__(self):
        return f"{self.get_purpose_display()} to {self.person} by {self.channel}"


class CalendarFeed(models.Model):
    """A person's secret iCal address for their on-call shifts."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True, default=new_calendar_token, editable=False)

    def __str__(self):
        return f"On-call calendar of {self.person}"
