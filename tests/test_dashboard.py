"""The dashboard shows what needs attention now: open incidents, machines down, failing
backups, contracts ending soon and people whose contacts nobody confirmed lately."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backups.models import BackupState, BackupTarget
from coop.models import ContactMethod, Contract
from incidents.models import Incident

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


def section(html, heading):
    start = html.index(heading)
    return html[start : html.find("</section>", start)]


def dashboard(client):
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_open_incidents_and_machines_down(member_client, scene):
    html = dashboard(member_client)
    assert "dom0 down: wiki offline" in section(html, "Open incidents")
    down = section(html, "Machines down")
    assert "dom0.harbor.example.org" in down
    assert "host0.harbor.example.org" not in down  # its monitor says up


def test_resolved_incidents_leave_the_dashboard(member_client, scene):
    for incident in Incident.objects.all():
        incident.resolve(note="fixed")
    assert "None. All quiet." in section(dashboard(member_client), "Open incidents")


def test_failing_and_stale_backups_but_not_ok_or_unchecked_ones(member_client, scene):
    BackupTarget.objects.create(name="never-checked", kind="heartbeat", machine=scene.machine)
    html = section(dashboard(member_client), "Backups failing or stale")
    assert "wiki-s3" in html and "Stale" in html
    assert "dom0-etc" not in html  # ok
    assert "never-checked" not in html


def test_a_backup_that_could_not_be_checked_counts_as_failing(member_client, scene):
    BackupTarget.objects.filter(name="dom0-etc").update(state=BackupState.ERROR)
    assert "dom0-etc" in section(dashboard(member_client), "Backups failing or stale")


def test_contracts_ending_soon(member_client, scene):
    today = timezone.localdate()
    Contract.objects.create(provider=scene.wiki_owner, covers="far away", ends_on=today + timedelta(days=400))
    Contract.objects.create(
        provider=scene.wiki_owner, covers="long notice", ends_on=today + timedelta(days=80), notice_days=90
    )
    html = section(dashboard(member_client), "Contracts ending soon")
    assert "half rack" in html  # ends in 20 days
    assert "long notice" in html  # 80 days, but 90 days' notice needed
    assert "far away" not in html


def test_people_with_unconfirmed_contacts(member_client, scene):
    html = section(dashboard(member_client), "People to re-check")
    assert "Volunteer 0" in html  # never confirmed
    assert "Noor Example" in html  # his email was never confirmed
    ContactMethod.objects.filter(person=scene.noor).update(verified_at=timezone.now())
    assert "Noor Example" not in section(dashboard(member_client), "People to re-check")


def test_the_dashboard_offers_search(member_client, scene):
    assert '<form class="big-search" action="/search/" method="get"' in dashboard(member_client)
