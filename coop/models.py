"""The co-op directory: sites, organisations, people, how to reach them, who can
get into which building, and the contracts that keep the lights on."""

import functools
import secrets
import zoneinfo
from datetime import UTC, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import models, transaction
from django.db.models import BooleanField, Case, CharField, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords
from timezone_field import TimeZoneField

from core.access import MEMBERS, OPERATORS
from core.fields import EncryptedSecretField, KeepsSecrets
from core.validators import validate_alert_url, validate_contact_value


class Site(models.Model):
    """A colo facility or office where the co-op's machines live."""

    class Lifecycle(models.TextChoices):
        ACTIVE = "active", "Active"
        DECOMMISSIONING = "decommissioning", "Being decommissioned"
        CLOSED = "closed", "Closed"

        @property
        def colour(self):
            return {"active": "green", "decommissioning": "amber", "closed": "grey"}[self.value]

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True, help_text="Used in the site's address: /sites/<slug>/")
    address = models.TextField(blank=True, help_text="Street address, as you would give it to a taxi.")
    access_procedure = models.TextField(
        blank=True,
        help_text="How to get in: who to call first, badge desk, escort rules, where the keys are.",
    )
    hours = models.CharField(max_length=200, blank=True, help_text="e.g. 24/7 with badge; staffed 9–17 weekdays")
    timezone = TimeZoneField(default="UTC")
    lifecycle = models.CharField(max_length=20, choices=Lifecycle.choices, default=Lifecycle.ACTIVE)
    decommission_date = models.DateField(null=True, blank=True)
    pinned_warning = models.TextField(blank=True, help_text="Shown at the top of the site's page, in warning colours.")
    notes = models.TextField(blank=True, help_text="Private to members.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.lifecycle == self.Lifecycle.DECOMMISSIONING and not self.decommission_date:
            raise ValidationError({"decommission_date": "Give the date the site is being decommissioned."})


class Organization(models.Model):
    """An owner or tenant: a project, a member organisation, a sponsor, a provider."""

    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=150, unique=True)
    website = models.URLField(blank=True)
    email = models.EmailField(blank=True, help_text="Where to tell this organisation about outages.")
    is_member = models.BooleanField(default=True, help_text="A member of the co-op (rather than a provider).")
    notes = models.TextField(blank=True, help_text="Private to members.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="organization_name_unique_ci"),
        ]

    def __str__(self):
        return self.name


class PersonQuerySet(models.QuerySet):
    def to_call(self):
        """People with their organisation and contact methods, ready for tap-to-call lists (one extra query)."""
        return self.select_related("organization").prefetch_related("contact_methods")

    def needing_verification(self, now=None):
        """People with a contact method nobody confirmed lately, or with no way to reach them at all."""
        methods = ContactMethod.objects.filter(person=OuterRef("pk"))
        return self.filter(Exists(methods.stale(now)) | ~Exists(methods))


class Person(models.Model):
    """A volunteer or an owner's contact: someone you may need to reach at 3 a.m."""

    name = models.CharField(max_length=150)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="person",
        help_text="Their Switchboard login, if they have one.",
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="people"
    )
    is_volunteer = models.BooleanField(default=False, help_text="Helps run the co-op's machines.")
    timezone = TimeZoneField(default="UTC", help_text="So callers know whether it is 3 a.m. for them.")
    unreachable_reason = models.CharField(
        max_length=200,
        blank=True,
        help_text="Fill in when a call will not reach them: away, moved on, not answering for months "
        "(e.g. “travelling until 12 June, no phone”). Lists of who to call put them last and show this. "
        "Empty it when they are back.",
    )
    unreachable_until = models.DateField(
        null=True,
        blank=True,
        help_text="The day they are back, if known: after it the note above no longer counts.",
    )
    notes = models.TextField(blank=True, help_text="Private to members.")

    history = HistoricalRecords()

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"
        # Lists of people read the first few by name: walk the index instead of sorting everyone.
        indexes = [models.Index(fields=["name"], name="person_name_idx")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("person_detail", args=[self.pk])

    def clean(self):
        if self.unreachable_until and not self.unreachable_reason:
            raise ValidationError({"unreachable_reason": "Say why they cannot be reached, as callers will read it."})

    def local_time(self, now=None):
        """The time it is for this person now (for "is it the middle of the night?")."""
        return (now or timezone.now()).astimezone(self.timezone)

    def is_marked_unreachable(self, today=None):
        """True when their record says a call will not reach them (unreachable_reason, until unreachable_until)."""
        if not self.unreachable_reason:
            return False
        return self.unreachable_until is None or self.unreachable_until >= (today or timezone.localdate())

    def is_reachable(self):
        """True when they are not marked unreachable and one of their contact methods was verified recently."""
        return not self.is_marked_unreachable() and any(not method.is_stale() for method in self.contact_methods.all())


def marked_unreachable(today, prefix=""):
    """A Q for people marked unreachable on `today` (Person.is_marked_unreachable), through `prefix` ("person__")."""
    return ~Q(**{f"{prefix}unreachable_reason": ""}) & (
        Q(**{f"{prefix}unreachable_until__isnull": True}) | Q(**{f"{prefix}unreachable_until__gte": today})
    )


# Local hours in which calling someone is not a 3 a.m. call: who-to-call lists prefer them.
CALLING_HOURS = (8, 22)


def zones_in_calling_hours(now=None):
    """The names of the time zones in which it is now within CALLING_HOURS (for SQL: timezone__in)."""
    now = (now or timezone.now()).astimezone(UTC)
    # Every zone's offset is a whole number of quarter hours: one answer per quarter hour.
    return _zones_in_calling_hours(now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0))


@functools.lru_cache(maxsize=4)
def _zones_in_calling_hours(quarter_hour):
    start, end = CALLING_HOURS
    zones = zoneinfo.available_timezones()
    return tuple(sorted(name for name in zones if start <= quarter_hour.astimezone(zoneinfo.ZoneInfo(name)).hour < end))


class ContactMethodQuerySet(models.QuerySet):
    def stale(self, now=None):
        """Contact methods nobody confirmed within CONTACT_VERIFICATION_MAX_AGE_DAYS."""
        cutoff = (now or timezone.now()) - timedelta(days=settings.CONTACT_VERIFICATION_MAX_AGE_DAYS)
        return self.filter(Q(verified_at__isnull=True) | Q(verified_at__lt=cutoff))

    def due_for_confirmation(self, now=None):
        """Stale methods Switchboard can send to (an email address, an alert URL) and has not asked lately.

        "Lately" is CONTACT_VERIFICATION_ASK_EVERY_DAYS, less an hour so that a daily run a little
        early still counts. Read by coop.verification, which asks them whether they still reach the person.
        """
        now = now or timezone.now()
        asked_before = now - timedelta(days=settings.CONTACT_VERIFICATION_ASK_EVERY_DAYS) + timedelta(hours=1)
        return (
            self.stale(now)
            .filter(Q(kind=ContactMethod.Kind.EMAIL) | ~Q(alert_url=""))
            .filter(Q(verification_requested_at__isnull=True) | Q(verification_requested_at__lte=asked_before))
        )


class ContactMethod(KeepsSecrets, models.Model):
    """One way to reach a person, and when somebody last confirmed it works."""

    class Kind(models.TextChoices):
        PHONE = "phone", "Phone"
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"
        MATRIX = "matrix", "Matrix"
        SIGNAL = "signal", "Signal"
        OTHER = "other", "Other"

    # The kinds a page's Call, Text and Email buttons reach (dial_link): confirming one of these
    # is what puts someone early on a list of who to call (SiteAccess.objects.roster).
    TAP_TO_REACH = (Kind.PHONE, Kind.SMS, Kind.SIGNAL, Kind.EMAIL)

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="contact_methods")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=200, help_text="The number, address or handle.")
    priority = models.PositiveSmallIntegerField(default=1, help_text="1 is tried first.")
    verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When someone last confirmed this reaches the person."
    )
    notes = models.CharField(max_length=200, blank=True, help_text="e.g. work hours only; landline")
    gets_alerts = models.BooleanField(
        default=True, help_text="Switchboard alerts them here when they are on call (email, or an alert URL below)."
    )
    alert_url = EncryptedSecretField(
        help_text="How Switchboard sends alerts here if not by email: an apprise URL such as "
        "ntfys://ntfy.example.org/your-topic (free push to a phone), matrixs://…, signal://…, tgram://…, "
        "json://… for a webhook. Stored encrypted; never shown again."
    )

    verification_requested_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When Switchboard last sent a link asking whether this still reaches the person "
        "(coop.verification); empty once confirmed.",
    )

    # When it was last asked is bookkeeping, not a change of the contact: no history row for it.
    history = HistoricalRecords(excluded_fields=["alert_url", "verification_requested_at"])

    objects = ContactMethodQuerySet.as_manager()

    class Meta:
        ordering = ["person", "priority", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["person", "kind", "value"], name="contactmethod_unique_per_person"),
            models.CheckConstraint(condition=~models.Q(value=""), name="contactmethod_value_not_empty"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.value}"

    def clean(self):
        errors = {}
        if self.kind and self.value:
            try:
                validate_contact_value(self.kind, self.value)
            except ValidationError as error:
                errors["value"] = error.messages
        # A few minutes' leeway for a clock that runs a little ahead of the server's.
        if self.verified_at and self.verified_at > timezone.now() + timedelta(minutes=5):
            errors["verified_at"] = "A confirmation date cannot be in the future: check the year."
        if self._meta.get_field("alert_url").is_readable(self) and self.alert_url:
            try:
                validate_alert_url(self.alert_url)
            except ValidationError as error:
                errors["alert_url"] = error.messages
        if errors:
            raise ValidationError(errors)

    @property
    def can_alert(self):
        """True when Switchboard can send an alert here: an email address, or an alert URL."""
        # Asked for every contact method on a page or an escalation step: tells without decrypting.
        return self.gets_alerts and (self.kind == self.Kind.EMAIL or self._meta.get_field("alert_url").is_set(self))

    def is_stale(self, now=None):
        """True when nobody has confirmed this method within the allowed age."""
        if self.verified_at is None:
            return True
        max_age = timedelta(days=settings.CONTACT_VERIFICATION_MAX_AGE_DAYS)
        return (now or timezone.now()) - self.verified_at > max_age

    def mark_verified(self, when=None):
        """Record that this method reached the person just now (or at `when`); any confirm link sent is used up."""
        self.verified_at = when or timezone.now()
        self.verification_requested_at = None
        self.save(update_fields=["verified_at", "verification_requested_at"])

    def claim_confirmation_request(self, now=None):
        """Record that Switchboard asks now whether this still works; False if not due (another run asked)."""
        now = now or timezone.now()
        # Whole seconds: the confirm link carries this time and finds the request by it.
        asked_at = now.replace(microsecond=0)
        # Conditional UPDATE: of two runs of the daily task, exactly one sends the message.
        claimed = (
            ContactMethod.objects.due_for_confirmation(now)
            .filter(pk=self.pk)
            .update(verification_requested_at=asked_at)
        )
        if claimed:
            self.verification_requested_at = asked_at
        return bool(claimed)

    def release_confirmation_request(self, now=None):
        """A claim whose message did not go out: due again at tomorrow's run, behind the methods never asked.

        Not back to "never asked": a channel that always fails would then head every day's batch and
        keep everyone behind it from being asked.
        """
        now = now or timezone.now()
        retry = now - timedelta(days=settings.CONTACT_VERIFICATION_ASK_EVERY_DAYS) + timedelta(days=1)
        ContactMethod.objects.filter(pk=self.pk, verification_requested_at=self.verification_requested_at).update(
            verification_requested_at=retry
        )
        self.verification_requested_at = retry

    def confirm_by_link(self, asked_at, now=None):
        """Mark verified from the confirm link sent at `asked_at` (the confirm page); False if used or superseded."""
        with transaction.atomic():
            # Conditional UPDATE: of two taps on one link, one confirms; the other finds it used.
            used = ContactMethod.objects.filter(
                pk=self.pk, value=self.value, verification_requested_at=asked_at
            ).update(verification_requested_at=None)
            if not used:
                return False
            self.mark_verified(now)
        return True

    def dial_link(self):
        """A tap-to-act link for phones: tel:, sms:, mailto:, or None."""
        scheme = {"phone": "tel", "sms": "sms", "signal": "sms", "email": "mailto"}.get(self.kind)
        if scheme is None:
            return None
        target = self.value if self.kind == "email" else "".join(ch for ch in self.value if ch.isdigit() or ch == "+")
        return f"{scheme}:{target}"


class SiteAccessQuerySet(models.QuerySet):
    def roster(self, site, today=None, now=None):
        """Who can get into `site`, the one most likely to answer and get in first (pages' who to call, alerts).

        The machine, guest and site pages show the first row on their first screen, with Call and Text:

        1. People marked unreachable or away (Person.unreachable_reason) come last, whatever their
           access: their own record says a call will not reach them.
        2. Then by access: those who let themselves in (own badge or a key, alike), then the facility's
           remote hands, then escort-only volunteers. Remote hands are the building's staff: they
           answer around the clock and can press a button or read a console, but bring no tools and
           let no volunteer in; an escort-only volunteer cannot get in at all without one of the others.
        3. Within each, someone with a phone, SMS, Signal or email contact confirmed within
           CONTACT_VERIFICATION_MAX_AGE_DAYS before someone whose numbers nobody confirmed lately;
        4. then people for whom it is CALLING_HOURS in their own time zone before those for whom it
           is night; then by name.

        Expired access is left out. Each row carries `unreachable` (bool) and `unreachable_reason`
        ("" unless unreachable) for the page to flag it, and `contact_verified` and `calling_hours`
        (bools) saying why it is where it is. One query, and one more for the contact methods.
        """
        now = now or timezone.now()
        today = today or timezone.localdate(now)
        kinds = SiteAccess.Kind
        order = [(kinds.BADGE, 0), (kinds.KEY, 0), (kinds.REMOTE_HANDS, 1), (kinds.ESCORT_ONLY, 2)]
        access_rank = Case(*[When(kind=kind, then=Value(rank)) for kind, rank in order], output_field=IntegerField())
        away = marked_unreachable(today, prefix="person__")
        daytime = Q(person__timezone__in=zones_in_calling_hours(now))
        cutoff = now - timedelta(days=settings.CONTACT_VERIFICATION_MAX_AGE_DAYS)
        confirmed = ContactMethod.objects.filter(
            person=OuterRef("person_id"), kind__in=ContactMethod.TAP_TO_REACH, verified_at__gte=cutoff
        )
        return (
            self.filter(site=site)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
            .annotate(
                unreachable=Case(When(away, then=True), default=False, output_field=BooleanField()),
                unreachable_reason=Case(
                    When(away, then=F("person__unreachable_reason")), default=Value(""), output_field=CharField()
                ),
                access_rank=access_rank,
                contact_verified=Exists(confirmed),
                calling_hours=Case(When(daytime, then=True), default=False, output_field=BooleanField()),
            )
            .order_by("unreachable", "access_rank", "-contact_verified", "-calling_hours", "person__name", "pk")
            .select_related("person__organization")
            .prefetch_related("person__contact_methods")
        )


def first_to_call(grants, viewer):
    """The first of `grants` (a roster, best first) who is not `viewer`: nobody needs a button to call themselves.

    The viewer's own grant only when it is the only one. Read by the outage pages' first screen.
    """
    grants = list(grants)
    others = [grant for grant in grants if grant.person.user_id is None or grant.person.user_id != viewer.pk]
    return (others or grants or [None])[0]


class SiteAccess(models.Model):
    """Who can physically get into a site, and how."""

    class Kind(models.TextChoices):
        BADGE = "badge", "Own badge"
        KEY = "key", "Holds a key"
        ESCORT_ONLY = "escort", "Only with an escort"
        REMOTE_HANDS = "remote_hands", "Facility remote hands"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="site_access")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="access")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.BADGE)
    valid_until = models.DateField(null=True, blank=True, help_text="When the badge or arrangement expires.")
    notes = models.CharField(max_length=300, blank=True, help_text="e.g. lives 10 minutes away; weekends only")

    history = HistoricalRecords()

    objects = SiteAccessQuerySet.as_manager()

    class Meta:
        ordering = ["site", "person"]
        verbose_name_plural = "site access"
        constraints = [
            models.UniqueConstraint(fields=["person", "site"], name="siteaccess_one_per_person_and_site"),
        ]

    def __str__(self):
        return f"{self.person} → {self.site} ({self.get_kind_display()})"

    def is_current(self, today=None):
        """True unless the arrangement has an expiry date that has passed."""
        return self.valid_until is None or self.valid_until >= (today or timezone.localdate())


# Contracts that ended over three months ago are history, not a warning: without this bound
# they would fill the dashboard's first rows and push current ones off it.
ENDED_CONTRACTS_SHOWN_DAYS = 90


class ContractQuerySet(models.QuerySet):
    def ending_soon(self, today=None):
        """Contracts inside their warning window (Contract.is_ending_soon), soonest first: a list."""
        today = today or timezone.localdate()
        # Narrow in SQL to what can possibly be ending soon, then let the model decide.
        candidates = self.filter(ends_on__gte=today - timedelta(days=ENDED_CONTRACTS_SHOWN_DAYS)).filter(
            Q(ends_on__lte=today + timedelta(days=settings.CONTRACT_WARNING_DAYS))
            | Q(notice_days__gt=settings.CONTRACT_WARNING_DAYS)
        )
        candidates = candidates.select_related("provider", "site").order_by("ends_on")[:200]
        return [contract for contract in candidates if contract.is_ending_soon(today)]


class Contract(models.Model):
    """A hosting, transit or colo contract: when it ends, who pays, what it covers."""

    provider = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="contracts_provided")
    paid_by = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="contracts_paid"
    )
    site = models.ForeignKey(Site, on_delete=models.SET_NULL, null=True, blank=True, related_name="contracts")
    covers = models.CharField(max_length=300, help_text="What it pays for, e.g. half rack, 1 Gbit/s transit.")
    reference = models.CharField(max_length=100, blank=True, help_text="The provider's contract or account number.")
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True, help_text="Leave empty for rolling contracts.")
    notice_days = models.PositiveIntegerField(default=30, help_text="Days of notice needed to cancel or renew.")
    monthly_cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    notes = models.TextField(blank=True)

    # Which machines it covers is kept on the machine (Machine.contracts): the directory knows no machines.
    history = HistoricalRecords()

    objects = ContractQuerySet.as_manager()

    class Meta:
        ordering = ["ends_on", "provider__name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(starts_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="contract_ends_after_it_starts",
            ),
        ]

    def __str__(self):
        return f"{self.provider}: {self.covers}"

    def clean(self):
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "A contract cannot end before it starts."})

    def days_left(self, today=None):
        """Days until the contract ends (negative once it has), or None if rolling."""
        if self.ends_on is None:
            return None
        return (self.ends_on - (today or timezone.localdate())).days

    def is_ending_soon(self, today=None):
        """True when the end date falls within the warning window (or has passed)."""
        days = self.days_left(today)
        return days is not None and days <= max(settings.CONTRACT_WARNING_DAYS, self.notice_days)


def _new_invitation_token():
    return secrets.token_urlsafe(32)


def _invitation_expiry():
    return timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS)


class Invitation(models.Model):
    """An admin's invitation for one email address to sign up with a role; the only way in."""

    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        OPERATOR = "operator", "Operator"

        @property
        def group_name(self):
            return {"member": MEMBERS, "operator": OPERATORS}[self.value]

    class State(models.TextChoices):
        OPEN = "open", "Waiting for sign-up"
        ACCEPTED = "accepted", "Accepted"
        EXPIRED = "expired", "Expired"

        @property
        def colour(self):
            return {"open": "blue", "accepted": "green", "expired": "grey"}[self.value]

    class NotValid(Exception):
        """Raised by accept() when the invitation was used or expired meanwhile."""

    email = models.EmailField(help_text="Where the link goes. The new account logs in with this address.")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    person = models.ForeignKey(
        Person,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
        help_text="Their entry in the directory, if they have one. Left empty, one is made at sign-up.",
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    token = models.CharField(max_length=64, unique=True, default=_new_invitation_token, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(
        default=_invitation_expiry, help_text="The link stops working then. Sending it again restarts the clock."
    )
    sent_at = models.DateTimeField(null=True, blank=True, editable=False, help_text="When the link was last emailed.")
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="accepted_invitations",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} as {self.get_role_display().lower()}"

    def clean(self):
        if (
            self.person_id
            and self.person.user_id
            and (self.person.user.email or "").lower() != (self.email or "").lower()
        ):
            raise ValidationError({"person": "This person already has a login with another address."})

    def link(self):
        """The absolute URL of the invitation link, as emailed (built from SITE_URL)."""
        return settings.SITE_URL + reverse("invitation", args=[self.token])

    def state(self, now=None):
        """Open, accepted or expired."""
        if self.accepted_at is not None:
            return self.State.ACCEPTED
        if self.expires_at <= (now or timezone.now()):
            return self.State.EXPIRED
        return self.State.OPEN

    def is_valid(self, now=None):
        """True while the link can still be used to sign up: not accepted and not expired."""
        return self.state(now) == self.State.OPEN

    def send(self, now=None):
        """Email the link to the invited address and restart its validity period; used by the admin."""
        if self.accepted_at is not None:
            raise self.NotValid(f"The invitation for {self.email} was already accepted.")
        now = now or timezone.now()
        expires_at = now + timedelta(days=settings.INVITATION_VALID_DAYS)
        context = {"invitation": self, "link": self.link(), "expires_at": expires_at, "site_url": settings.SITE_URL}
        send_mail(
            subject=render_to_string("invitations/email_subject.txt", context).strip(),
            message=render_to_string("invitations/email.txt", context),
            from_email=None,
            recipient_list=[self.email],
        )
        # Saved only once the mail went out, so the row never claims a send that failed.
        self.expires_at, self.sent_at = expires_at, now
        self.save(update_fields=["expires_at", "sent_at"])

    @transaction.atomic
    def accept(self, user, name=""):
        """Mark the invitation used by `user`, add them to the role's group and link their Person; at sign-up."""
        now = timezone.now()
        # Conditional UPDATE: of two sign-ups racing on one link, exactly one wins.
        claimed = Invitation.objects.filter(pk=self.pk, accepted_at__isnull=True, expires_at__gt=now).update(
            accepted_at=now, accepted_by=user
        )
        if not claimed:
            raise self.NotValid(f"The invitation for {self.email} was already used or has expired.")
        self.accepted_at, self.accepted_by = now, user
        group, _ = Group.objects.get_or_create(name=self.Role(self.role).group_name)
        user.groups.add(group)
        self._link_person(user, name, now)

    def _link_person(self, user, name, now):
        person = Person.objects.filter(user=user).first()
        if person is None and self.person_id and self.person.user_id is None:
            person = self.person
        if person is None:
            # A directory entry made before they had a login, found by its email address.
            matches = list(
                Person.objects.filter(
                    user__isnull=True,
                    contact_methods__kind=ContactMethod.Kind.EMAIL,
                    contact_methods__value__iexact=self.email,
                ).distinct()[:2]
            )
            person = matches[0] if len(matches) == 1 else None
        if person is None:
            person = Person.objects.create(
                name=name or user.get_full_name() or self.email.split("@")[0],
                is_volunteer=self.role == self.Role.OPERATOR,
            )
        if person.user_id is None:
            person.user = user
            person.save(update_fields=["user"])
        # The invitation reached them there: that is a verified email contact.
        method = person.contact_methods.filter(kind=ContactMethod.Kind.EMAIL, value__iexact=self.email).first()
        if method is None:
            method = ContactMethod(person=person, kind=ContactMethod.Kind.EMAIL, value=self.email.lower(), priority=1)
        method.verified_at = now
        method.save()
