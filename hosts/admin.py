"""The admin for the inventory: machines, guests, addresses, services, runbooks, monitors.

Every changelist runs a fixed number of queries however many rows it shows:
related objects come from list_select_related, counts from annotations.
Secrets are write-only: the forms take a new value, pages show only whether one is set.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from core.admin_site import FORMFIELD_OVERRIDES, change_link
from core.db import count_of

from .models import DNSName, Guest, HostedService, IPAddress, Machine, Monitor, Runbook, SoftwareVersion

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
    autocomplete_fields = ["site", "owner", "admins", "contracts"]
    readonly_fields = ["created_at", "updated_at"]
    ordering = ["hostname"]
    inlines = [GuestOfMachineInline, IPAddressInline, DNSNameInline]
    fieldsets = [
        (None, {"fields": ["hostname", "site", "rack", "rack_position", "owner", "admins", "contracts"]}),
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


# --- Runbooks, monitors ------------------------------------------------------------------


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
    list_display = ["__str__", "subject", "kind", "state", "is_enabled", "interval", "state_changed_at"]
    list_select_related = ["machine", "guest"]
    list_filter = ["state", "kind", "is_enabled"]
    search_fields = ["target", "machine__hostname", "guest__name"]
    autocomplete_fields = ["machine", "guest"]
    readonly_fields = ["state", "state_changed_at"]
    ordering = ["target"]
    fieldsets = [
        (None, {"fields": ["machine", "guest", "kind", "target", "port", "is_enabled"]}),
        ("Timing", {"fields": ["interval", "timeout", "down_after", "up_after"]}),
        (
            "HTTP and DNS",
            {"fields": ["expected_status", "keyword", "follow_redirects", "tls_warn_days", "expected_addresses"]},
        ),
        ("Latest result", {"fields": ["state", "state_changed_at"]}),
    ]

    @admin.display(description="watches")
    def subject(self, monitor):
        return change_link(monitor.subject)
