"""Ada adds the ops chat's endpoint in the admin: she sees its secret once, can send it a test event, rotate
the secret and read its delivery log; mistyped input is refused with a clear message and changes nothing."""

import pytest
from django.urls import reverse
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.conftest import log_in_with_second_factor
from tests.test_admin import errors_on_page
from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint

from .conftest import verify

pytestmark = pytest.mark.django_db

ADD = reverse("admin:webhooks_webhookendpoint_add")


def change_url(endpoint):
    return reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])


def add_endpoint(client, **fields):
    data = {
        "name": "Ops chat",
        "url": "https://chat.example.org/hooks/ops",
        "events": EventType.values,
        "is_active": "on",
    }
    return client.post(ADD, {**data, **fields})


def test_a_new_endpoint_shows_its_secret_once_and_never_again(admin_client, caplog):
    caplog.set_level("DEBUG")

    response = add_endpoint(admin_client)

    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    secret = endpoint.secret
    page = response.content.decode()
    assert secret in page and "the only time it is shown" in page
    assert "no-store" in response["Cache-Control"]
    assert endpoint.events == EventType.values and endpoint.is_active
    later = admin_client.get(change_url(endpoint)).content.decode()
    listed = admin_client.get(reverse("admin:webhooks_webhookendpoint_changelist")).content.decode()
    history = admin_client.get(reverse("admin:webhooks_webhookendpoint_history", args=[endpoint.pk])).content.decode()
    for html in (later, listed, history):
        assert secret not in html and secret.removeprefix("whsec_") not in html
    assert secret.removeprefix("whsec_") not in caplog.text


def test_saving_the_endpoint_again_keeps_its_secret(admin_client, endpoint, receiver):
    secret = endpoint.secret

    response = admin_client.post(
        change_url(endpoint), {"name": "Ops chat (new room)", "url": receiver.url, "events": ["monitor.down"]}
    )

    assert response.status_code == 302, errors_on_page(response)
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.events, endpoint.is_active) == ("Ops chat (new room)", ["monitor.down"], False)
    assert endpoint.secret == secret


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"url": "ftp://files.example.org/hook"}, "url", "Enter a full http:// or https:// URL"),
        ({"url": "javascript:alert(1)"}, "url", "Enter a full http:// or https:// URL"),
        ({"url": "https://"}, "url", "Enter a full http:// or https:// URL"),
        ({"name": ""}, "name", "Give the endpoint a name"),
        ({"name": "   "}, "name", "Give the endpoint a name"),
        ({"events": []}, "events", "Choose at least one event"),
        ({"events": ["incident.opened", "everything"]}, "events", "Select a valid choice"),
    ],
    ids=["ftp-url", "javascript-url", "no-host", "empty-name", "blank-name", "no-events", "unknown-event"],
)
def test_mistyped_input_is_refused_and_nothing_is_saved(admin_client, fields, field, message):
    response = add_endpoint(admin_client, **fields)

    errors = response.context["adminform"].form.errors
    assert any(message in error for error in errors[field]), errors
    assert not WebhookEndpoint.objects.exists()


def test_mistyped_input_on_an_endpoint_changes_nothing(admin_client, endpoint):
    before = WebhookEndpoint.objects.values().get(pk=endpoint.pk)

    response = admin_client.post(
        change_url(endpoint), {"name": "Ops chat", "url": "gopher://chat.example.org/", "events": EventType.values}
    )

    assert errors_on_page(response) == [
        "Enter a full http:// or https:// URL, e.g. https://chat.example.org/hooks/ops."
    ]
    assert WebhookEndpoint.objects.values().get(pk=endpoint.pk) == before


def test_send_a_test_event_reaches_the_endpoint(
    admin_client, endpoint, receiver, sends_run_at_once, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:webhooks_endpoint_test", args=[endpoint.pk]))

    assert response.status_code == 302
    assert response.url == reverse("admin:webhooks_webhookdelivery_changelist") + f"?endpoint__id__exact={endpoint.pk}"
    [post] = receiver.posts
    payload = verify(endpoint, post)
    assert payload["type"] == "webhook.test" and payload["data"]["endpoint"] == "Ops chat"
    log = admin_client.get(response.url).content.decode()
    assert "webhook.test" in log and "Delivered" in log


def test_the_test_action_on_the_list_sends_one_to_each_selected(admin_client, endpoint, receiver):
    other = WebhookEndpoint.objects.create(name="Pager bridge", url=receiver.url, is_active=False)

    admin_client.post(
        reverse("admin:webhooks_webhookendpoint_changelist"),
        {"action": "send_test_event", "_selected_action": [endpoint.pk, other.pk]},
    )

    assert sorted(WebhookDelivery.objects.values_list("endpoint__name", "event_type")) == [
        ("Ops chat", "webhook.test"),
        ("Pager bridge", "webhook.test"),
    ]


def test_rotating_the_secret_shows_the_new_one_once_and_the_old_one_stops_verifying(admin_client, endpoint, receiver):
    old = endpoint.secret

    response = admin_client.post(reverse("admin:webhooks_endpoint_rotate", args=[endpoint.pk]))

    new = WebhookEndpoint.objects.get(pk=endpoint.pk).secret
    assert new != old and new in response.content.decode()
    assert new not in admin_client.get(change_url(endpoint)).content.decode()
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event_type="webhook.test", payload={"type": "x"})
    from webhooks import sending

    sending.send(delivery.pk)
    [post] = receiver.posts
    Webhook(new).verify(post["body"], post["headers"])
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(post["body"], post["headers"])


def test_the_buttons_change_nothing_on_a_get(admin_client, endpoint):
    secret = endpoint.secret

    assert admin_client.get(reverse("admin:webhooks_endpoint_rotate", args=[endpoint.pk])).status_code == 403
    assert admin_client.get(reverse("admin:webhooks_endpoint_test", args=[endpoint.pk])).status_code == 403

    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == secret
    assert not WebhookDelivery.objects.exists()


def test_the_endpoint_page_lists_its_latest_deliveries_newest_first(admin_client, endpoint):
    for event in ("monitor.down", "monitor.up"):
        WebhookDelivery.objects.create(endpoint=endpoint, event_type=event, payload={})

    page = admin_client.get(change_url(endpoint)).content.decode()
    log = page[page.index("Latest deliveries") :]

    assert log.index("monitor.up") < log.index("monitor.down")
    assert "All deliveries" in page


def test_deliveries_are_a_record_nobody_edits(admin_client, endpoint):
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event_type="monitor.down", payload={"type": "x"})
    url = reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk])

    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"state": "delivered"}).status_code == 403
    assert admin_client.get(reverse("admin:webhooks_webhookdelivery_add")).status_code == 403
    assert WebhookDelivery.objects.get(pk=delivery.pk).state == "queued"


def test_staff_who_are_not_superusers_see_no_endpoints(client, operator, endpoint):
    from django.contrib.auth.models import Permission

    operator.is_staff = True
    operator.save()
    operator.user_permissions.add(*Permission.objects.filter(content_type__app_label="webhooks"))
    log_in_with_second_factor(client, operator)

    assert client.get(change_url(endpoint)).status_code in (302, 403)
    assert client.get(reverse("admin:webhooks_webhookendpoint_changelist")).status_code == 403
    assert client.post(reverse("admin:webhooks_endpoint_rotate", args=[endpoint.pk])).status_code == 403
    assert client.post(reverse("admin:webhooks_endpoint_test", args=[endpoint.pk])).status_code == 403
    assert not WebhookDelivery.objects.exists()
