"""The admin for the inventory: machines, guests, addresses, power, backups, runbooks, monitors.

Every changelist runs a fixed number of queries however many rows it shows:
related objects come from list_select_related, counts from annotations.
Secrets are write-only: the forms take a new value, pages show only whether one is set.
"""

from django.contrib import admin
from django.db.models import BooleanField, ExpressionWrapper, Q
from simple_history.admin import SimpleHistoryAdmin

from coop.admin import FORMFIELD_OVERRIDES, change_link
from coop.db import count_of

from .models import (
    BackupCheck,
    BackupTarget,
    DNSName,
    Guest,
    HeartbeatPing,
    HostedService,
    IPAddress,
    Machine,
    Monitor,
    PowerAction,
    PowerController,
    PowerOutlet,
    RestoreDrill,
    Runbook,
    SoftwareVersion,
)


def _secret_is_set(field):
    return ExpressionWrapper(~Q(**{field: ""}), output_field=BooleanField())


# --- Inlines -----------------------------------------------------------------------


class GuestOfMachineInline(admin.TabularInline):
    """The guests on a machine, to read and follow; they are edited on their own page."""

    model = Guest
    fk_name = "machine"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["name", "owner", "lifecycle", "os_name", "os_version"]
    readonly_fields = fields
    verbose_name_plural = "guests on this machine"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner")

    def has_add_permission(self, request, obj=None):
        return False


class IPAddressInline(admin.TabularInline):
    model = IPAddress
    extra = 0
    fields = ["address", "note"]


class DNSNameInline(admin.TabularInline):
    model = DNSName
    extra = 0
    fields = ["name"]


class OutletOfMachineInline(admin.TabularInline):
    model = PowerOutlet
    fk_name = "machine"
    extra = 0
    fields = ["controller", "number", "label"]
    autocomplete_fields = ["controller"]
    verbose_name_plural = "power outlets feeding this machine"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("controller")


class OutletOfControllerInline(admin.TabularInline):
    model = PowerOutlet
    fk_name = "controller"
    extra = 0
    fields = ["number", "machine", "label"]
    autocomplete_fields = ["machine"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("machine")


class HostedServiceInline(admin.TabularInline):
    model = HostedService
    formfield_overrides = FORMFIELD_OVERRIDES
    extra = 0
    fields = ["name", "url", "owner", "is_public"]
    autocomplete_fields = ["owner"]


class SoftwareVersionInline(admin.TabularInline):
    model = SoftwareVersion
    extra = 0
    fields = ["name", "version", "notes"]


# --- Machines and guests --------------------------------------------------------------


@admin.register(Machine)
class MachineAdmin(SimpleHistoryAdmin):
    list_display = [
        "hostname",
        "site",
        "owner",
        "hypervisor",
        "lifecycle",
        "guest_count",
        "monitor",
        "os",
        "patch_policy",
        "reboot_safe",
    ]
    list_select_related = ["site", "owner"]
    list_filter = ["site", "lifecycle", "hypervisor", "patch_policy", "reboot_safe"]
    search_fields = ["hostname", "serial_number", "addresses__address", "dns_names__name", "owner__name"]
    autocomplete_fields = ["site", "owner", "admins"]
    readonly_fields = ["created_at", "updated_at"]
    ordering = ["hostname"]
    inlines = [GuestOfMachineInline, IPAddressInline, DNSNameInline, OutletOfMachineInline]
    fieldsets = [
        (None, {"fields": ["hostname", "site", "rack", "rack_position", "owner", "admins"]}),
        ("Lifecycle", {"fields": ["lifecycle", "decommission_date", "pinned_warning"]}),
        ("Software", {"fields": ["hypervisor", "os_name", "os_version", "patch_policy", "reboot_safe"]}),
        ("Out of band", {"fields": ["management_address", "serial_number"]}),
        ("After a reboot", {"fields": ["startup_steps", "notes"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_monitor_state().annotate(guest_count=count_of(Guest, "machine"))

    @admin.display(description="guests", ordering="guest_count")
    def guest_count(self, machine):
        return machine.guest_count

    @admin.display(description="uptime")
    def monitor(self, machine):
        return Monitor.State(machine.monitor_state).label

    @admin.display(description="OS", ordering="os_name")
    def os(self, machine):
        return " ".join(part for part in (machine.os_name, machine.os_version) if part)


@admin.register(Guest)
class GuestAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "machine",
        "site",
        "owner",
        "lifecycle",
        "monitor",
        "os",
        "vcpus",
        "memory_mb",
        "service_count",
    ]
    list_select_related = ["machine__site", "owner"]
    list_filter = ["lifecycle", "machine__site", "machine__hypervisor"]
    search_fields = [
        "name",
        "machine__hostname",
        "owner__name",
        "addresses__address",
        "dns_names__name",
        "services__name",
    ]
    autocomplete_fields = ["machine", "owner", "contacts"]
    readonly_fields = ["created_at", "updated_at"]
    ordering = ["name"]
    inlines = [IPAddressInline, DNSNameInline, HostedServiceInline, SoftwareVersionInline]
    fieldsets = [
        (None, {"fields": ["name", "machine", "owner", "contacts", "lifecycle", "pinned_warning"]}),
        ("Software", {"fields": ["os_name", "os_version"]}),
        ("Size", {"fields": ["vcpus", "memory_mb", "disk_gb"]}),
        ("After a reboot", {"fields": ["startup_steps", "notes"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).with_monitor_state().annotate(service_count=count_of(HostedService, "guest"))
        )

    @admin.display(description="site", ordering="machine__site__name")
    def site(self, guest):
        return guest.machine.site

    @admin.display(description="OS", ordering="os_name")
    def os(self, guest):
        return " ".join(part for part in (guest.os_name, guest.os_version) if part)

    @admin.display(description="services", ordering="service_count")
    def service_count(self, guest):
        return guest.service_count

    @admin.display(description="uptime")
    def monitor(self, guest):
        return Monitor.State(guest.monitor_state).label


# --- Where they answer and what they run ----------------------------------------------


class AttachedToMachineOrGuestAdmin(SimpleHistoryAdmin):
    """Shared columns for rows that belong to exactly one machine or one guest."""

    list_select_related = ["machine", "guest"]
    autocomplete_fields = ["machine", "guest"]

    @admin.display(description="machine or guest")
    def subject(self, obj):
        return change_link(obj.guest or obj.machine)


@admin.register(IPAddress)
class IPAddressAdmin(AttachedToMachineOrGuestAdmin):
    list_display = ["address", "subject", "note"]
    search_fields = ["address", "note", "machine__hostname", "guest__name"]
    ordering = ["address"]


@admin.register(DNSName)
class DNSNameAdmin(AttachedToMachineOrGuestAdmin):
    list_display = ["name", "subject"]
    search_fields = ["name", "machine__hostname", "guest__name"]
    ordering = ["name"]


@admin.register(HostedService)
class HostedServiceAdmin(SimpleHistoryAdmin):
    formfield_overrides = FORMFIELD_OVERRIDES
    list_display = ["name", "url", "guest", "owner", "is_public"]
    list_select_related = ["guest", "owner"]
    list_filter = ["is_public"]
    search_fields = ["name", "url", "guest__name", "owner__name"]
    autocomplete_fields = ["guest", "owner"]
    ordering = ["name"]


@admin.register(SoftwareVersion)
class SoftwareVersionAdmin(SimpleHistoryAdmin):
    list_display = ["name", "version", "guest", "notes"]
    list_select_related = ["guest"]
    search_fields = ["name", "version", "guest__name"]
    autocomplete_fields = ["guest"]
    ordering = ["name", "version"]


# --- Power --------------------------------------------------------------------------------


@admin.register(PowerController)
class PowerControllerAdmin(SimpleHistoryAdmin):
    formfield_overrides = FORMFIELD_OVERRIDES
    list_display = ["name", "site", "driver", "host", "username", "secret_set", "outlet_count"]
    list_select_related = ["site"]
    list_filter = ["site", "driver"]
    search_fields = ["name", "host"]
    autocomplete_fields = ["site"]
    readonly_fields = ["secret_set"]
    ordering = ["site__name", "name"]
    inlines = [OutletOfControllerInline]
    fieldsets = [
        (None, {"fields": ["name", "site", "driver", "notes"]}),
        ("Connection", {"fields": ["host", "port", "snmp_version", "verify_tls", "timeout", "cooldown"]}),
        ("Credentials", {"fields": ["username", "secret_set", "secret"]}),
    ]

    def get_queryset(self, request):
        # Pages never need the clear secret, only whether there is one; deferring it also
        # keeps a lost encryption key from breaking the list.
        return (
            super()
            .get_queryset(request)
            .defer("secret")
            .annotate(secret_is_set=_secret_is_set("secret"), outlet_count=count_of(PowerOutlet, "controller"))
        )

    @admin.display(description="secret set", boolean=True)
    def secret_set(self, controller):
        return getattr(controller, "secret_is_set", False)

    @admin.display(description="outlets", ordering="outlet_count")
    def outlet_count(self, controller):
        return controller.outlet_count


@admin.register(PowerOutlet)
class PowerOutletAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "controller", "number", "machine", "label"]
    list_select_related = ["controller", "machine"]
    list_filter = ["controller__site"]
    search_fields = ["controller__name", "machine__hostname", "label"]
    autocomplete_fields = ["controller", "machine"]
    ordering = ["controller__name", "number"]


@admin.register(PowerAction)
class PowerActionAdmin(admin.ModelAdmin):
    """The audit trail of power actions: read-only, since a row is what keeps an action from running twice."""

    list_display = ["requested_at", "operation", "outlet", "machine", "state", "requested_by", "finished_at"]
    list_select_related = ["outlet__controller", "machine", "requested_by"]
    list_filter = ["state", "operation", "controller__site"]
    search_fields = ["machine__hostname", "controller__name", "reason"]
    date_hierarchy = "requested_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # The audit trail of who cycled what: nobody deletes it, not even an admin.
        return False


# --- Backups, runbooks, monitors ------------------------------------------------------------


@admin.register(BackupTarget)
class BackupTargetAdmin(SimpleHistoryAdmin):
    formfield_overrides = FORMFIELD_OVERRIDES
    list_display = [
        "name",
        "kind",
        "subject",
        "state",
        "last_checked_at",
        "expected_interval",
        "encryption_required",
        "secret_set",
        "last_exercised_at",
    ]
    list_select_related = ["machine", "guest"]
    list_filter = ["kind", "state", "encryption_required"]
    search_fields = ["name", "bucket", "prefix", "machine__hostname", "guest__name"]
    autocomplete_fields = ["machine", "guest"]
    readonly_fields = ["heartbeat_id", "state", "state_since", "state_message", "last_checked_at", "secret_set"]
    ordering = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "machine", "guest", "notes"]}),
        (
            "Expectations",
            {"fields": ["expected_interval", "grace", "encryption_required", "min_size_bytes", "drill_every_days"]},
        ),
        (
            "S3",
            {
                "fields": [
                    "endpoint_url",
                    "region",
                    "bucket",
                    "prefix",
                    "access_key_id",
                    "secret_set",
                    "secret_access_key",
                ]
            },
        ),
        ("Heartbeat", {"fields": ["heartbeat_id"]}),
        (
            "Latest result",
            {"fields": ["state", "state_since", "state_message", "last_checked_at", "last_exercised_at"]},
        ),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .defer("secret_access_key")
            .annotate(secret_is_set=_secret_is_set("secret_access_key"))
        )

    @admin.display(description="protects")
    def subject(self, target):
        return change_link(target.subject)

    @admin.display(description="secret key set", boolean=True)
    def secret_set(self, target):
        return getattr(target, "secret_is_set", False)


@admin.register(BackupCheck)
class BackupCheckAdmin(admin.ModelAdmin):
    autocomplete_fields = ["target"]
    list_display = ["target", "checked_at", "state", "message", "size_bytes", "encryption", "duration"]
    list_select_related = ["target"]
    list_filter = ["state"]
    search_fields = ["target__name", "newest_key", "message"]
    date_hierarchy = "checked_at"


@admin.register(HeartbeatPing)
class HeartbeatPingAdmin(admin.ModelAdmin):
    autocomplete_fields = ["target"]
    list_display = ["target", "kind", "received_at", "remote_addr", "run_time", "body_truncated"]
    list_select_related = ["target"]
    list_filter = ["kind"]
    search_fields = ["target__name", "body"]
    date_hierarchy = "received_at"


@admin.register(RestoreDrill)
class RestoreDrillAdmin(admin.ModelAdmin):
    list_display = ["target", "started_at", "what", "onto", "duration", "succeeded", "performed_by"]
    list_select_related = ["target", "performed_by"]
    list_filter = ["succeeded"]
    search_fields = ["target__name", "what", "from_backup", "onto", "notes"]
    autocomplete_fields = ["target", "performed_by"]

    def save_model(self, request, obj, form, change):
        # As from the drills page: a good drill moves the target's last-exercised date.
        obj.record()


@admin.register(Runbook)
class RunbookAdmin(SimpleHistoryAdmin):
    list_display = ["title", "subject", "last_exercised_at", "last_exercised_by", "updated_at"]
    list_select_related = ["machine", "guest", "site", "last_exercised_by"]
    list_filter = ["site", ("last_exercised_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "body", "machine__hostname", "guest__name", "site__name"]
    autocomplete_fields = ["machine", "guest", "site"]
    readonly_fields = ["last_exercised_by", "updated_at"]
    date_hierarchy = "updated_at"
    ordering = ["title"]
    fieldsets = [
        (None, {"fields": ["title", "machine", "guest", "site", "body"]}),
        ("Exercised", {"fields": ["last_exercised_at", "last_exercised_note", "last_exercised_by", "updated_at"]}),
    ]

    @admin.display(description="for")
    def subject(self, runbook):
        return change_link(runbook.subject)


@admin.register(Monitor)
class MonitorAdmin(admin.ModelAdmin):
    list_display = ["__str__", "subject", "kind", "state", "is_enabled", "interval", "last_checked_at"]
    list_select_related = ["machine", "guest"]
    list_filter = ["state", "kind", "is_enabled"]
    search_fields = ["target", "machine__hostname", "guest__name"]
    autocomplete_fields = ["machine", "guest"]
    readonly_fields = ["state", "last_checked_at", "state_changed_at"]
    ordering = ["target"]
    fieldsets = [
        (None, {"fields": ["machine", "guest", "kind", "target", "port", "is_enabled"]}),
        ("Timing", {"fields": ["interval", "timeout"]}),
        ("Latest result", {"fields": ["state", "last_checked_at", "state_changed_at"]}),
    ]

    @admin.display(description="watches")
    def subject(self, monitor):
        return change_link(monitor.subject)
