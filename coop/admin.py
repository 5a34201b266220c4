"""The admin for the co-op directory: sites, organisations, people, contacts, access, contracts.

Models with change history use SimpleHistoryAdmin, so each object's "History"
page shows who changed what, with the value before and after.
"""

import logging
import smtplib

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from core.admin_site import FORMFIELD_OVERRIDES
from core.db import count_of, count_related

from .models import ContactMethod, Contract, Invitation, Organization, Person, Site, SiteAccess

logger = logging.getLogger(__name__)


# --- Sites ---------------------------------------------------------------------


class SiteAccessInline(admin.TabularInline):
    model = SiteAccess
    extra = 0
    fields = ["person", "kind", "valid_until", "notes"]
    autocomplete_fields = ["person"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("person", "site")


@admin.register(Site)
class SiteAdmin(SimpleHistoryAdmin):
    list_display = ["name", "lifecycle", "hours", "timezone", "machine_count", "people_with_access"]
    list_filter = ["lifecycle"]
    search_fields = ["name", "slug", "address"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["name"]
    inlines = [SiteAccessInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "lifecycle", "decommission_date", "pinned_warning"]}),
        ("Getting in", {"fields": ["address", "access_procedure", "hours", "timezone"]}),
        ("Private", {"fields": ["notes"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                machine_count=count_related(Site, "machines"),
                access_count=count_of(SiteAccess, "site"),
            )
        )

    @admin.display(description="machines", ordering="machine_count")
    def machine_count(self, site):
        return site.machine_count

    @admin.display(description="people with access", ordering="access_count")
    def people_with_access(self, site):
        return site.access_count


# --- Organisations ---------------------------------------------------------------


@admin.register(Organization)
class OrganizationAdmin(SimpleHistoryAdmin):
    formfield_overrides = FORMFIELD_OVERRIDES
    list_display = ["name", "is_member", "email", "website", "machine_count", "guest_count", "people_count"]
    list_filter = ["is_member"]
    search_fields = ["name", "slug", "email"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["name"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                machine_count=count_related(Organization, "machines"),
                guest_count=count_related(Organization, "guests"),
                people_count=count_of(Person, "organization"),
            )
        )

    @admin.display(description="machines", ordering="machine_count")
    def machine_count(self, organization):
        return organization.machine_count

    @admin.display(description="guests", ordering="guest_count")
    def guest_count(self, organization):
        return organization.guest_count

    @admin.display(description="people", ordering="people_count")
    def people_count(self, organization):
        return organization.people_count


# --- People and how to reach them -------------------------------------------------


class ContactMethodInline(admin.TabularInline):
    model = ContactMethod
    extra = 1
    fields = ["kind", "value", "priority", "verified_at", "gets_alerts", "alert_url", "notes"]


class PersonSiteAccessInline(SiteAccessInline):
    fields = ["site", "kind", "valid_until", "notes"]
    autocomplete_fields = ["site"]


@admin.register(Person)
class PersonAdmin(SimpleHistoryAdmin):
    list_display = ["name", "organization", "is_volunteer", "timezone", "login", "contact_count", "reachable"]
    list_select_related = ["organization", "user"]
    list_filter = ["is_volunteer", "site_access__site"]
    search_fields = ["name", "organization__name", "contact_methods__value", "user__username", "user__email"]
    autocomplete_fields = ["organization", "user"]
    ordering = ["name"]
    inlines = [ContactMethodInline, PersonSiteAccessInline]
    fieldsets = [
        (None, {"fields": ["name", "organization", "is_volunteer", "timezone", "user"]}),
        ("Cannot be reached", {"fields": ["unreachable_reason", "unreachable_until"]}),
        ("Private", {"fields": ["notes"]}),
    ]

    def get_queryset(self, request):
        # is_reachable() reads every contact method: one prefetch for the page, not a query per row.
        return (
            super()
            .get_queryset(request)
            .annotate(contact_count=count_of(ContactMethod, "person"))
            .prefetch_related("contact_methods")
        )

    @admin.display(description="contact methods", ordering="contact_count")
    def contact_count(self, person):
        return person.contact_count

    @admin.display(description="login", ordering="user__email")
    def login(self, person):
        # People log in with their email address; the user name is internal and would be a second name.
        return person.user.email if person.user else ""

    @admin.display(description="reachable (not marked away, a contact verified lately)", boolean=True)
    def reachable(self, person):
        return person.is_reachable()


@admin.register(ContactMethod)
class ContactMethodAdmin(SimpleHistoryAdmin):
    list_display = ["value", "kind", "person", "priority", "verified_at", "recently_verified"]
    list_select_related = ["person"]
    list_filter = ["kind", ("verified_at", admin.EmptyFieldListFilter)]
    search_fields = ["value", "person__name", "notes"]
    autocomplete_fields = ["person"]
    ordering = ["person__name", "priority", "kind"]
    actions = ["mark_verified_now"]

    @admin.display(description="verified recently", boolean=True)
    def recently_verified(self, method):
        return not method.is_stale()

    @admin.action(description="Mark selected contact methods verified now", permissions=["change"])
    def mark_verified_now(self, request, queryset):
        now = timezone.now()
        for method in queryset:
            method.mark_verified(when=now)
        self.message_user(request, f"Marked {len(queryset)} contact method(s) verified.", messages.SUCCESS)


@admin.register(SiteAccess)
class SiteAccessAdmin(SimpleHistoryAdmin):
    list_display = ["person", "site", "kind", "valid_until", "current"]
    list_select_related = ["person", "site"]
    list_filter = ["site", "kind"]
    search_fields = ["person__name", "site__name", "notes"]
    autocomplete_fields = ["person", "site"]
    ordering = ["site__name", "person__name"]

    @admin.display(description="current", boolean=True)
    def current(self, access):
        return access.is_current()


# --- Contracts ---------------------------------------------------------------------


@admin.register(Contract)
class ContractAdmin(SimpleHistoryAdmin):
    list_display = ["covers", "provider", "site", "paid_by", "starts_on", "ends_on", "days_left", "monthly_cost"]
    list_select_related = ["provider", "paid_by", "site"]
    list_filter = ["site", ("ends_on", admin.EmptyFieldListFilter)]
    search_fields = ["covers", "reference", "provider__name", "paid_by__name"]
    autocomplete_fields = ["provider", "paid_by", "site"]
    date_hierarchy = "ends_on"
    ordering = ["ends_on", "provider__name"]
    fieldsets = [
        (None, {"fields": ["provider", "covers", "reference", "site"]}),
        ("Term", {"fields": ["starts_on", "ends_on", "notice_days"]}),
        ("Money", {"fields": ["paid_by", "monthly_cost", "notes"]}),
    ]

    @admin.display(description="days left", ordering="ends_on")
    def days_left(self, contract):
        days = contract.days_left()
        if days is None:
            return "rolling"
        if contract.is_ending_soon():
            return format_html("<strong>{}</strong>", days)
        return days


# --- Invitations ---------------------------------------------------------------------


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations are the only way in: adding one emails the link; the action sends it again."""

    list_display = ["email", "role", "person", "state", "invited_by", "sent_at", "expires_at", "accepted_at"]
    list_select_related = ["person", "invited_by"]
    list_filter = ["role", ("accepted_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "person__name"]
    autocomplete_fields = ["person"]
    # The token is the sign-up credential: it goes out by email and is never shown here.
    fields = ["email", "role", "person", "expires_at", "state", "invited_by", "created_at", "sent_at", "accepted_at"]
    readonly_fields = ["state", "invited_by", "created_at", "sent_at", "accepted_at"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    actions = ["send_again"]

    @admin.display(description="state")
    def state(self, invitation):
        if invitation.pk is None:
            return "-"
        return invitation.State(invitation.state()).label

    def save_model(self, request, obj, form, change):
        if not change and obj.invited_by_id is None:
            obj.invited_by = request.user
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        self._send(request, [obj])
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description="Send the invitation email (again)", permissions=["change"])
    def send_again(self, request, queryset):
        self._send(request, list(queryset))

    def _send(self, request, invitations):
        sent = 0
        for invitation in invitations:
            try:
                invitation.send()
            except Invitation.NotValid as error:
                self.message_user(request, str(error), messages.WARNING)
            except (smtplib.SMTPException, OSError) as error:
                logger.warning("invitation email to %s failed: %s", invitation.email, error)
                self.message_user(
                    request,
                    f"The email to {invitation.email} could not be sent ({error}); "
                    "try again with “Send the invitation email (again)”.",
                    messages.ERROR,
                )
            else:
                sent += 1
        if sent:
            self.message_user(request, f"Sent {sent} invitation email(s).", messages.SUCCESS)
