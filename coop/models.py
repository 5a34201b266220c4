"""The co-op directory: sites, organisations, people, how to reach them, who can
get into which building, and the contracts that keep the lights on."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords
from timezone_field import TimeZoneField

from .validators import validate_contact_value


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
    notes = models.TextField(blank=True, help_text="Private to members.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("admin:coop_person_change", args=[self.pk])

    def local_time(self, now=None):
        """The time it is for this person now (for "is it the middle of the night?")."""
        return (now or timezone.now()).astimezone(self.timezone)

    def is_reachable(self):
        """True when at least one of their contact methods was verified recently."""
        return any(not method.is_stale() for method in self.contact_methods.all())


class ContactMethod(models.Model):
    """One way to reach a person, and when somebody last confirmed it works."""

    class Kind(models.TextChoices):
        PHONE = "phone", "Phone"
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"
        MATRIX = "matrix", "Matrix"
        SIGNAL = "signal", "Signal"
        OTHER = "other", "Other"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="contact_methods")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=200, help_text="The number, address or handle.")
    priority = models.PositiveSmallIntegerField(default=1, help_text="1 is tried first.")
    verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When someone last confirmed this reaches the person."
    )
    notes = models.CharField(max_length=200, blank=True, help_text="e.g. work hours only; landline")

    history = HistoricalRecords()

    class Meta:
        ordering = ["person", "priority", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["person", "kind", "value"], name="contactmethod_unique_per_person"),
            models.CheckConstraint(condition=~models.Q(value=""), name="contactmethod_value_not_empty"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.value}"

    def clean(self):
        if self.kind and self.value:
            try:
                validate_contact_value(self.kind, self.value)
            except ValidationError as error:
                raise ValidationError({"value": error.messages}) from None

    def is_stale(self, now=None):
        """True when nobody has confirmed this method within the allowed age."""
        if self.verified_at is None:
            return True
        max_age = timedelta(days=settings.CONTACT_VERIFICATION_MAX_AGE_DAYS)
        return (now or timezone.now()) - self.verified_at > max_age

    def mark_verified(self, when=None):
        """Record that this method reached the person just now (or at `when`)."""
        self.verified_at = when or timezone.now()
        self.save(update_fields=["verified_at"])

    def dial_link(self):
        """A tap-to-act link for phones: tel:, sms:, mailto:, or None."""
        scheme = {"phone": "tel", "sms": "sms", "signal": "sms", "email": "mailto"}.get(self.kind)
        if scheme is None:
            return None
        target = self.value if self.kind == "email" else "".join(ch for ch in self.value if ch.isdigit() or ch == "+")
        return f"{scheme}:{target}"


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


class Contract(models.Model):
    """A hosting, transit or colo contract: when it ends, who pays, what it covers."""

    provider = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="contracts_provided")
    paid_by = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="contracts_paid"
    )
    site = models.ForeignKey(Site, on_delete=models.SET_NULL, null=True, blank=True, related_name="contracts")
    machines = models.ManyToManyField("hosts.Machine", blank=True, related_name="contracts")
    covers = models.CharField(max_length=300, help_text="What it pays for, e.g. half rack, 1 Gbit/s transit.")
    reference = models.CharField(max_length=100, blank=True, help_text="The provider's contract or account number.")
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True, help_text="Leave empty for rolling contracts.")
    notice_days = models.PositiveIntegerField(default=30, help_text="Days of notice needed to cancel or renew.")
    monthly_cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    notes = models.TextField(blank=True)

    history = HistoricalRecords(m2m_fields=[machines])

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
