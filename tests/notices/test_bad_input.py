"""Pressing "Notify affected owners" when there is nothing to tell, or nobody to tell it to, says why
and sends nothing; only an operator (with their second factor) may press it."""

import pytest
from django.urls import reverse

from coop.models import ContactMethod
from notices.models import OwnerNotice
from notices.owners import PUBLISH_FIRST

from .conftest import press

pytest_plugins = ["tests.cast"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sends_run_at_once")]


def test_a_private_incident_tells_nobody(outage, operator_client, mailbox, django_capture_on_commit_callbacks):
    response, said, _ = press(operator_client, outage, django_capture_on_commit_callbacks)

    assert response.status_code == 302 and said == [PUBLISH_FIRST]
    assert not OwnerNotice.objects.exists() and not mailbox.messages


def test_a_public_incident_without_a_public_update_tells_nobody(
    outage, operator, operator_client, mailbox, django_capture_on_commit_callbacks
):
    outage.publish(by=operator, title="Hosting outage")
    outage.post_update("Noor is driving to the colo.", by=operator, public=False)

    _, said, _ = press(operator_client, outage, django_capture_on_commit_callbacks)

    assert said == [PUBLISH_FIRST]
    assert not OwnerNotice.objects.exists() and not mailbox.messages


def test_owners_with_no_address_are_named(
    published, owners, operator_client, mailbox, django_capture_on_commit_callbacks
):
    for name in ("Wiki Project", "Mail Collective"):
        owners[name].email = ""
        owners[name].save()
    ContactMethod.objects.filter(person__organization__in=[owners["Wiki Project"], owners["Mail Collective"]]).delete()

    _, said, _ = press(operator_client, published, django_capture_on_commit_callbacks)

    [message] = said
    assert message.startswith("Telling 1 owner (1 address) about the update of ")
    assert message.endswith("No way to reach Mail Collective, Wiki Project: add an email address in the admin.")
    assert [m["to"] for m in mailbox.wait_for(1)] == [["bea@blog.example.org"]]


def test_nobody_to_reach_is_said_and_nothing_is_written(
    published, owners, operator_client, mailbox, django_capture_on_commit_callbacks
):
    for name in ("Wiki Project", "Mail Collective", "Blog Club"):
        owners[name].email = ""
        owners[name].save()
    ContactMethod.objects.all().delete()

    _, said, _ = press(operator_client, published, django_capture_on_commit_callbacks)

    assert said == [
        "No way to reach Blog Club, Mail Collective, Wiki Project: give the organisation an email address, "
        "or its people an email contact method, in the admin."
    ]
    assert not OwnerNotice.objects.exists() and not published.timeline.filter(kind="owners_told").exists()


def test_a_member_cannot_notify_owners(published, member_client, mailbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(reverse("incident_notify_owners", args=[published.pk]))

    assert response.status_code == 403
    assert not OwnerNotice.objects.exists() and not mailbox.messages


def test_an_operator_without_a_code_this_session_is_asked_for_one(published, operator, client, mailbox):
    client.force_login(operator)

    response = client.post(reverse("incident_notify_owners", args=[published.pk]))

    assert response.status_code == 302 and "/accounts/" in response.url
    assert not OwnerNotice.objects.exists()


def test_notify_is_a_post(published, operator_client):
    assert operator_client.get(reverse("incident_notify_owners", args=[published.pk])).status_code == 405
    assert not OwnerNotice.objects.exists()


def test_an_unknown_incident_is_a_404(db, operator_client):
    assert operator_client.post("/incidents/999999/notify-owners/").status_code == 404
