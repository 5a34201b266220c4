"""Incidents: what broke, who it hit, what was done, in order, and what is left to do."""

from datetime import UTC, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from coop.models import Organization
from hosts.models import Guest, HostedService, Machine, exactly_one_of, how_many_set

from .signals import incident_resolved, public_update_posted

# The longest update a person may post: a page of text, not a log dump.
UPDATE_MAX_LENGTH = 5000


def display_name(user):
    """How a person is named on the members' timeline (never on a public entry)."""
    if user is None:
        return "an admin"
    return user.get_full_name() or user.get_username()


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
    """An outage or degradation, with the machines and guests it affects.

    Producers open, join and resolve incidents only through incidents.policy.
    """

    class Cause(models.TextChoices):
        OUTAGE = "outage", "Outage of a machine or guest"
        BACKUP = "backup", "Backup failure"
        MAINTENANCE = "maintenance", "Planned maintenance"
        PERSON = "person", "Opened by a person"

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
    title_by_switchboard = models.BooleanField(
        default=False,
        help_text="Written by Switchboard for members (it may name internal hosts): retitle before making it public.",
    )
    cause = models.CharField(max_length=20, choices=Cause.choices, default=Cause.PERSON)
    cause_key = models.CharField(
        max_length=300,
        blank=True,
        editable=False,
        help_text="What the producer that opened it watches (e.g. backup:12): how it finds the incident again.",
    )
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
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who is leading the work on it: the one person others ask.",
    )
    public_slug = models.SlugField(
        max_length=80,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text="Its public address, /status/incidents/<slug>/, made from the public title when it is published.",
    )
    postmortem = models.TextField(blank=True, help_text="What happened and what changes, in Markdown.")
    postmortem_published_at = models.DateTimeField(
        null=True, blank=True, help_text="When the postmortem was published on the public page."
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
            # One open incident per thing a producer watches, even when two workers race (incidents.policy).
            models.UniqueConstraint(
                fields=["cause", "cause_key"],
                condition=~Q(status="resolved") & ~Q(cause_key=""),
                name="incident_one_open_per_cause_key",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-started_at"]),
            # The latest incidents touching a machine or guest (its page's timeline), newest first.
            models.Index(fields=["-started_at"], name="incident_started_idx"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        # Made public another way than publish() (the admin's box): it gets its public address too.
        if self.is_public and not self.public_slug and not self.title_by_switchboard:
            self.public_slug = self.free_public_slug()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "public_slug"}
        super().save(*args, **kwargs)

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
        if self.is_public and self.title_by_switchboard:
            errors["is_public"] = (
                "Switchboard wrote this title for members and it may name internal hosts: "
                "write a title for the public before making the incident public."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def is_open(self):
        return self.status != self.Status.RESOLVED

    def retitle(self, title):
        """A person's title replaces Switchboard's: from now on it may be shown to the public."""
        self.title, self.title_by_switchboard = title, False
        self.save(update_fields=["title", "title_by_switchboard"])

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

    def note(self, body, *, by=None, kind=None, is_public=False, at=None, machine=None, guest=None):
        """Add an entry to this incident's timeline (the one audit trail people read).

        Only a person's words go public: a note with no author is for members, whatever is_public says.
        """
        return self.timeline.create(
            machine=machine,
            guest=guest,
            body=body,
            author=by,
            kind=kind or TimelineEntry.Kind.NOTE,
            is_public=is_public and by is not None,
            at=at or timezone.now(),
        )

    def _lock(self):
        """Lock the row until the transaction ends and take its current state: two people may press at once."""
        fresh = Incident.objects.select_for_update().get(pk=self.pk)
        for name in ("status", "resolved_at", "summary", "is_public", "title", "title_by_switchboard", "public_slug"):
            setattr(self, name, getattr(fresh, name))

    @transaction.atomic
    def resolve(self, *, by=None, note="", at=None, summary=None):
        """Mark the incident resolved now and record that on its timeline (its alert stops once committed).

        `summary`, when given, becomes the incident's summary (what the public reads). Returns the
        timeline entry, or None when it was resolved already (by a second press, or another worker).
        """
        self._lock()
        if self.status == self.Status.RESOLVED:
            return None
        when = max(at or timezone.now(), self.started_at)
        self.status = self.Status.RESOLVED
        self.resolved_at = when
        fields = ["status", "resolved_at"]
        if summary is not None:
            self.summary = summary.strip()
            fields.append("summary")
        self.save(update_fields=fields)
        entry = self.note(note or "Resolved.", by=by, kind=TimelineEntry.Kind.STATUS, is_public=self.is_public, at=when)
        transaction.on_commit(lambda: incident_resolved.send(sender=Incident, incident=self), robust=True)
        return entry

    # --- What people do on the incident page. Each change writes its timeline entry here. ---
    # What goes public never names a person: the author is on the entry, shown to members only.

    def post_update(self, body, *, by, public=False):
        """A person's update: a private note for members, or (public) the words the public reads."""
        body = (body or "").strip()
        if not body:
            raise ValidationError({"body": "Write what you know: the update is empty."})
        if len(body) > UPDATE_MAX_LENGTH:
            raise ValidationError(
                {"body": f"Keep an update under {UPDATE_MAX_LENGTH:,} characters (this one has {len(body):,})."}
            )
        if public and not self.is_public:
            raise ValidationError({"public": "Put the incident on the status page first: give it a public title."})
        entry = self.note(body, by=by, is_public=public)
        if public:
            transaction.on_commit(
                lambda: public_update_posted.send(sender=Incident, incident=self, entry=entry), robust=True
            )
        return entry

    @transaction.atomic
    def change_status(self, status, *, by, note=""):
        """Investigating → identified → monitoring → resolved; from resolved back to any other is a reopening.

        Returns the timeline entry, or None when it already had that status.
        """
        status = self.Status(status)
        self._lock()
        if status == self.status:
            return None
        if status == self.Status.RESOLVED:
            return self.resolve(by=by, note=note or "Resolved.")
        was_resolved = self.status == self.Status.RESOLVED
        if was_resolved and self.cause_key:
            newer = Incident.objects.filter(cause=self.cause, cause_key=self.cause_key).exclude(pk=self.pk)
            newer = newer.exclude(status=self.Status.RESOLVED).first()
            if newer is not None:
                raise ValidationError(
                    {
                        "status": f"Switchboard opened a newer incident for the same thing since: “{newer.title}” "
                        f"(#{newer.pk}). Post there instead of reopening this one."
                    }
                )
        before = self.get_status_display()
        self.status, self.resolved_at = status, None
        self.save(update_fields=["status", "resolved_at"])
        body = f"Reopened: {status.label.lower()}." if was_resolved else f"Status: {before} → {status.label}."
        # The public page shows the status itself; a change goes on its timeline when it says why, or reopens.
        public = self.is_public and (bool(note.strip()) or was_resolved)
        return self.note(f"{body} {note.strip()}".strip(), by=by, kind=TimelineEntry.Kind.STATUS, is_public=public)

    def change_severity(self, severity, *, by):
        severity = self.Severity(severity)
        if severity == self.severity:
            return None
        before = self.get_severity_display()
        self.severity = severity
        self.save(update_fields=["severity"])
        return self.note(f"Severity: {before} → {severity.label}.", by=by, kind=TimelineEntry.Kind.STATUS)

    def take_lead(self, *, by):
        """`by` leads the incident from now on (the one person others ask)."""
        if self.lead_id == by.pk:
            return None
        self.lead = by
        self.save(update_fields=["lead"])
        return self.note(f"{display_name(by)} is leading the incident.", by=by, kind=TimelineEntry.Kind.STATUS)

    @transaction.atomic
    def add_affected(self, *, by, machines=(), guests=()):
        """More machines or guests are part of it; returns the ones that were not listed already."""
        listed_machines = set(Incident.machines.through.objects.filter(incident=self).values_list("machine", flat=True))
        listed_guests = set(Incident.guests.through.objects.filter(incident=self).values_list("guest", flat=True))
        new_machines = [m for m in machines if m.pk not in listed_machines]
        new_guests = [g for g in guests if g.pk not in listed_guests]
        if not new_machines and not new_guests:
            return []
        self.machines.add(*new_machines)
        self.guests.add(*new_guests)
        names = [m.hostname for m in new_machines] + [f"guest {g.name}" for g in new_guests]
        self.note(f"Affected: added {', '.join(names)}.", by=by, kind=TimelineEntry.Kind.STATUS)
        return [*new_machines, *new_guests]

    def publish(self, *, by, title=None):
        """Put the incident on the public status page, under `title` if given (a person's title)."""
        was = self.title
        if title is not None:
            title = " ".join(title.split())  # one line: it is an email subject too
            if not title:
                raise ValidationError({"title": "Give the incident a title for the public."})
            self.title, self.title_by_switchboard = title[:200], False
        if self.title_by_switchboard:
            raise ValidationError(
                {
                    "title": "Switchboard wrote this title for members and it may name internal hosts: "
                    "write one for the public."
                }
            )
        self.is_public = True
        if not self.public_slug:
            self.public_slug = self.free_public_slug()
        self.save(update_fields=["title", "title_by_switchboard", "is_public", "public_slug"])
        retitled = f" Its title was “{was}”." if was != self.title else ""
        return self.note(
            f"On the public status page as “{self.title}”.{retitled}", by=by, kind=TimelineEntry.Kind.STATUS
        )

    def unpublish(self, *, by):
        if not self.is_public:
            return None
        self.is_public = False
        self.save(update_fields=["is_public"])
        return self.note("Taken off the public status page.", by=by, kind=TimelineEntry.Kind.STATUS)

    def free_public_slug(self):
        """The date and the public title, e.g. 2026-12-02-mail-is-down; a number added if that is taken."""
        from django.utils.text import slugify

        # The date in UTC: the same whoever publishes it, and the date the public page's times start from.
        base = f"{self.started_at.astimezone(UTC):%Y-%m-%d}-{slugify(self.title)[:60]}".strip("-")
        slug, n = base, 1
        while Incident.objects.filter(public_slug=slug).exclude(pk=self.pk).exists():
            n += 1
            slug = f"{base}-{n}"
        return slug

    def get_public_url(self):
        """The public page's address, or "" while it is not public."""
        if not (self.is_public and self.public_slug) or self.title_by_switchboard:
            return ""
        return reverse("public_incident", args=[self.public_slug])

    def add_action_item(self, title, *, by, owner=None, due_on=None):
        """Something still to do; a second tap on "Add" with the same words adds nothing."""
        item = ActionItem(incident=self, title=(title or "").strip(), owner=owner, due_on=due_on)
        item.full_clean()
        if self.action_items.filter(title__iexact=item.title, done_at__isnull=True).exists():
            raise ValidationError({"title": "That is already on the list of what is still to do."})
        item.save()
        self.note(f"Still to do: {item.describe()}.", by=by, kind=TimelineEntry.Kind.ACTION_ITEM)
        return item

    def publish_postmortem(self, text, *, by):
        text = (text or "").strip()
        if not text:
            raise ValidationError({"postmortem": "Write the postmortem before publishing it."})
        if self.is_open:
            raise ValidationError({"postmortem": "Resolve the incident before publishing its postmortem."})
        if not self.is_public:
            raise ValidationError({"postmortem": "Put the incident on the status page first: give it a public title."})
        first = self.postmortem_published_at is None
        self.postmortem, self.postmortem_published_at = text, timezone.now()
        self.save(update_fields=["postmortem", "postmortem_published_at"])
        said = "Postmortem published." if first else "Postmortem updated."
        return self.note(said, by=by, kind=TimelineEntry.Kind.STATUS, is_public=True)


class TimelineEntry(models.Model):
    """One line of an incident's story, or of a machine's or guest's own: a human note or something
    Switchboard saw or did. Something done to a machine with no incident open (a power-cycle, a
    password reveal) is on the machine's timeline only (incidents.policy.record)."""

    class Kind(models.TextChoices):
        NOTE = "note", "Note"
        STATUS = "status", "Status change"
        CHECK_FAILED = "check_failed", "Check failed"
        CHECK_RECOVERED = "check_recovered", "Check recovered"
        ALERT_SENT = "alert_sent", "Alert sent"
        ALERT_FAILED = "alert_failed", "Alert not delivered"
        ALERT_ACKNOWLEDGED = "alert_ack", "Alert acknowledged"
        MAINTENANCE = "maintenance", "Planned maintenance"
        POWER_REQUESTED = "power_requested", "Power action requested"
        POWER_DONE = "power_done", "Power action finished"
        SECRET_REVEALED = "secret_revealed", "Secret revealed"
        BACKUP = "backup", "Backup"
        ACTION_ITEM = "action_item", "Action item"
        OWNERS_TOLD = "owners_told", "Owners told"

        @property
        def colour(self):
            return {
                "check_failed": "red",
                "check_recovered": "green",
                "power_requested": "amber",
                "power_done": "amber",
                "secret_revealed": "amber",
                "alert_failed": "red",
                "alert_ack": "green",
                "maintenance": "blue",
                "owners_told": "blue",
            }.get(self.value, "grey")

    # The audit trail outlives what it is about: deleting an incident, machine or guest keeps its
    # entries (who power-cycled what, who saw a password), no longer linked to it.
    incident = models.ForeignKey(Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="timeline")
    machine = models.ForeignKey(Machine, on_delete=models.SET_NULL, null=True, blank=True, related_name="timeline")
    guest = models.ForeignKey(Guest, on_delete=models.SET_NULL, null=True, blank=True, related_name="timeline")
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
        indexes = [
            models.Index(fields=["incident", "at"]),
            models.Index(fields=["machine", "at"], name="timeline_machine_idx"),
            models.Index(fields=["guest", "at"], name="timeline_guest_idx"),
        ]

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

    def clean(self):
        if not self.title.strip():
            raise ValidationError({"title": "Say what is to be done."})
        started = timezone.localdate(self.incident.started_at) if self.incident_id else None
        if self.due_on and started and self.due_on < started:
            raise ValidationError({"due_on": f"It cannot be due before the incident started ({started})."})

    def describe(self):
        """“title (owner, due 2026-12-09)”, for the timeline."""
        extra = [self.owner.name] if self.owner else []
        if self.due_on:
            extra.append(f"due {self.due_on}")
        return self.title + (f" ({', '.join(extra)})" if extra else "")

    def mark_done(self, when=None, *, by=None):
        """Tick the item off (on the incident's timeline when a person does it)."""
        if self.is_done:
            return
        self.done_at = when or timezone.now()
        self.save(update_fields=["done_at"])
        if by is not None:
            self.incident.note(f"Done: {self.title}.", by=by, kind=TimelineEntry.Kind.ACTION_ITEM)


class MaintenanceWindowQuerySet(models.QuerySet):
    def active(self, at=None):
        """Windows open at `at` (now by default)."""
        at = at or timezone.now()
        return self.filter(starts_at__lte=at, ends_at__gt=at)

    def covering(self, subject, at=None):
        """Windows open at `at` that cover a machine or guest: itself, a guest's host, or the site it is in."""
        if isinstance(subject, Machine):
            named = Q(machine=subject) | Q(site=subject.site_id)
        elif isinstance(subject, Guest):
            host = Machine.objects.filter(pk=subject.machine_id).values("site")
            named = Q(guest=subject) | Q(machine=subject.machine_id) | Q(site__in=host)
        else:
            raise TypeError(f"covering() takes a Machine or a Guest, not {type(subject).__name__}")
        return self.active(at).filter(named).order_by("starts_at", "pk")

    def ended_unchecked(self, at=None):
        """Windows that are over and whose leftovers (things still down) nobody reported yet."""
        return self.filter(ends_at__lte=at or timezone.now(), followed_up_at__isnull=True)

    def to_announce(self, at=None, days=7):
        """What the public status page lists: windows open now or starting within `days`, with a public note."""
        at = at or timezone.now()
        return self.filter(ends_at__gt=at, starts_at__lte=at + timedelta(days=days)).exclude(public_note="")


class MaintenanceWindow(models.Model):
    """Planned work on a machine, a guest or a whole site, from a start to an end.

    Checks still run and record while it is open, but an outage of what it covers opens no
    incident and alerts nobody (incidents.policy.report). If the thing is still down when the
    window closes, the checker reports it then.
    """

    machine = models.ForeignKey(
        Machine, on_delete=models.CASCADE, null=True, blank=True, related_name="maintenance_windows"
    )
    guest = models.ForeignKey(
        Guest, on_delete=models.CASCADE, null=True, blank=True, related_name="maintenance_windows"
    )
    site = models.ForeignKey(
        "coop.Site", on_delete=models.CASCADE, null=True, blank=True, related_name="maintenance_windows"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, help_text="For members, e.g. “replacing the RAID controller”.")
    public_note = models.CharField(
        max_length=300,
        blank=True,
        help_text="Shown on the public status page as planned maintenance; leave empty to keep it private.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    followed_up_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the checker reported what was still down at its end."
    )

    objects = MaintenanceWindowQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=exactly_one_of("machine", "guest", "site"), name="maintenance_one_subject"
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="maintenance_ends_after_start"),
        ]
        indexes = [models.Index(fields=["ends_at", "starts_at"], name="maintenance_open_idx")]

    def __str__(self):
        return f"{self.subject}: {self.reason} ({self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M})"

    @property
    def subject(self):
        return self.machine or self.guest or self.site

    def clean(self):
        errors = {}
        if how_many_set(self, "machine", "guest", "site") != 1:
            errors["__all__"] = "Choose exactly one machine, guest or site the maintenance is for."
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "The maintenance must end after it starts."
        if errors:
            raise ValidationError(errors)

    def is_open(self, at=None):
        at = at or timezone.now()
        return self.starts_at <= at < self.ends_at
