"""Incidents: what broke, who it hit, what was done, in order, and what is left to do."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from coop.models import Organization
from hosts.models import Guest, HostedService, Machine


class IncidentQuerySet(models.QuerySet):
    def touching_machine(self, machine):
        """Incidents naming the machine or one of its guests (one outage page lists them all)."""
        named = Incident.machines.through.objects.filter(machine=machine).values("incident")
        via_guests = Incident.guests.through.objects.filter(guest__machine=machine).values("incident")
        return self.filter(Q(pk__in=named) | Q(pk__in=via_guests))

    def touching_guest(self, guest):
        """Incidents naming the guest or the machine it runs on."""
        named = Incident.guests.through.objects.filter(guest=guest).values("incident")
        via_host = Incident.machines.through.objects.filter(machine=guest.machine_id).values("incident")
        return self.filter(Q(pk__in=named) | Q(pk__in=via_host))


class Incident(models.Model):
    """An outage or degradation, with the machines and guests it affects."""

    class Severity(models.TextChoices):
        CRITICAL = "critical", "Critical: down for everyone"
        MAJOR = "major", "Major: partly down"
        MINOR = "minor", "Minor: degraded"
        MAINTENANCE = "maintenance", "Planned maintenance"

        @property
        def colour(self):
            return {"critical": "red", "major": "amber", "minor": "yellow", "maintenance": "blue"}[self.value]

    class Status(models.TextChoices):
        INVESTIGATING = "investigating", "Investigating"
        IDENTIFIED = "identified", "Identified"
        MONITORING = "monitoring", "Monitoring a fix"
        RESOLVED = "resolved", "Resolved"

        @property
        def colour(self):
            return {"resolved": "green", "monitoring": "blue"}.get(self.value, "red")

    title = models.CharField(max_length=200)
    severity = models.CharField(max_length=20, choices=Severity.choices, default=Severity.MAJOR)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INVESTIGATING)
    is_public = models.BooleanField(
        default=False, help_text="Shown on the public status page (write the summary for the public)."
    )
    summary = models.TextField(blank=True, help_text="What happened and what users should know.")
    machines = models.ManyToManyField(Machine, blank=True, related_name="incidents")
    guests = models.ManyToManyField(Guest, blank=True, related_name="incidents")
    started_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="resolved") & Q(resolved_at__isnull=False))
                | (~Q(status="resolved") & Q(resolved_at__isnull=True)),
                name="incident_resolved_iff_resolved_at",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=models.F("started_at")),
                name="incident_resolved_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-started_at"]),
            # The latest incidents touching a machine or guest (its page's timeline), newest first.
            models.Index(fields=["-started_at"], name="incident_started_idx"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("incident_detail", args=[self.pk])

    def clean(self):
        errors = {}
        if self.status == self.Status.RESOLVED and not self.resolved_at:
            errors["resolved_at"] = "Give the time it was resolved."
        if self.status != self.Status.RESOLVED and self.resolved_at:
            errors["status"] = "An incident with a resolved time must have the status Resolved."
        if self.resolved_at and self.started_at and self.resolved_at < self.started_at:
            errors["resolved_at"] = "An incident cannot be resolved before it started."
        if errors:
            raise ValidationError(errors)

    @property
    def is_open(self):
        return self.status != self.Status.RESOLVED

    def _named_ids(self):
        """Subqueries of the ids of the guests and the machines named on the incident."""
        # Read from the link tables alone: `self.guests.values("pk")` joins every guest of the co-op.
        guests = Incident.guests.through.objects.filter(incident=self).values("guest")
        machines = Incident.machines.through.objects.filter(incident=self).values("machine")
        return guests, machines

    def affected_guests(self):
        """Guests named on the incident plus every guest of an affected machine."""
        # Subqueries, not joins: no duplicates to remove, however many guests a host has.
        guests, machines = self._named_ids()
        return Guest.objects.filter(Q(pk__in=guests) | Q(machine__in=machines))

    def affected_guest_count(self):
        """How many guests `affected_guests` lists, counted from the ids alone."""
        # A UNION of ids has no duplicates and reads only the incident's rows, where counting
        # "named or on an affected machine" over the guest table reads every guest of the co-op.
        guests, machines = self._named_ids()
        on_machines = Guest.objects.filter(machine__in=machines).order_by().values("pk")
        return guests.order_by().union(on_machines).count()

    def affected_owners(self):
        """Organisations owning an affected machine, guest or hosted service."""
        guests, machines = self._named_ids()
        # One subquery per way of being affected: each reads its rows through an index, where
        # "named or on an affected machine" as one condition reads every guest of the co-op.
        return Organization.objects.filter(
            Q(pk__in=Machine.objects.filter(pk__in=machines).values("owner"))
            | Q(pk__in=Guest.objects.filter(pk__in=guests).values("owner"))
            | Q(pk__in=Guest.objects.filter(machine__in=machines).values("owner"))
            | Q(pk__in=HostedService.objects.filter(guest__in=guests).values("owner"))
            | Q(pk__in=HostedService.objects.filter(guest__machine__in=machines).values("owner"))
        )

    def note(self, body, *, by=None, kind=None, is_public=False, at=None):
        """Add an entry to this incident's timeline (the one audit trail people read)."""
        return self.timeline.create(
            body=body,
            author=by,
            kind=kind or TimelineEntry.Kind.NOTE,
            is_public=is_public,
            at=at or timezone.now(),
        )

    @transaction.atomic
    def resolve(self, *, by=None, note="", at=None):
        """Mark the incident resolved now and record that on its timeline."""
        when = max(at or timezone.now(), self.started_at)
        self.status = self.Status.RESOLVED
        self.resolved_at = when
        self.save(update_fields=["status", "resolved_at"])
        self.note(note or "Resolved.", by=by, kind=TimelineEntry.Kind.STATUS, is_public=self.is_public, at=when)

    @classmethod
    @transaction.atomic
    def open_for_machine(cls, machine, *, title, by=None, severity=None):
        """The machine's open incident, or a new one listing it: one outage, one timeline."""
        existing = cls.objects.filter(machines=machine).exclude(status=cls.Status.RESOLVED).order_by("-started_at")
        incident = existing.first()
        if incident is not None:
            return incident, False
        incident = cls.objects.create(title=title, created_by=by, severity=severity or cls.Severity.MAJOR)
        incident.machines.add(machine)
        incident.note(f"Incident opened for {machine}.", by=by, kind=TimelineEntry.Kind.STATUS)
        return incident, True


class TimelineEntry(models.Model):
    """One line of an incident's story: a human note or something Switchboard saw or did."""

    class Kind(models.TextChoices):
        NOTE = "note", "Note"
        STATUS = "status", "Status change"
        CHECK_FAILED = "check_failed", "Check failed"
        CHECK_RECOVERED = "check_recovered", "Check recovered"
        ALERT_SENT = "alert_sent", "Alert sent"
        ALERT_ACKNOWLEDGED = "alert_ack", "Alert acknowledged"
        POWER_REQUESTED = "power_requested", "Power action requested"
        POWER_DONE = "power_done", "Power action finished"
        SECRET_REVEALED = "secret_revealed", "Secret revealed"
        BACKUP = "backup", "Backup"

        @property
        def colour(self):
            return {
                "check_failed": "red",
                "check_recovered": "green",
                "power_requested": "amber",
                "power_done": "amber",
                "secret_revealed": "amber",
            }.get(self.value, "grey")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NOTE)
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_public = models.BooleanField(default=False, help_text="Shown on the public incident page.")

    class Meta:
        ordering = ["at", "pk"]
        verbose_name_plural = "timeline entries"
        indexes = [models.Index(fields=["incident", "at"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


class ActionItem(models.Model):
    """Something still to do after an incident ("still several things to do")."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="action_items")
    title = models.CharField(max_length=300)
    owner = models.ForeignKey(
        "coop.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="action_items"
    )
    due_on = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["done_at", "due_on", "pk"]

    def __str__(self):
        return self.title

    @property
    def is_done(self):
        return self.done_at is not None

    def mark_done(self, when=None):
        """Tick the item off."""
        self.done_at = when or timezone.now()
        self.save(update_fields=["done_at"])
