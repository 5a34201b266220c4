"""Ada reopens an incident in the admin. When Switchboard has since opened a newer one for the same
thing (the same backup failing again), the form says so and names it, instead of a server error."""

import pytest

from backups.models import BackupTarget, HeartbeatPing
from incidents.models import Incident
from tests.factories import make_machine
from tests.test_admin import errors_on_page, open_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def etc_backup():
    """dom0's nightly /etc backup, reporting to its heartbeat URL."""
    dom0 = make_machine(hostname="dom0.harbor.example.org")
    return BackupTarget.objects.create(
        name="dom0 /etc", kind=BackupTarget.Kind.HEARTBEAT, machine=dom0, encryption_required=False
    )


@pytest.fixture
def superseded(etc_backup):
    """The /etc job's first failure, resolved by a person, and the newer incident its next failure opened."""
    HeartbeatPing.receive(etc_backup, "fail", body=b"tar: /etc/shadow: Cannot open")
    first = Incident.objects.get()
    first.resolve(note="Fixed the permissions on /etc/shadow.")
    HeartbeatPing.receive(etc_backup, "success")
    HeartbeatPing.receive(etc_backup, "fail", body=b"tar: /etc/shadow: Cannot open")
    newer = Incident.objects.exclude(status=Incident.Status.RESOLVED).get()
    assert newer != first
    return first, newer


def reopen(client, incident):
    form = open_form(client, Incident, incident).type(status="investigating", resolved_at_0="", resolved_at_1="")
    return form.submit(client)


def test_reopening_an_incident_switchboard_has_opened_a_newer_one_for_says_which(admin_client, superseded):
    first, newer = superseded

    response = reopen(admin_client, first)

    why = (
        f"Switchboard has opened a newer incident for the same thing: #{newer.pk} “{newer.title}”. "
        "Work on that one, or resolve it before reopening this one."
    )
    assert why in errors_on_page(response)
    assert why in response.content.decode()
    first.refresh_from_db()
    newer.refresh_from_db()
    assert first.status == Incident.Status.RESOLVED and newer.is_open


def test_once_the_newer_incident_is_resolved_the_old_one_can_be_reopened(admin_client, superseded):
    first, newer = superseded
    newer.resolve(note="Same cause as before.")

    response = reopen(admin_client, first)

    assert response.status_code == 302, errors_on_page(response)
    first.refresh_from_db()
    assert first.status == Incident.Status.INVESTIGATING and first.resolved_at is None


def test_reopening_an_incident_a_person_opened_is_never_refused(admin_client):
    mine = Incident.objects.create(title="Fremont power outage")
    mine.resolve()
    Incident.objects.create(title="Fremont power outage again")  # people may open as many as they like

    response = reopen(admin_client, mine)

    assert response.status_code == 302, errors_on_page(response)
