"""The admin for on-call: rotas (with their members and overrides), escalation policies (with their
steps), and the alerts Switchboard sent, read-only."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from core.admin_site import change_link

from .models import (
    Alert,
    CalendarFeed,
    EscalationPolicy,
    EscalationStep,
    Notification,
    Rota,
    RotaMember,
    RotaOverride,
    check_steps,
)


def _kept(formset):
    """The inline forms that will be saved (filled in, not marked for deletion)."""
    return [
        form.cleaned_data
        for form in formset.forms
        if getattr(form, "cleaned_data", None) and not form.cleaned_data.get("DELETE")
    ]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted here: a record (who was alerted, who answered), or a part
    edited only on its whole (a rota's members, a policy's steps), where bad input is refused."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RotaMemberFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if not any(self.errors) and not _kept(self):
            raise ValidationError("A rota needs at least one person: add who takes the shifts, in order.")


class RotaMemberInline(admin.TabularInline):
    model = RotaMember
    formset = RotaMemberFormSet
    extra = 1
    fields = ["position", "person"]
    autocomplete_fields = ["person"]


class RotaOverrideInline(admin.TabularInline):
    model = RotaOverride
    extra = 0
    fields = ["person", "starts_at", "ends_at", "reason"]
    autocomplete_fields = ["person"]


@admin.register(Rota)
class RotaAdmin(admin.ModelAdmin):
    list_display = ["name", "on_call_now", "shift_length", "handoff_time", "timezone"]
    search_fields = ["name"]
    fields = ["name", "starts_on", "handoff_time", "shift_length", "timezone", "calendar_url"]
    readonly_fields = ["calendar_url"]
    inlines = [RotaMemberInline, RotaOverrideInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("members__person", "overrides__person")

    @admin.display(description="on call now")
    def on_call_now(self, rota):
        return rota.on_call() or "nobody"

    @admin.display(description="calendar feed (secret address)")
    def calendar_url(self, rota):
        if not rota.pk:
            return "Shown once the rota is saved."
        url = settings.SITE_URL + reverse("oncall_calendar", args=[rota.calendar_token])
        return format_html('<a href="{}">{}</a>', url, url)


class EscalationStepFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        steps = [(f.get("notify"), f.get("rota"), f.get("person"), f.get("wait_minutes")) for f in _kept(self)]
        repeat = self.instance.repeat if self.instance.repeat is not None else 0
        check_steps(steps, repeat)


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    formset = EscalationStepFormSet
    extra = 1
    fields = ["position", "notify", "rota", "person", "wait_minutes"]
    autocomplete_fields = ["rota", "person"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default", "repeat"]
    search_fields = ["name"]
    filter_horizontal = ["sites"]
    inlines = [EscalationStepInline]


class NotificationInline(admin.TabularInline):
    model = Notification
    extra = 0
    can_delete = False
    fields = ["created_at", "purpose", "person", "channel", "status", "attempts", "last_error", "sent_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["incident", "status", "started_at", "acknowledged_by", "acknowledged_at"]
    list_filter = ["status"]
    list_select_related = ["incident", "acknowledged_by"]
    fields = [
        "incident_link",
        "policy",
        "status",
        "step",
        "round",
        "next_step_at",
        "acknowledged_by",
        "acknowledged_at",
    ]
    readonly_fields = fields
    inlines = [NotificationInline]

    @admin.display(description="incident")
    def incident_link(self, alert):
        return change_link(alert.incident)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["person", "calendar_url"]
    fields = ["person", "calendar_url"]
    readonly_fields = ["calendar_url"]
    autocomplete_fields = ["person"]

    @admin.display(description="calendar feed (secret address)")
    def calendar_url(self, feed):
        if not feed.pk:
            return "Shown once saved."
        return settings.SITE_URL + reverse("oncall_calendar", args=[feed.token])


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Every message Switchboard sent or tried to send: read-only, like the timeline."""

    list_display = ["created_at", "purpose", "person", "channel", "status", "attempts", "sent_at"]
    list_filter = ["status", "purpose", "channel"]
    list_select_related = ["person"]
    search_fields = ["person__name", "channel", "last_error"]
    readonly_fields = [f for f in NotificationInline.fields] + ["alert"]
    fields = ["alert", *NotificationInline.fields]


@admin.register(RotaMember)
class RotaMemberAdmin(ReadOnlyAdmin):
    """Read-only: members are edited on their rota, where a rota left empty is refused."""

    list_display = ["person", "rota", "position"]
    list_select_related = ["person", "rota"]
    search_fields = ["person__name", "rota__name"]
    autocomplete_fields = ["person", "rota"]


@admin.register(RotaOverride)
class RotaOverrideAdmin(admin.ModelAdmin):
    list_display = ["person", "rota", "starts_at", "ends_at", "reason"]
    list_select_related = ["person", "rota"]
    search_fields = ["person__name", "rota__name", "reason"]
    autocomplete_fields = ["person", "rota"]


@admin.register(EscalationStep)
class EscalationStepAdmin(ReadOnlyAdmin):
    """Read-only: steps are edited on their policy, where a tight loop is refused."""

    list_display = ["policy", "position", "notify", "rota", "person", "wait_minutes"]
    list_select_related = ["policy", "rota", "person"]
    autocomplete_fields = ["rota", "person"]
