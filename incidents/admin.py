"""The admin for incidents: what broke, the timeline of what happened, and what is left to do."""

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.utils import timezone

from core.db import count_of

from .models import ActionItem, Incident, MaintenanceWindow, TimelineEntry


class IncidentForm(forms.ModelForm):
    class Meta:
        model = Incident
        fields = [
            "title",
            "cause",
            "severity",
            "status",
            "is_public",
            "summary",
            "machines",
            "guests",
            "started_at",
            "resolved_at",
        ]

    def clean(self):
        cleaned = super().clean()
        incident = self.instance
        reopened = cleaned.get("status") not in (None, Incident.Status.RESOLVED)
        if reopened and incident.pk and incident.cause_key:
            newer = (
                Incident.objects.filter(cause=incident.cause, cause_key=incident.cause_key)
                .exclude(status=Incident.Status.RESOLVED)
                .exclude(pk=incident.pk)
                .first()
            )
            if newer is not None:
                raise forms.ValidationError(
                    f"Switchboard has opened a newer incident for the same thing: #{newer.pk} “{newer.title}”. "
                    "Work on that one, or resolve it before reopening this one."
                )
        if "title" in self.changed_data:
            # A person's title replaces Switchboard's: the incident may now be made public.
            self.instance.title_by_switchboard = False
        return cleaned


class TimelineEntryInline(admin.TabularInline):
    model = TimelineEntry
    extra = 1
    fields = ["at", "kind", "body", "is_public", "author"]
    readonly_fields = ["author"]
    formfield_overrides = {
        # The default Textarea makes every entry a tall box; a timeline reads better as lines.
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 60})},
    }

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")

    # The timeline is the audit trail (power actions, password reveals): new notes may be
    # added here, but what is written stays as it was.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ActionItemInline(admin.TabularInline):
    model = ActionItem
    extra = 1
    fields = ["title", "owner", "due_on", "done_at"]
    autocomplete_fields = ["owner"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner")


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    form = IncidentForm
    list_display = [
        "title",
        "severity",
        "status",
        "is_public",
        "started_at",
        "resolved_at",
        "machine_count",
        "open_action_items",
    ]
    list_filter = ["status", "severity", "cause", "is_public"]
    search_fields = ["title", "summary", "machines__hostname", "guests__name"]
    autocomplete_fields = ["machines", "guests"]
    readonly_fields = ["created_by", "title_by_switchboard", "cause_key"]
    date_hierarchy = "started_at"
    ordering = ["-started_at"]
    inlines = [TimelineEntryInline, ActionItemInline]
    actions = ["resolve"]
    fieldsets = [
        (None, {"fields": ["title", "title_by_switchboard", "severity", "status", "is_public", "summary"]}),
        ("Cause", {"fields": ["cause", "cause_key"]}),
        ("Affected", {"fields": ["machines", "guests"]}),
        ("Time", {"fields": ["started_at", "resolved_at", "created_by"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                machine_count=count_of(Incident.machines.through, "incident"),
                open_items=count_of(ActionItem, "incident", done_at__isnull=True),
            )
        )

    @admin.display(description="machines", ordering="machine_count")
    def machine_count(self, incident):
        return incident.machine_count

    @admin.display(description="open action items", ordering="open_items")
    def open_action_items(self, incident):
        return incident.open_items

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if change and "status" in form.changed_data:
            # The timeline tells the story, whichever page the status was changed on.
            obj.note(
                f"Status set to {obj.get_status_display()} in the admin.",
                by=request.user,
                kind=TimelineEntry.Kind.STATUS,
            )

    def save_formset(self, request, form, formset, change):
        for entry in formset.save(commit=False):
            if isinstance(entry, TimelineEntry) and entry.author_id is None and entry._state.adding:
                entry.author = request.user
            entry.save()
        for gone in formset.deleted_objects:
            gone.delete()
        formset.save_m2m()

    @admin.action(description="Resolve selected incidents now", permissions=["change"])
    def resolve(self, request, queryset):
        open_incidents = [incident for incident in queryset if incident.is_open]
        for incident in open_incidents:
            incident.resolve(by=request.user)
        skipped = len(queryset) - len(open_incidents)
        message = f"Resolved {len(open_incidents)} incident(s)."
        if skipped:
            message += f" {skipped} already resolved, left as they were."
        self.message_user(request, message, messages.SUCCESS)


@admin.register(TimelineEntry)
class TimelineEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "incident", "machine", "guest", "kind", "short_body", "author", "is_public"]
    list_select_related = ["incident", "machine", "guest", "author"]
    list_filter = ["kind", "is_public"]
    search_fields = ["body", "incident__title", "machine__hostname", "guest__name"]
    autocomplete_fields = ["incident", "machine", "guest"]
    readonly_fields = ["author"]
    date_hierarchy = "at"
    ordering = ["-at"]
    # A million entries: counting them all on every page view is not worth it.
    show_full_result_count = False

    @admin.display(description="entry")
    def short_body(self, entry):
        return entry.body if len(entry.body) <= 80 else entry.body[:79] + "…"

    def save_model(self, request, obj, form, change):
        if not change and obj.author_id is None:
            obj.author = request.user
        super().save_model(request, obj, form, change)

    # The audit trail: add notes, never rewrite or delete what happened.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DoneFilter(admin.SimpleListFilter):
    title = "done"
    parameter_name = "done"

    def lookups(self, request, model_admin):
        return [("no", "Still to do"), ("yes", "Done")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(done_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(done_at__isnull=False)
        return queryset


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ["title", "incident", "owner", "due_on", "is_done", "done_at"]
    list_select_related = ["incident", "owner"]
    list_filter = [DoneFilter, "due_on"]
    search_fields = ["title", "incident__title", "owner__name"]
    autocomplete_fields = ["incident", "owner"]
    ordering = ["done_at", "due_on", "pk"]
    actions = ["mark_done"]

    @admin.display(description="done", boolean=True, ordering="done_at")
    def is_done(self, item):
        return item.is_done

    @admin.action(description="Mark selected action items done", permissions=["change"])
    def mark_done(self, request, queryset):
        now = timezone.now()
        items = [item for item in queryset if not item.is_done]
        for item in items:
            item.mark_done(when=now)
        self.message_user(request, f"Marked {len(items)} action item(s) done.", messages.SUCCESS)


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = ["reason", "subject", "starts_at", "ends_at", "is_open_now", "on_status_page"]
    list_select_related = ["machine", "guest", "site"]
    search_fields = ["reason", "public_note", "machine__hostname", "guest__name", "site__name"]
    autocomplete_fields = ["machine", "guest", "site"]
    fields = ["machine", "guest", "site", "starts_at", "ends_at", "reason", "public_note"]
    date_hierarchy = "starts_at"

    @admin.display(description="open now", boolean=True)
    def is_open_now(self, window):
        return window.is_open()

    @admin.display(description="on the status page", boolean=True)
    def on_status_page(self, window):
        return bool(window.public_note)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
