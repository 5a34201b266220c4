"""xen1 goes down; Ada's "Ops chat" endpoint gets one signed POST about it, and the signature verifies."""

import json

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from hosts.models import Guest
from incidents import policy
from incidents.models import Incident, TimelineEntry
from webhooks import sending
from webhooks.models import WebhookDelivery

from ..factories import make_machine, make_org
from .conftest import SITE_URL, verify

pytestmark = pytest.mark.django_db


def xen1_goes_down():
    xen1 = make_machine(hostname="xen1.harbor.example.org", owner=make_org(name="Wiki Project"))
    Guest.objects.create(name="wiki.example.org", machine=xen1)
    incident, opened = policy.report(
        Incident.Cause.OUTAGE,
        policy.outage_key(xen1),
        title="xen1.harbor.example.org is down",
        note="TCP is down: connection refused",
        kind=TimelineEntry.Kind.CHECK_FAILED,
        machines=[xen1],
    )
    assert opened
    return incident


def test_an_opened_incident_reaches_the_endpoint_signed(
    endpoint, receiver, sends_run_at_once, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        incident = xen1_goes_down()

    [post] = receiver.posts
    payload = verify(endpoint, post)
    assert payload["type"] == "incident.opened"
    assert payload["timestamp"].endswith("Z")
    assert payload["data"]["id"] == incident.pk
    assert payload["data"]["title"] == "xen1.harbor.example.org is down"
    assert payload["data"]["status"] == "investigating"
    assert payload["data"]["machines"] == ["xen1.harbor.example.org"]
    assert payload["data"]["url"] == f"{SITE_URL}/incidents/{incident.pk}/"
    assert payload["data"]["public_url"] is None  # Switchboard's title is for members until a person retitles it
    assert post["headers"]["Content-Type"] == "application/json"
    assert post["path"] == "/hooks/ops?token=receiver-token-123"
    delivery = WebhookDelivery.objects.get()
    assert post["headers"]["webhook-id"] == delivery.webhook_id and delivery.webhook_id.startswith("msg_")
    assert delivery.state == WebhookDelivery.State.DELIVERED
    assert (delivery.attempts, delivery.last_status_code) == (1, 200)


def test_a_receiver_with_another_secret_rejects_it(endpoint, receiver):
    delivery = _queued(endpoint)
    sending.send(delivery.pk)

    [post] = receiver.posts
    other = Webhook("whsec_" + "A" * 43 + "=")
    with pytest.raises(WebhookVerificationError):
        other.verify(post["body"], post["headers"])
    tampered = post["body"].replace(b"investigating", b"resolved")
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(tampered, post["headers"])


def test_the_body_is_exactly_the_stored_payload(endpoint, receiver):
    delivery = _queued(endpoint)
    sending.send(delivery.pk)

    assert json.loads(receiver.posts[0]["body"]) == WebhookDelivery.objects.get().payload


def test_the_secret_is_made_by_switchboard_in_standard_webhooks_form_and_stored_encrypted(endpoint):
    from django.db import connection

    assert endpoint.secret.startswith("whsec_")
    Webhook(endpoint.secret)  # parses: base64 after the prefix
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_webhookendpoint WHERE id = %s", [endpoint.pk])
        stored = cursor.fetchone()[0]
    assert endpoint.secret not in stored and "whsec_" not in stored


def _queued(endpoint):
    from webhooks import events

    [delivery] = events.emit(
        "incident.opened", {"id": 1, "title": "t", "status": "investigating"}, endpoints=[endpoint]
    )
    return delivery
