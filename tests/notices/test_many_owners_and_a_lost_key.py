"""A press for a host with hundreds of owners is a handful of queries, and one contact whose alert
URL cannot be decrypted (the key changed) is skipped, not a reason to tell nobody."""

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coop.models import ContactMethod, Organization
from hosts.models import Guest
from notices.models import OwnerNotice

from .conftest import press

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


def test_a_press_for_300_owners_is_a_few_queries(published, operator_client, django_capture_on_commit_callbacks):
    host = published.machines.get()
    for n in range(300):
        org = Organization.objects.create(
            name=f"Project {n}", slug=f"bulk-project-{n}", email=f"ops{n}@p{n}.example.org"
        )
        Guest.objects.create(name=f"vm{n}.example.org", machine=host, owner=org)

    with CaptureQueriesContext(connection) as queries:
        response, said, _ = press(operator_client, published, django_capture_on_commit_callbacks, execute=False)

    assert response.status_code == 302, said
    assert OwnerNotice.objects.filter(incident=published).count() >= 300
    assert len(queries) < 60, f"{len(queries)} queries for one press"


def test_an_undecryptable_alert_url_is_skipped_and_the_rest_are_told(
    published, operator_client, settings, django_capture_on_commit_callbacks
):
    person = Organization.objects.get(name="Mail Collective").people.first()
    ContactMethod.objects.create(
        person=person, kind="ntfy", value="mail-team", alert_url="ntfy://secret-topic", gets_alerts=True
    )
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode(), *settings.FIELD_ENCRYPTION_KEY[1:]]

    response, said, _ = press(operator_client, published, django_capture_on_commit_callbacks, execute=False)

    assert response.status_code == 302, said
    assert OwnerNotice.objects.filter(incident=published, organization__name="Mail Collective").exists()
