"""The API's endpoints, one per object kind, under /api/v1/.

Members read everything here (people and contact methods are personal data: members only). The
inventory and the directory are changed by admins, as in the Django admin; incidents by operators,
through the same model methods the incident page calls; power actions by operators with a fresh
code or a power token, through the same PowerAction.request() the power form calls. Every list is
paginated by cursor and loads its related objects in a fixed number of queries.
"""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from backups.models import BackupTarget
from coop.models import ContactMethod, Organization, Person, Site, SiteAccess
from hosts.models import DNSName, Guest, HostedService, IPAddress, Machine, Monitor
from incidents import policy
from incidents.models import Incident, TimelineEntry
from power.models import PowerAction, PowerActionRefused
from power.tasks import queue_power_action

from . import serializers as s


class AdminWrites(viewsets.ModelViewSet):
    """Members list and read; admins create, change and delete (as in the Django admin)."""

    write_role = "admin"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]


class SiteViewSet(AdminWrites):
    queryset = Site.objects.all()
    serializer_class = s.SiteSerializer
    lookup_field = "slug"
    filterset_fields = ["lifecycle"]
    ordering_fields = ["name", "slug", "id"]


class OrganizationViewSet(AdminWrites):
    queryset = Organization.objects.all()
    serializer_class = s.OrganizationSerializer
    lookup_field = "slug"
    filterset_fields = ["is_member"]
    ordering_fields = ["name", "slug", "id"]


class PersonViewSet(AdminWrites):
    queryset = Person.objects.select_related("organization")
    serializer_class = s.PersonSerializer
    filterset_fields = {"is_volunteer": ["exact"], "organization__slug": ["exact"], "name": ["exact", "icontains"]}
    ordering_fields = ["id"]


class ContactMethodViewSet(AdminWrites):
    queryset = ContactMethod.objects.all()
    serializer_class = s.ContactMethodSerializer
    filterset_fields = ["person", "kind", "gets_alerts"]
    ordering_fields = ["id"]


class SiteAccessViewSet(AdminWrites):
    queryset = SiteAccess.objects.select_related("site")
    serializer_class = s.SiteAccessSerializer
    filterset_fields = {"site__slug": ["exact"], "person": ["exact"], "kind": ["exact"]}
    ordering_fields = ["id"]


class MachineViewSet(AdminWrites):
    queryset = Machine.objects.with_monitor_state().select_related("site", "owner").prefetch_related("admins")
    serializer_class = s.MachineSerializer
    lookup_field = "hostname"
    lookup_value_regex = "[^/]+"
    filterset_fields = {
        "site__slug": ["exact"],
        "owner__slug": ["exact"],
        "lifecycle": ["exact"],
        "hypervisor": ["exact"],
        "hostname": ["exact", "icontains"],
    }
    ordering_fields = ["hostname", "id", "created_at"]


class GuestViewSet(AdminWrites):
    queryset = Guest.objects.with_monitor_state().select_related("machine", "owner").prefetch_related("contacts")
    serializer_class = s.GuestSerializer
    lookup_field = "name"
    lookup_value_regex = "[^/]+"
    filterset_fields = {
        "machine__hostname": ["exact"],
        "owner__slug": ["exact"],
        "lifecycle": ["exact"],
        "name": ["exact", "icontains"],
    }
    ordering_fields = ["name", "id", "created_at"]


class IPAddressViewSet(AdminWrites):
    queryset = IPAddress.objects.select_related("machine", "guest")
    serializer_class = s.IPAddressSerializer
    filterset_fields = {"machine__hostname": ["exact"], "guest__name": ["exact"], "address": ["exact"]}
    ordering_fields = ["id"]


class DNSNameViewSet(AdminWrites):
    queryset = DNSName.objects.select_related("machine", "guest")
    serializer_class = s.DNSNameSerializer
    filterset_fields = {"machine__hostname": ["exact"], "guest__name": ["exact"], "name": ["exact", "icontains"]}
    ordering_fields = ["name", "id"]


class HostedServiceViewSet(AdminWrites):
    queryset = HostedService.objects.select_related("guest", "owner")
    serializer_class = s.HostedServiceSerializer
    filterset_fields = {"guest__name": ["exact"], "owner__slug": ["exact"], "is_public": ["exact"]}
    ordering_fields = ["id"]


class MonitorViewSet(AdminWrites):
    queryset = Monitor.objects.select_related("machine", "guest")
    serializer_class = s.MonitorSerializer
    filterset_fields = {
        "machine__hostname": ["exact"],
        "guest__name": ["exact"],
        "kind": ["exact"],
        "state": ["exact"],
        "is_enabled": ["exact"],
    }
    ordering_fields = ["id"]


class BackupTargetViewSet(AdminWrites):
    queryset = BackupTarget.objects.select_related("machine", "guest")
    serializer_class = s.BackupTargetSerializer
    filterset_fields = {"machine__hostname": ["exact"], "guest__name": ["exact"], "kind": ["exact"], "state": ["exact"]}
    ordering_fields = ["name", "id"]


class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Incidents: members read; operators open one, change its status or severity, and post updates."""

    write_role = "operator"
    queryset = Incident.objects.select_related("lead").prefetch_related("machines", "guests")
    serializer_class = s.IncidentSerializer
    filterset_fields = {"status": ["exact"], "severity": ["exact"], "cause": ["exact"], "is_public": ["exact"]}
    ordering_fields = ["id", "started_at"]
    ordering = ["-started_at", "-id"]

    @extend_schema(request=s.IncidentOpenSerializer, responses={201: s.IncidentSerializer})
    def create(self, request):
        asked = s.IncidentOpenSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        incident = policy.open_by_person(
            title=data["title"],
            by=request.user,
            machines=data.get("machines", ()),
            guests=data.get("guests", ()),
            severity=data["severity"],
        )
        return Response(s.IncidentSerializer(self._fresh(incident)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.IncidentChangeSerializer, responses=s.IncidentSerializer)
    def partial_update(self, request, pk=None):
        incident = self.get_object()
        asked = s.IncidentChangeSerializer(data=request.data, context={"incident": incident})
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        with transaction.atomic():
            if "severity" in data:
                incident.change_severity(data["severity"], by=request.user)
            if data.get("status") == Incident.Status.RESOLVED:
                if incident.status != Incident.Status.RESOLVED:
                    incident.resolve(by=request.user, note=data["note"] or "Resolved.", summary=data["summary"] or None)
            elif "status" in data:
                incident.change_status(data["status"], by=request.user, note=data["note"])
        return Response(s.IncidentSerializer(self._fresh(incident)).data)

    def _fresh(self, incident):
        return self.get_queryset().get(pk=incident.pk)


class TimelineEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The timeline: members read every entry; operators post updates on incidents."""

    write_role = "operator"
    queryset = TimelineEntry.objects.select_related("author")
    serializer_class = s.TimelineEntrySerializer
    filterset_fields = ["incident", "machine", "guest", "kind", "is_public"]
    ordering_fields = ["id", "at"]
    ordering = ["-id"]

    @extend_schema(request=s.TimelineUpdateSerializer, responses={201: s.TimelineEntrySerializer})
    def create(self, request):
        asked = s.TimelineUpdateSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        entry = data["incident"].post_update(data["body"], by=request.user, public=data["is_public"])
        return Response(s.TimelineEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class PowerActionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Power actions: members read; an operator with a power token (or a fresh code) asks for one."""

    write_role = "operator"
    needs_power = True
    queryset = PowerAction.objects.select_related("machine", "outlet__controller", "requested_by")
    serializer_class = s.PowerActionSerializer
    filterset_fields = {"machine__hostname": ["exact"], "state": ["exact"], "operation": ["exact"]}
    ordering_fields = ["id", "requested_at"]
    ordering = ["-id"]

    @extend_schema(
        request=s.PowerRequestSerializer, responses={202: s.PowerActionSerializer, 200: s.PowerActionSerializer}
    )
    def create(self, request):
        asked = s.PowerRequestSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        override = data["cooldown_override"].strip() if request.user.is_superuser else ""
        common = {"operation": data["operation"], "reason": data["reason"], "by": request.user}
        try:
            if data["outlet"] is None:
                action, created = PowerAction.request_all_outlets(
                    machine=data["machine"], cooldown_override=override, **common
                )
            else:
                action, created = PowerAction.request(outlet=data["outlet"], cooldown_override=override, **common)
        except PowerActionRefused as refusal:
            return Response(
                {"error": "refused", "message": str(refusal), "fields": {}}, status=status.HTTP_409_CONFLICT
            )
        if created:
            queue_power_action(action)
        # 202: accepted, carried out by a worker; GET it to follow. 200: the same action was already under way.
        action = self.get_queryset().get(pk=action.pk)
        code = status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
        return Response(s.PowerActionSerializer(action).data, status=code)
