"""Times are shown in the viewer's own time zone: nobody converts from UTC at 3 a.m."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coop.models import Person
from incidents.models import Incident

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db

STARTED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def incident():
    return Incident.objects.create(title="dom0 down", started_at=STARTED)


def test_a_volunteer_in_california_reads_pacific_time(member_client, member, incident):
    Person.objects.create(name="Mira", user=member, timezone="America/Los_Angeles")

    page = member_client.get(f"/incidents/{incident.pk}/").content.decode()

    assert "Started 2026-11-20 04:00 PST" in page


def test_someone_without_a_person_record_reads_the_servers_time(member_client, incident):
    page = member_client.get(f"/incidents/{incident.pk}/").content.decode()

    assert "Started 2026-11-20 12:00 UTC" in page


def test_the_zone_is_looked_up_once_per_session(member_client, member, incident):
    Person.objects.create(name="Mira", user=member, timezone="Europe/Berlin")
    member_client.get("/")

    # The second page of the session asks the database nothing about the viewer's zone.
    with CaptureQueriesContext(connection) as queries:
        page = member_client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Started 2026-11-20 13:00 CET" in page
    assert not any("coop_person" in q["sql"] and '"user_id" =' in q["sql"] for q in queries.captured_queries)


def test_a_time_written_into_the_timeline_is_in_the_coops_zone_whoever_wrote_it(settings):
    from django.utils import timezone

    from core.clock import coop_time

    settings.TIME_ZONE = "America/Los_Angeles"
    # Priya's request runs in her own zone; the sentence she causes to be saved must not.
    with timezone.override("Europe/London"):
        assert coop_time(STARTED) == "2026-11-20 04:00 PST"
