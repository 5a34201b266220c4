"""The admin lists every owner notice, read-only (a record, like the timeline), and lets an admin add
or remove a subscription."""

import pytest
from django.urls import reverse

from notices.models import OwnerNotice, OwnerSubscription

from .conftest import press

pytest_plugins = ["tests.cast"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sends_run_at_once")]


def test_owner_notices_are_listed_and_cannot_be_changed_or_deleted(
    published, operator_client, admin_client, mailbox, webhook, django_capture_on_commit_callbacks
):
    press(operator_client, published, django_capture_on_commit_callbacks)
    notice = OwnerNotice.objects.get(channel="json")

    listing = admin_client.get(reverse("admin:notices_ownernotice_changelist"))
    page = admin_client.get(reverse("admin:notices_ownernotice_change", args=[notice.pk]))

    assert listing.status_code == 200 and "ops@wiki.example.org" in listing.content.decode()
    assert page.status_code == 200 and "Max Example&#x27;s json" in page.content.decode()
    assert str(webhook.port) not in page.content.decode()
    assert admin_client.get(reverse("admin:notices_ownernotice_add")).status_code == 403
    delete = reverse("admin:notices_ownernotice_delete", args=[notice.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert OwnerNotice.objects.filter(pk=notice.pk).exists()


def test_an_admin_adds_a_subscription(owners, admin_client):
    wiki = owners["Wiki Project"]

    response = admin_client.post(
        reverse("admin:notices_ownersubscription_add"), {"organization": wiki.pk, "address": "New@Wiki.example.org"}
    )

    assert response.status_code == 302
    assert list(OwnerSubscription.objects.values_list("address", flat=True)) == ["new@wiki.example.org"]
