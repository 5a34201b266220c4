"""How each object reads and is written through the API.

Related objects are named as volunteers name them: a machine by hostname, a guest by name, a site or
an organisation by slug; people by id (two people may share a name). Secrets are write-only: a
response says whether one is set (`alert_url_set`), never what it is.
"""

import functools
import zoneinfo

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from backups.models import BackupTarget
from coop.models import ContactMethod, Organization, Person, Site, SiteAccess
from hosts.models import DNSName, Guest, HostedService, IPAddress, Machine, Monitor
from incidents.forms import names_private_things
from incidents.models import Incident, TimelineEntry
from power.models import PowerAction


class StrictModelSerializer(serializers.ModelSerializer):
    """Refuses fields it does not know (a typo must not be silently ignored) and runs the model's own rules."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        many = {field.name for field in model._meta.many_to_many}
        plain = {name: value for name, value in attrs.items() if name not in many}
        candidate = model(**{**self._current_values(), **plain})
        try:
            # The same checks as the admin: field validators, clean() ("exactly one machine or guest"), and the
            # unique constraints (an organisation's name in any case), so a clash is a 400, not a database error.
            candidate.full_clean()
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from error
        return attrs

    def _current_values(self):
        if self.instance is None:
            return {}
        values = {}
        for field in self.instance._meta.concrete_fields:
            values[field.attname] = field.value_from_object(self.instance)
        return values


def _by_hostname(**kwargs):
    return serializers.SlugRelatedField(slug_field="hostname", queryset=Machine.objects.all(), **kwargs)


def _by_name(queryset, **kwargs):
    return serializers.SlugRelatedField(slug_field="name", queryset=queryset, **kwargs)


def _by_slug(queryset, **kwargs):
    return serializers.SlugRelatedField(slug_field="slug", queryset=queryset, **kwargs)


class TimeZoneField(serializers.CharField):
    """An IANA time zone by name ("Europe/Berlin"), as the admin's choice list offers them."""

    def __init__(self, **kwargs):
        super().__init__(max_length=64, required=False, **kwargs)

    def to_internal_value(self, data):
        name = super().to_internal_value(data)
        if name not in _zone_names():
            raise serializers.ValidationError(f"“{name}” is not a time zone: use a name like Europe/Berlin or UTC.")
        return name

    def to_representation(self, value):
        return str(value)


@functools.cache
def _zone_names():
    return zoneinfo.available_timezones() | {"UTC"}


class SiteSerializer(StrictModelSerializer):
    timezone = TimeZoneField()

    class Meta:
        model = Site
        fields = [
            "id",
            "name",
            "slug",
            "address",
            "access_procedure",
            "hours",
            "timezone",
            "lifecycle",
            "decommission_date",
            "pinned_warning",
            "notes",
        ]


class OrganizationSerializer(StrictModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "website", "email", "is_member", "notes"]


class PersonSerializer(StrictModelSerializer):
    timezone = TimeZoneField()
    organization = _by_slug(Organization.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "organization",
            "is_volunteer",
            "timezone",
            "unreachable_reason",
            "unreachable_until",
            "notes",
        ]


class ContactMethodSerializer(StrictModelSerializer):
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all())
    alert_url = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=500, help_text="Write-only; stored encrypted."
    )
    alert_url_set = serializers.SerializerMethodField()

    class Meta:
        model = ContactMethod
        fields = [
            "id",
            "person",
            "kind",
            "value",
            "priority",
            "verified_at",
            "notes",
            "gets_alerts",
            "alert_url",
            "alert_url_set",
        ]
        read_only_fields = ["verified_at"]

    def get_alert_url_set(self, method) -> bool:
        return ContactMethod._meta.get_field("alert_url").is_set(method)


class SiteAccessSerializer(StrictModelSerializer):
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all())
    site = _by_slug(Site.objects.all())

    class Meta:
        model = SiteAccess
        fields = ["id", "person", "site", "kind", "valid_until", "notes"]


class MachineSerializer(StrictModelSerializer):
    site = _by_slug(Site.objects.all())
    owner = _by_slug(Organization.objects.all(), required=False, allow_null=True)
    admins = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all(), many=True, required=False)
    monitor_state = serializers.CharField(read_only=True)

    class Meta:
        model = Machine
        fields = [
            "id",
            "hostname",
            "site",
            "rack",
            "rack_position",
            "owner",
            "admins",
            "hypervisor",
            "os_name",
            "os_version",
            "patch_policy",
            "reboot_safe",
            "startup_steps",
            "management_address",
            "serial_number",
            "lifecycle",
            "decommission_date",
            "pinned_warning",
            "notes",
            "monitor_state",
            "created_at",
            "updated_at",
        ]


class GuestSerializer(StrictModelSerializer):
    machine = _by_hostname()
    owner = _by_slug(Organization.objects.all(), required=False, allow_null=True)
    contacts = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all(), many=True, required=False)
    monitor_state = serializers.CharField(read_only=True)

    class Meta:
        model = Guest
        fields = [
            "id",
            "name",
            "machine",
            "owner",
            "contacts",
            "os_name",
            "os_version",
            "vcpus",
            "memory_mb",
            "disk_gb",
            "startup_steps",
            "lifecycle",
            "pinned_warning",
            "notes",
            "monitor_state",
            "created_at",
            "updated_at",
        ]


class _OnMachineOrGuest(StrictModelSerializer):
    """An object that belongs to exactly one machine or one guest (the model's clean() says which)."""

    machine = _by_hostname(required=False, allow_null=True)
    guest = _by_name(Guest.objects.all(), required=False, allow_null=True)


class IPAddressSerializer(_OnMachineOrGuest):
    class Meta:
        model = IPAddress
        fields = ["id", "address", "machine", "guest", "note"]


class DNSNameSerializer(_OnMachineOrGuest):
    class Meta:
        model = DNSName
        fields = ["id", "name", "machine", "guest"]


class HostedServiceSerializer(StrictModelSerializer):
    guest = _by_name(Guest.objects.all())
    owner = _by_slug(Organization.objects.all(), required=False, allow_null=True)

    class Meta:
        model = HostedService
        fields = ["id", "name", "guest", "url", "owner", "is_public"]


class MonitorSerializer(_OnMachineOrGuest):
    class Meta:
        model = Monitor
        fields = [
            "id",
            "machine",
            "guest",
            "kind",
            "target",
            "port",
            "interval",
            "timeout",
            "down_after",
            "up_after",
            "expected_status",
            "keyword",
            "follow_redirects",
            "tls_warn_days",
            "expected_addresses",
            "is_enabled",
            "state",
            "state_changed_at",
        ]
        read_only_fields = ["state", "state_changed_at"]


class BackupTargetSerializer(_OnMachineOrGuest):
    secret_access_key = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=500, help_text="Write-only; stored encrypted."
    )
    secret_access_key_set = serializers.SerializerMethodField()

    class Meta:
        model = BackupTarget
        fields = [
            "id",
            "name",
            "kind",
            "machine",
            "guest",
            "expected_interval",
            "grace",
            "encryption_required",
            "min_size_bytes",
            "endpoint_url",
            "region",
            "bucket",
            "prefix",
            "access_key_id",
            "secret_access_key",
            "secret_access_key_set",
            "ping_post_only",
            "drill_every_days",
            "state",
            "state_since",
            "state_message",
            "last_checked_at",
            "last_exercised_at",
            "notes",
        ]
        read_only_fields = ["state", "state_since", "state_message", "last_checked_at", "last_exercised_at"]

    def get_secret_access_key_set(self, target) -> bool:
        return BackupTarget._meta.get_field("secret_access_key").is_set(target)


class IncidentSerializer(serializers.ModelSerializer):
    machines = serializers.SlugRelatedField(slug_field="hostname", many=True, read_only=True)
    guests = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    lead = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "title",
            "cause",
            "severity",
            "status",
            "is_public",
            "public_slug",
            "summary",
            "machines",
            "guests",
            "started_at",
            "resolved_at",
            "lead",
        ]
        read_only_fields = fields

    def get_lead(self, incident) -> str | None:
        return incident.lead.get_username() if incident.lead else None


class IncidentOpenSerializer(serializers.Serializer):
    """Open an incident, as "Open an incident" on a machine's page does (joins one already open for it)."""

    title = serializers.CharField(max_length=200)
    severity = serializers.ChoiceField(choices=Incident.Severity.choices, default=Incident.Severity.MAJOR)
    machines = serializers.SlugRelatedField(
        slug_field="hostname", queryset=Machine.objects.all(), many=True, required=False
    )
    guests = serializers.SlugRelatedField(slug_field="name", queryset=Guest.objects.all(), many=True, required=False)

    def to_internal_value(self, data):
        _refuse_unknown(self, data)
        return super().to_internal_value(data)


class IncidentChangeSerializer(serializers.Serializer):
    """Change an incident's status or severity; resolving takes a summary, as on the page."""

    status = serializers.ChoiceField(choices=Incident.Status.choices, required=False)
    severity = serializers.ChoiceField(choices=Incident.Severity.choices, required=False)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    summary = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")
    names_are_public = serializers.BooleanField(required=False, default=False)

    def to_internal_value(self, data):
        _refuse_unknown(self, data)
        return super().to_internal_value(data)

    def validate(self, attrs):
        if "status" not in attrs and "severity" not in attrs:
            raise serializers.ValidationError("Send a status, a severity, or both.")
        incident = self.context["incident"]
        if incident.is_public and not attrs["names_are_public"]:
            _check_public_words(attrs, ("note", "summary"))
        return attrs


class TimelineEntrySerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = TimelineEntry
        fields = ["id", "incident", "machine", "guest", "at", "kind", "body", "author", "is_public"]
        read_only_fields = fields

    def get_author(self, entry) -> str | None:
        return entry.author.get_username() if entry.author else None


class TimelineUpdateSerializer(serializers.Serializer):
    """Post an update on an incident: members-only, or (is_public) the words the public reads."""

    incident = serializers.PrimaryKeyRelatedField(queryset=Incident.objects.all())
    body = serializers.CharField(max_length=10_000, trim_whitespace=True)
    is_public = serializers.BooleanField(required=False, default=False)
    names_are_public = serializers.BooleanField(
        required=False, default=False, help_text="Confirm that a public update may name hosts, addresses or people."
    )

    def to_internal_value(self, data):
        _refuse_unknown(self, data)
        return super().to_internal_value(data)

    def validate(self, attrs):
        if attrs["is_public"] and not attrs["names_are_public"]:
            _check_public_words(attrs, ("body",))
        return attrs


class PowerActionSerializer(serializers.ModelSerializer):
    machine = serializers.SlugRelatedField(slug_field="hostname", read_only=True)
    outlet = serializers.SerializerMethodField()
    requested_by = serializers.SerializerMethodField()

    class Meta:
        model = PowerAction
        fields = [
            "id",
            "machine",
            "scope",
            "outlet",
            "operation",
            "state",
            "reason",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "state_before",
            "state_after",
            "result",
            "error",
        ]
        read_only_fields = fields

    def get_outlet(self, action) -> str | None:
        return f"{action.outlet.controller.name} outlet {action.outlet.number}" if action.outlet_id else None

    def get_requested_by(self, action) -> str | None:
        return action.requested_by.get_username() if action.requested_by else None


class PowerRequestSerializer(serializers.Serializer):
    """Ask for a power action: the same rules as the power form (reason, cooldown, exactly once)."""

    machine = serializers.SlugRelatedField(slug_field="hostname", queryset=Machine.objects.all())
    operation = serializers.ChoiceField(choices=PowerAction.Operation.choices)
    outlet = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The outlet's number on its controller; leave out to switch all of the machine's outlets.",
    )
    reason = serializers.CharField(max_length=1000)
    cooldown_override = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def to_internal_value(self, data):
        _refuse_unknown(self, data)
        return super().to_internal_value(data)

    def validate(self, attrs):
        machine = attrs["machine"]
        outlets = list(machine.outlets.select_related("controller"))
        if not outlets:
            raise serializers.ValidationError({"machine": [f"{machine} has no switched outlet or BMC."]})
        number = attrs.get("outlet")
        if number is None:
            attrs["outlet"] = outlets[0] if len(outlets) == 1 else None
        else:
            matching = [outlet for outlet in outlets if outlet.number == number]
            if len(matching) != 1:
                known = ", ".join(str(outlet.number) for outlet in outlets)
                raise serializers.ValidationError({"outlet": [f"{machine}'s outlets are numbered {known}."]})
            attrs["outlet"] = matching[0]
        return attrs


def _refuse_unknown(serializer, data):
    if isinstance(data, dict):
        unknown = sorted(set(data) - set(serializer.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})


def _check_public_words(attrs, names):
    errors = {}
    for name in names:
        private = names_private_things(attrs.get(name) or "")
        if private:
            errors[name] = [
                "The public will read this, and it names " + ", ".join(private[:5]) + ". "
                "Reword it, or send names_are_public: true."
            ]
    if errors:
        raise serializers.ValidationError(errors)
