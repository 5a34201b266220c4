"""The admin for owner notices: every message sent to an owner, read-only (a record, like the
timeline), and the subscriptions to every public update, which an admin may add or remove."""

from django.contrib import admin

from core.admin_site import change_link

from .models import OwnerNotice, OwnerSubscription


@admin.register(OwnerNotice)
class OwnerNoticeAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted here: who was told what, and whether it reached them."""

    list_display = ["created_at", "purpose", "organization", "shown_as", "status", "attempts", "sent_at"]
    list_filter = ["status", "purpose", "channel"]
    list_select_related = ["organization", "person"]
    search_fields = ["organization__name", "address", "last_error"]
    fields = [
        "incident_link",
        "purpose",
        "organization",
        "person",
        "shown_as",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    ]
    readonly_fields = fields

    @admin.display(description="incident")
    def incident_link(self, notice):
        return change_link(notice.incident)

    @admin.display(description="sent to")
    def shown_as(self, notice):
        return notice.shown_as

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OwnerSubscription)
class OwnerSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["address", "organization", "created_at"]
    list_select_related = ["organization"]
    search_fields = ["address", "organization__name"]
    autocomplete_fields = ["organization"]
