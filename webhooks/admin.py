"""The admin for webhooks: endpoints (their secret shown once, a test button, a rotate button) and the
delivery log, read-only (a record of what was sent, like the timeline). Superusers only: an endpoint
decides where the co-op's news goes.

A new or rotated secret is shown on the page that answers the POST, and nowhere else: not in a
message (those sit in the session), not in the log, never again on the endpoint's page.
"""

import json
from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core.admin_site import FORMFIELD_OVERRIDES, change_link
from core.db import count_of

from . import events
from .models import EventType, WebhookDelivery, WebhookEndpoint, validate_http_url

LOG_ROWS = 20


class SuperusersOnly:
    """Where the co-op's news goes is for superusers to decide, whatever permissions a staff account holds."""

    def has_module_permission(self, request):
        return _superuser(request)

    def has_view_permission(self, request, obj=None):
        return _superuser(request)

    def has_add_permission(self, request):
        return _superuser(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return _superuser(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _superuser(request) and super().has_delete_permission(request, obj)


def _superuser(request):
    return request.user.is_active and request.user.is_superuser


class HttpURLField(forms.URLField):
    # http and https only, saying so (the stock field would let ftp:// through, or say "Enter a valid URL.").
    default_validators = [validate_http_url]


class WebhookEndpointForm(forms.ModelForm):
    # Declared for assume_scheme (a URL typed without one is https, as elsewhere in the admin).
    url = HttpURLField(
        label="URL", max_length=500, assume_scheme="https", help_text="Where the POSTs go (http or https)."
    )
    events = forms.MultipleChoiceField(
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=EventType.values,
        help_text="The event types it gets.",
        error_messages={"required": "Choose at least one event, or switch the endpoint off instead."},
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "events", "is_active"]
        error_messages = {"name": {"required": "Give the endpoint a name (what it is, e.g. “Ops chat”)."}}


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(SuperusersOnly, admin.ModelAdmin):
    form = WebhookEndpointForm
    formfield_overrides = FORMFIELD_OVERRIDES
    list_display = ["name", "host", "is_active", "event_count", "delivered", "failed", "log_link"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    readonly_fields = ["secret_note", "created_at", "delivery_log"]
    actions = ["send_test_event"]
    change_form_template = "webhooks/admin_endpoint_change_form.html"

    def get_fieldsets(self, request, obj=None):
        main = (None, {"fields": ["name", "url", "events", "is_active"]})
        if obj is None:
            return [main]
        return [
            main,
            ("Signing", {"fields": ["secret_note", "created_at"]}),
            ("Latest deliveries", {"fields": ["delivery_log"]}),
        ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .defer("secret")
            .annotate(
                delivered_count=count_of(WebhookDelivery, "endpoint", state=WebhookDelivery.State.DELIVERED),
                failed_count=count_of(WebhookDelivery, "endpoint", state=WebhookDelivery.State.FAILED),
            )
        )

    @admin.display(description="host")
    def host(self, endpoint):
        # The host only: a URL's path or query may hold the receiver's token.
        return urlsplit(endpoint.url).netloc

    @admin.display(description="events")
    def event_count(self, endpoint):
        wanted = len(endpoint.events or [])
        return "all" if wanted == len(EventType.values) else f"{wanted} of {len(EventType.values)}"

    @admin.display(description="delivered", ordering="delivered_count")
    def delivered(self, endpoint):
        return endpoint.delivered_count

    @admin.display(description="failed", ordering="failed_count")
    def failed(self, endpoint):
        return endpoint.failed_count

    @admin.display(description="log")
    def log_link(self, endpoint):
        return format_html('<a href="{}">Deliveries</a>', _log_url(endpoint))

    @admin.display(description="signing secret")
    def secret_note(self, endpoint):
        return (
            "Stored encrypted, shown only when it was made. "
            "Lost it? Rotate it (the button above) and update the receiver."
        )

    @admin.display(description="deliveries")
    def delivery_log(self, endpoint):
        rows = endpoint.deliveries.order_by("-created_at", "-pk")[:LOG_ROWS]
        if not rows:
            return "Nothing sent yet."
        table = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    change_link(row, f"{row.created_at:%Y-%m-%d %H:%M:%S}"),
                    row.event_type,
                    row.get_state_display(),
                    row.attempts,
                    row.last_status_code or "—",
                    row.last_error or "",
                )
                for row in rows
            ),
        )
        return format_html(
            "<table><thead><tr><th>created</th><th>event</th><th>state</th><th>attempts</th><th>status</th>"
            '<th>last error</th></tr></thead><tbody>{}</tbody></table><p><a href="{}">All deliveries</a></p>',
            table,
            _log_url(endpoint),
        )

    # --- The secret, shown once -------------------------------------------------------------------

    def response_add(self, request, obj, post_url_continue=None):
        # Answer the POST with the secret itself: a redirect would need it kept somewhere in between.
        return _show_secret(request, self, obj, obj.secret, made=True)

    def get_urls(self):
        return [
            path("<int:pk>/test/", self.admin_site.admin_view(self.send_test_view), name="webhooks_endpoint_test"),
            path(
                "<int:pk>/rotate-secret/",
                self.admin_site.admin_view(self.rotate_secret_view),
                name="webhooks_endpoint_rotate",
            ),
            *super().get_urls(),
        ]

    def send_test_view(self, request, pk):
        endpoint = self._endpoint_to_change(request, pk)
        events.send_test(endpoint)
        self.message_user(request, f"A webhook.test event is on its way to {endpoint}: see its deliveries.")
        return redirect(_log_url(endpoint))

    def rotate_secret_view(self, request, pk):
        endpoint = self._endpoint_to_change(request, pk)
        with transaction.atomic():
            secret = endpoint.rotate_secret()
            self.log_change(request, endpoint, "Rotated the signing secret.")
        return _show_secret(request, self, endpoint, secret, made=False)

    def _endpoint_to_change(self, request, pk):
        if request.method != "POST":
            raise PermissionDenied("Use the button on the endpoint's page.")
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        return endpoint

    @admin.action(description="Send a test event to the selected endpoints", permissions=["change"])
    def send_test_event(self, request, queryset):
        for endpoint in queryset:
            events.send_test(endpoint)
        self.message_user(
            request, f"A webhook.test event is on its way to {len(queryset)} endpoint(s).", messages.SUCCESS
        )


def _log_url(endpoint):
    return reverse("admin:webhooks_webhookdelivery_changelist") + f"?endpoint__id__exact={endpoint.pk}"


def _show_secret(request, model_admin, endpoint, secret, *, made):
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "endpoint": endpoint,
        "secret": secret,
        "made": made,
        "title": f"The signing secret of {endpoint}",
        "change_url": reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]),
    }
    response = TemplateResponse(request, "webhooks/admin_secret.html", context)
    # Never kept by a browser or a proxy: the page is the secret's only copy outside the database.
    response["Cache-Control"] = "no-store"
    return response


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(SuperusersOnly, admin.ModelAdmin):
    """Shown, never added, changed or deleted here: what was sent where, and whether it arrived."""

    list_display = ["created_at", "endpoint", "event_type", "state_badge", "attempts", "last_status_code", "last_error"]
    list_filter = ["state", "event_type", "endpoint"]
    list_select_related = ["endpoint"]
    search_fields = ["webhook_id", "subject", "event_type"]
    ordering = ["-created_at", "-pk"]
    fields = [
        "endpoint_link",
        "event_type",
        "subject",
        "webhook_id",
        "state",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "created_at",
        "last_attempt_at",
        "delivered_at",
        "body",
    ]
    readonly_fields = fields

    @admin.display(description="endpoint")
    def endpoint_link(self, delivery):
        return change_link(delivery.endpoint)

    @admin.display(description="state", ordering="state")
    def state_badge(self, delivery):
        state = WebhookDelivery.State(delivery.state)
        return format_html('<span class="badge {}">{}</span>', state.colour, state.label)

    @admin.display(description="body (as POSTed)")
    def body(self, delivery):
        return format_html("<pre>{}</pre>", json.dumps(delivery.payload, indent=2))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
