"""The inventory: physical machines, the guests they run, where they answer,
how they are watched, and how to rebuild them."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator, validate_ipv46_address
from django.db import models
from django.db.models import Case, Exists, OuterRef, Subquery, Value, When
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from coop.models import Contract, Organization, Person, Site
from core.fields import HostnameField
from core.validators import validate_hostname


class Lifecycle(models.TextChoices):
    """Where a machine or guest is in its life; shared so every badge agrees."""

    PLANNED = "planned", "Planned"
    ACTIVE = "active", "In service"
    DECOMMISSIONING = "decommissioning", "Being decommissioned"
    DECOMMISSIONED = "decommissioned", "Decommissioned"

    @property
    def colour(self):
        return {"planned": "blue", "active": "green", "decommissioning": "amber", "decommissioned": "grey"}[self.value]


class MonitoredQuerySet(models.QuerySet):
    """Machines or guests, able to carry their monitors' verdict without a query per row."""

    def with_monitor_state(self):
        """Annotate `monitor_verdict` (read by `monitor_state`) in the same query."""
        # One scalar subquery, not two EXISTS: PostgreSQL turns an EXISTS into a hashed SubPlan
        # that reads every enabled monitor of the co-op even when a page shows 25 rows, while a
        # scalar subquery runs for the rows shown only, through the index on the monitor's subject.
        monitors = Monitor.objects.filter(
            is_enabled=True,
            state__in=[Monitor.State.DOWN, Monitor.State.UP],
            **{self.model._meta.model_name: OuterRef("pk")},
        )
        down_first = Case(When(state=Monitor.State.DOWN, then=Value(0)), default=Value(1))
        return self.annotate(monitor_verdict=Subquery(monitors.order_by(down_first).values("state")[:1]))

    def down(self):
        """The machines or guests an enabled monitor reports down."""
        down = Monitor.objects.filter(
            is_enabled=True, state=Monitor.State.DOWN, **{self.model._meta.model_name: OuterRef("pk")}
        )
        return self.filter(Exists(down))


def _monitor_verdict(subject):
    """Down if any enabled monitor says down, up if one says up, else unknown."""
    if hasattr(subject, "monitor_verdict"):
        return Monitor.State(subject.monitor_verdict or Monitor.State.UNKNOWN)
    states = {monitor.state for monitor in subject.monitors.all() if monitor.is_enabled}
    down, up = Monitor.State.DOWN in states, Monitor.State.UP in states
    if down:
        return Monitor.State.DOWN
    return Monitor.State.UP if up else Monitor.State.UNKNOWN


def _is_host_or_address(target):
    try:
        validate_ipv46_address(target)
    except ValidationError:
        try:
            validate_hostname(target)
        except ValidationError:
            return False
    return True


def how_many_set(instance, *relations):
    """How many of the named relations are set, counting a parent not saved yet (admin inlines)."""
    return sum(getattr(instance, name) is not None for name in relations)


def exactly_one_of(*fields):
    """A Q that holds when exactly one of the given nullable foreign keys is set."""
    condition = models.Q()
    for chosen in fields:
        term = models.Q(**{f"{chosen}__isnull": False})
        for other in fields:
            if other != chosen:
                term &= models.Q(**{f"{other}__isnull": True})
        condition |= term
    return condition


class Machine(models.Model):
    """A physical server in a rack: the unit that dies, gets power-cycled and has an outage page."""

    class Hypervisor(models.TextChoices):
        NONE = "none", "None (bare metal)"
        XEN = "xen", "Xen"
        KVM = "kvm", "KVM / libvirt"
        PROXMOX = "proxmox", "Proxmox VE"
        VIRTUOZZO = "virtuozzo", "Virtuozzo"
        OPENVZ = "openvz", "OpenVZ"
        LXC = "lxc", "LXC / Incus"
        HYPERV = "hyperv", "Hyper-V"
        VMWARE = "vmware", "VMware ESXi"
        OTHER = "other", "Other"

    class PatchPolicy(models.TextChoices):
        AUTOMATIC = "automatic", "Automatic updates with reboot"
        SECURITY = "security", "Automatic security updates, manual reboot"
        MANUAL = "manual", "Manual, by a volunteer"
        NONE = "none", "Not patched"

    hostname = HostnameField(unique=True, help_text="Fully qualified, e.g. xen1.harbor.example.org")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="machines")
    rack = models.CharField(max_length=50, blank=True)
    rack_position = models.CharField(max_length=20, blank=True, help_text="Rack units, e.g. U12–U13")
    owner = models.ForeignKey(Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="machines")
    admins = models.ManyToManyField(
        Person, blank=True, related_name="administered_machines", help_text="Who knows how this machine is built."
    )
    hypervisor = models.CharField(max_length=20, choices=Hypervisor.choices, default=Hypervisor.NONE)
    os_name = models.CharField("OS", max_length=100, blank=True)
    os_version = models.CharField("OS version", max_length=50, blank=True)
    patch_policy = models.CharField(max_length=20, choices=PatchPolicy.choices, default=PatchPolicy.MANUAL)
    reboot_safe = models.BooleanField(
        default=False, help_text="Everything on it comes back by itself after a reboot (tested)."
    )
    startup_steps = models.TextField(blank=True, help_text="What to do by hand after it boots, in order (Markdown).")
    management_address = models.GenericIPAddressField(
        null=True, blank=True, help_text="Out-of-band address (BMC / IPMI / serial console server)."
    )
    serial_number = models.CharField(max_length=100, blank=True)
    lifecycle = models.CharField(max_length=20, choices=Lifecycle.choices, default=Lifecycle.ACTIVE)
    decommission_date = models.DateField(null=True, blank=True)
    pinned_warning = models.TextField(
        blank=True, help_text="“Read this first”: shown at the top of the machine's page in warning colours."
    )
    contracts = models.ManyToManyField(
        Contract, blank=True, related_name="machines", help_text="The hosting or colo contracts it depends on."
    )
    notes = models.TextField(blank=True, help_text="Private to members.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(m2m_fields=[admins, contracts])

    objects = MonitoredQuerySet.as_manager()

    class Meta:
        ordering = ["hostname"]
        # Search looks machines up by their out-of-band address too.
        indexes = [models.Index(fields=["management_address"], name="machine_mgmt_address_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(lifecycle__in=["decommissioning", "decommissioned"])
                | models.Q(decommission_date__isnull=False),
                name="machine_decommission_has_date",
            ),
        ]

    def __str__(self):
        return self.hostname

    def get_absolute_url(self):
        return reverse("machine_detail", args=[self.hostname])

    def clean(self):
        if self.lifecycle in (Lifecycle.DECOMMISSIONING, Lifecycle.DECOMMISSIONED) and not self.decommission_date:
            raise ValidationError({"decommission_date": "Give the decommission date for a machine leaving service."})

    @property
    def is_hypervisor(self):
        return self.hypervisor != self.Hypervisor.NONE

    @property
    def monitor_state(self):
        """The machine's uptime verdict (a Monitor.State) for badges and the dashboard."""
        return _monitor_verdict(self)


class Guest(models.Model):
    """A VPS, VM or container on a machine: the thing an owner's site runs on."""

    name = HostnameField(unique=True, help_text="Its hostname, e.g. wiki.example.org")
    machine = models.ForeignKey(
        Machine, on_delete=models.PROTECT, related_name="guests", help_text="The host it runs on."
    )
    owner = models.ForeignKey(Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="guests")
    contacts = models.ManyToManyField(
        Person, blank=True, related_name="guests", help_text="Who to tell when it is down, and who runs it."
    )
    os_name = models.CharField("OS", max_length=100, blank=True)
    os_version = models.CharField("OS version", max_length=50, blank=True)
    vcpus = models.PositiveSmallIntegerField(null=True, blank=True)
    memory_mb = models.PositiveIntegerField("memory (MB)", null=True, blank=True)
    disk_gb = models.PositiveIntegerField("disk (GB)", null=True, blank=True)
    startup_steps = models.TextField(blank=True, help_text="What to do by hand after it boots, in order (Markdown).")
    lifecycle = models.CharField(max_length=20, choices=Lifecycle.choices, default=Lifecycle.ACTIVE)
    pinned_warning = models.TextField(blank=True, help_text="“Read this first”, shown at the top of its page.")
    notes = models.TextField(blank=True, help_text="Private to members.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(m2m_fields=[contacts])

    objects = MonitoredQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("guest_detail", args=[self.name])

    @property
    def monitor_state(self):
        """The guest's own uptime verdict (a Monitor.State); its host may still be down."""
        return _monitor_verdict(self)


class IPAddress(models.Model):
    """An address a machine or guest answers on. One owner per address."""

    address = models.GenericIPAddressField(unique=True)
    machine = models.ForeignKey(Machine, on_delete=models.CASCADE, null=True, blank=True, related_name="addresses")
    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, null=True, blank=True, related_name="addresses")
    note = models.CharField(max_length=100, blank=True, help_text="e.g. public, backend, IPMI")

    history = HistoricalRecords()

    class Meta:
        ordering = ["address"]
        verbose_name = "IP address"
        verbose_name_plural = "IP addresses"
        constraints = [
            models.CheckConstraint(condition=exactly_one_of("machine", "guest"), name="ipaddress_one_owner"),
        ]

    def __str__(self):
        return self.address

    def clean(self):
        if how_many_set(self, "machine", "guest") != 1:
            raise ValidationError("An IP address belongs to exactly one machine or one guest.")


class DNSName(models.Model):
    """A DNS name pointing at a machine or guest."""

    name = HostnameField(unique=True)
    machine = models.ForeignKey(Machine, on_delete=models.CASCADE, null=True, blank=True, related_name="dns_names")
    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, null=True, blank=True, related_name="dns_names")

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = "DNS name"
        constraints = [
            models.CheckConstraint(condition=exactly_one_of("machine", "guest"), name="dnsname_one_owner"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if how_many_set(self, "machine", "guest") != 1:
            raise ValidationError("A DNS name points at exactly one machine or one guest.")


class HostedServiceQuerySet(models.QuerySet):
    def with_monitor_state(self):
        """Annotate the guest's and its host's verdicts (read by `monitor_state`) in the same query."""
        enabled = Monitor.objects.filter(is_enabled=True)
        return self.annotate(
            guest_down=Exists(enabled.filter(guest=OuterRef("guest"), state=Monitor.State.DOWN)),
            guest_up=Exists(enabled.filter(guest=OuterRef("guest"), state=Monitor.State.UP)),
            machine_down=Exists(enabled.filter(machine=OuterRef("guest__machine"), state=Monitor.State.DOWN)),
        )


class HostedService(models.Model):
    """A site or service a guest serves: what its owner and the public notice when it is down."""

    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="services")
    name = models.CharField(max_length=150)
    url = models.URLField(blank=True)
    owner = models.ForeignKey(
        Organization,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="services",
        help_text="Leave empty when it is the guest's owner.",
    )
    is_public = models.BooleanField(default=False, help_text="Listed on the public status page.")

    history = HistoricalRecords()

    objects = HostedServiceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["guest", "name"], name="hostedservice_unique_per_guest"),
        ]
        indexes = [models.Index(fields=["is_public", "name"], name="hostedservice_public_idx")]

    def __str__(self):
        return self.name

    @property
    def monitor_state(self):
        """Up or down as its users see it: down when its guest or the guest's host is down."""
        if hasattr(self, "guest_down"):
            down, up = self.guest_down or self.machine_down, self.guest_up
        else:
            guest_state = self.guest.monitor_state
            down = Monitor.State.DOWN in (guest_state, self.guest.machine.monitor_state)
            up = guest_state == Monitor.State.UP
        if down:
            return Monitor.State.DOWN
        return Monitor.State.UP if up else Monitor.State.UNKNOWN


class SoftwareVersion(models.Model):
    """A version a restore depends on (PostgreSQL 8.3, duplicity 0.6): write it down before you need it."""

    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, related_name="software")
    name = models.CharField(max_length=100)
    version = models.CharField(max_length=50)
    notes = models.CharField(max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["guest", "name"], name="softwareversion_unique_per_guest"),
        ]

    def __str__(self):
        return f"{self.name} {self.version}"


class Runbook(models.Model):
    """Markdown instructions attached to a machine, guest or site. Every edit is kept."""

    title = models.CharField(max_length=200)
    machine = models.ForeignKey(Machine, on_delete=models.CASCADE, null=True, blank=True, related_name="runbooks")
    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, null=True, blank=True, related_name="runbooks")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, null=True, blank=True, related_name="runbooks")
    body = models.TextField(help_text="Markdown. Steps someone who never touched this machine can follow.")
    last_exercised_at = models.DateTimeField(null=True, blank=True)
    last_exercised_note = models.CharField(max_length=300, blank=True)
    last_exercised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    # Each historical row is a version: who, when and the full text.
    history = HistoricalRecords()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(condition=exactly_one_of("machine", "guest", "site"), name="runbook_one_subject"),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        if how_many_set(self, "machine", "guest", "site") != 1:
            raise ValidationError("Attach the runbook to exactly one machine, guest or site.")

    @property
    def subject(self):
        return self.machine or self.guest or self.site

    def save_version(self, *, by, reason=""):
        """Save the current text as a new version credited to `by` (the versions page lists them)."""
        self._history_user = by
        self._change_reason = reason[:100]  # django-simple-history's column is 100 characters
        self.save()

    def mark_exercised(self, *, by, note, when=None):
        """Record that `by` followed this runbook for real or in a drill; kept as a version too."""
        self.last_exercised_at = when or timezone.now()
        self.last_exercised_note = note
        self.last_exercised_by = by
        self.save_version(by=by, reason=f"Exercised: {note}")


class Monitor(models.Model):
    """An uptime check of a machine or guest: what to check, how often, and when to call it down.

    The checker (the monitors app) runs it and moves `state`; its routine bookkeeping (last
    checked, latency, consecutive results) lives there, so a check that changes nothing writes
    nothing here.
    """

    class Kind(models.TextChoices):
        PING = "ping", "Ping"
        TCP = "tcp", "TCP port"
        HTTP = "http", "HTTP(S) URL"
        DNS = "dns", "DNS name resolves"

    class State(models.TextChoices):
        UNKNOWN = "unknown", "Unknown"
        UP = "up", "Up"
        DOWN = "down", "Down"

        @property
        def colour(self):
            return {"unknown": "grey", "up": "green", "down": "red"}[self.value]

    machine = models.ForeignKey(Machine, on_delete=models.CASCADE, null=True, blank=True, related_name="monitors")
    guest = models.ForeignKey(Guest, on_delete=models.CASCADE, null=True, blank=True, related_name="monitors")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    target = models.CharField(max_length=500, help_text="Host or IP for ping/TCP, full URL for HTTP.")
    port = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    interval = models.DurationField(default=timedelta(minutes=1))
    timeout = models.DurationField(default=timedelta(seconds=5))
    down_after = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1)], help_text="Down after this many failed checks in a row."
    )
    up_after = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1)], help_text="Up again after this many good checks in a row."
    )
    expected_status = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="HTTP: the status that means up; empty for any 2xx or 3xx."
    )
    keyword = models.CharField(max_length=200, blank=True, help_text="HTTP: the page must contain this text.")
    follow_redirects = models.BooleanField(default=True, help_text="HTTP: follow redirects to the final page.")
    tls_warn_days = models.PositiveSmallIntegerField(
        default=14, help_text="HTTPS: warn when the certificate expires within this many days."
    )
    expected_addresses = models.CharField(
        max_length=500, blank=True, help_text="DNS: addresses the name must resolve to, separated by spaces."
    )
    is_enabled = models.BooleanField(default=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.UNKNOWN)
    state_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["target"]
        constraints = [
            models.CheckConstraint(condition=exactly_one_of("machine", "guest"), name="monitor_one_subject"),
            models.CheckConstraint(
                condition=~models.Q(kind="tcp") | models.Q(port__isnull=False), name="monitor_tcp_has_port"
            ),
        ]
        indexes = [models.Index(fields=["is_enabled", "state"])]

    def __str__(self):
        if self.kind == self.Kind.TCP:
            return f"TCP {self.target}:{self.port}"
        return f"{self.get_kind_display()} {self.target}"

    def clean(self):
        errors = {}
        if how_many_set(self, "machine", "guest") != 1:
            errors["guest"] = "A monitor watches exactly one machine or one guest."
        if self.kind == self.Kind.TCP and not self.port:
            errors["port"] = "A TCP check needs a port."
        if self.kind == self.Kind.HTTP:
            try:
                URLValidator(schemes=["http", "https"])(self.target)
            except ValidationError:
                errors["target"] = "An HTTP check needs a full URL starting with http:// or https://."
        if self.kind in (self.Kind.PING, self.Kind.TCP) and self.target and not _is_host_or_address(self.target):
            errors["target"] = (
                f"“{self.target}” is not a host name or an IP address (e.g. xen1.colo.example.org or 192.0.2.10)."
            )
        if self.interval is not None and self.interval < timedelta(seconds=10):
            errors["interval"] = "Check at most every 10 seconds."
        if self.timeout is not None and self.interval is not None and self.timeout >= self.interval:
            errors["timeout"] = "The timeout must be shorter than the interval."
        if self.kind == self.Kind.DNS:
            try:
                validate_hostname(self.target.rstrip(".").lower())
            except ValidationError:
                errors["target"] = "A DNS check needs a DNS name, e.g. wiki.example.org."
        for address in self.expected_addresses.split():
            try:
                validate_ipv46_address(address)
            except ValidationError:
                errors["expected_addresses"] = f"“{address}” is not an IP address."
        if errors:
            raise ValidationError(errors)

    @property
    def subject(self):
        return self.guest or self.machine
