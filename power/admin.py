"""The admin for power control: controllers (credentials write-only), outlets, and the
read-only audit trail of power actions. The machine's admin page lists its outlets too."""

from django.contrib import admin
from django.db.models import Prefetch
from simple_history.admin import SimpleHistoryAdmin

from core.admin_site import FORMFIELD_OVERRIDES, secret_is_set
from core.db import count_of
from hosts.admin import MachineAdmin

from .models import PowerAction, PowerController, PowerOutlet, PowerStep


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
            .annotate(secret_is_set=secret_is_set("secret"), outlet_count=count_of(PowerOutlet, "controller"))
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


class PowerStepInline(admin.TabularInline):
    """The outlets a whole-machine action switched, in order: read-only like the action."""

    model = PowerStep
    extra = 0
    can_delete = False
    fields = ["position", "operation", "outlet", "outcome", "command_sent_at", "state_before", "state_after", "error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("outlet__controller")


@admin.register(PowerAction)
class PowerActionAdmin(admin.ModelAdmin):
    """The audit trail of power actions: read-only, since a row is what keeps an action from running twice."""

    list_display = ["requested_at", "operation", "target", "machine", "state", "requested_by", "finished_at"]
    list_select_related = ["outlet__controller", "machine", "requested_by"]
    list_filter = ["state", "operation", "scope", "controller__site"]
    search_fields = ["machine__hostname", "controller__name", "steps__outlet__controller__name", "reason"]
    date_hierarchy = "requested_at"
    inlines = [PowerStepInline]

    def get_queryset(self, request):
        steps = PowerStep.objects.select_related("outlet__controller").order_by("position")
        return super().get_queryset(request).prefetch_related(Prefetch("steps", queryset=steps))

    @admin.display(description="outlet")
    def target(self, action):
        return action.target

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # The audit trail of who cycled what: nobody deletes it, not even an admin.
        return False


# The inventory knows nothing of power: its machine page gets the outlets inline from here.
MachineAdmin.inlines = [*MachineAdmin.inlines, OutletOfMachineInline]
