"""Writing an event's deliveries, and what each event says.

emit() writes one WebhookDelivery per active endpoint that wants the event, in the caller's
transaction (so a change rolled back tells nobody), and queues their sends once it commits.
The payload is {"type", "timestamp", "data"}: ids, names, states and links — what a member
could read on the pages — never a secret, a person's contact details or a monitor's credentials.
"""

from datetime import UTC

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .models import TEST_EVENT, WebhookDelivery, WebhookEndpoint
from .tasks import queue_sends


def listening(*event_types):
    """The active endpoints that want any of `event_types` (one query; few endpoints, so filtered here)."""
    endpoints = WebhookEndpoint.objects.filter(is_active=True).only("pk", "events")
    return [endpoint for endpoint in endpoints if any(endpoint.wants(kind) for kind in event_types)]


def emit(event_type, data, *, subject="", at=None, endpoints=None):
    """Write a delivery of this event for each endpoint that wants it and queue them on commit.

    `data` is the event's "data" (a dict, or a function making it: called only when someone
    listens). `endpoints` defaults to listening(event_type). Returns the deliveries written.
    """
    endpoints = [e for e in (listening(event_type) if endpoints is None else endpoints) if e.wants(event_type)]
    if not endpoints:
        return []
    payload = envelope(event_type, data() if callable(data) else data, at)
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=endpoint, event_type=event_type, subject=subject, payload=payload)
        for endpoint in endpoints
    )
    queue_on_commit([delivery.pk for delivery in deliveries])
    return deliveries


def send_test(endpoint):
    """A webhook.test delivery to this one endpoint (active or not, whatever it wants): the admin's button."""
    data = {"endpoint": endpoint.name, "message": "A test from Switchboard: this endpoint is set up right."}
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type=TEST_EVENT, subject=f"endpoint:{endpoint.pk}", payload=envelope(TEST_EVENT, data)
    )
    queue_on_commit([delivery.pk])
    return delivery


def envelope(event_type, data, at=None):
    return {"type": event_type, "timestamp": iso(at or timezone.now()), "data": data}


def queue_on_commit(ids):
    """Queue the sends once the transaction commits; a broker that is down leaves them to the sweep."""
    if ids:
        transaction.on_commit(lambda: queue_sends(ids))


# --- What each event says ------------------------------------------------------------------------


def iso(when):
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z") if when else None


def link(path):
    """An absolute link to one of Switchboard's pages (settings.SITE_URL, as emails build theirs)."""
    return settings.SITE_URL + path if path else None


def incident_data(incident, entry=None):
    """An incident as members see it: title, state, what it lists, its page (and its public one if any)."""
    machines = list(incident.machines.order_by("hostname").values_list("hostname", flat=True))
    guests = list(incident.guests.order_by("name").values_list("name", flat=True))
    data = {
        "id": incident.pk,
        "title": incident.title,
        "status": incident.status,
        "severity": incident.severity,
        "cause": incident.cause,
        "started_at": iso(incident.started_at),
        "resolved_at": iso(incident.resolved_at),
        "machines": machines,
        "guests": guests,
        "url": link(incident.get_absolute_url()),
        "public_url": link(incident.get_public_url()),
    }
    if entry is not None:
        data["entry"] = {
            "id": entry.pk,
            "kind": entry.kind,
            "at": iso(entry.at),
            "body": entry.body,
            "is_public": entry.is_public,
        }
    return data


def monitor_data(monitor, transition):
    subject = monitor.guest or monitor.machine
    return {
        "id": monitor.pk,
        "name": str(monitor),
        "kind": monitor.kind,
        "state": transition.to_state,
        "previous_state": transition.from_state,
        "changed_at": iso(transition.at),
        "error": transition.error,
        **_subject(subject),
    }


def power_action_data(action):
    return {
        "id": action.pk,
        "operation": action.operation,
        "scope": action.scope,
        "state": action.state,
        "target": action.target,
        "requested_at": iso(action.requested_at),
        "finished_at": iso(action.finished_at),
        "state_after": action.state_after,
        "outcome": (action.result if action.state == action.State.SUCCEEDED else action.error)[:300],
        "url": link(reverse("power_action", args=[action.machine.hostname, action.pk])) if action.machine else None,
        **_subject(action.machine),
    }


def backup_data(target, check, previous_state):
    return {
        "id": target.pk,
        "name": target.name,
        "kind": target.kind,
        "state": check.state,
        "previous_state": previous_state,
        "message": check.message,
        "checked_at": iso(check.checked_at),
        "url": link(target.get_absolute_url()),
        **_subject(target.guest or target.machine),
    }


def _subject(subject):
    """The machine or guest an event is about: {"machine": {...}} or {"guest": {...}}."""
    if subject is None:
        return {}
    if subject._meta.model_name == "guest":
        return {"guest": {"id": subject.pk, "name": subject.name, "url": link(subject.get_absolute_url())}}
    return {"machine": {"id": subject.pk, "hostname": subject.hostname, "url": link(subject.get_absolute_url())}}
