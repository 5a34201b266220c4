"""The admin for backups: targets (the S3 secret write-only), their checks and pings, restore drills."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from core.admin_site import FORMFIELD_OVERRIDES, change_link, secret_is_set

from .models import BackupCheck, BackupTarget, HeartbeatPing, RestoreDrill


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
            .annotate(secret_is_set=secret_is_set("secret_access_key"))
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
