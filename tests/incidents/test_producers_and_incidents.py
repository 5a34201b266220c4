"""Every producer meets every state of an incident for the same machine or guest, with real peers:
a power-cycle run against the simulated PDU, a password reveal, an S3 backup check against moto,
a heartbeat ping. For each: nothing open, an open incident of its own cause, an open incident of
another cause, one already resolved. What a volunteer finds on which timeline afterwards."""

import pytest
from django.utils import timezone

from backups.models import BackupState, BackupTarget, HeartbeatPing
from hosts.models import Guest
from incidents import policy
from incidents.models import Incident, TimelineEntry

from .conftest import COMMUNITY, power_cycle, put

pytestmark = pytest.mark.django_db

Kind = TimelineEntry.Kind
POWER = [Kind.POWER_REQUESTED, Kind.POWER_DONE]


def kinds(entries):
    return list(entries.values_list("kind", flat=True))


def machine_only(machine):
    """Entries on the machine's own timeline that are on no incident."""
    return TimelineEntry.objects.filter(machine=machine, incident=None)


# --- A power-cycle ------------------------------------------------------------------------------------


def test_a_power_cycle_with_nothing_open_is_on_the_machines_timeline_and_opens_no_incident(outlet, dom0, operator):
    action = power_cycle(outlet, operator)

    assert action.incident is None
    assert not Incident.objects.exists()
    assert kinds(machine_only(dom0)) == POWER


def test_a_power_cycle_during_an_outage_joins_it(outlet, dom0, operator, outage):
    action = power_cycle(outlet, operator)

    assert action.incident == outage
    on_outage = outage.timeline.filter(kind__in=POWER)
    assert kinds(on_outage) == POWER
    assert all(entry.machine == dom0 for entry in on_outage)  # on the machine's timeline as well
    assert Incident.objects.count() == 1


def test_a_power_cycle_during_an_outage_a_monitor_opened_joins_it(outlet, dom0, operator):
    key = policy.outage_key(dom0)
    monitors, _ = policy.report(
        Incident.Cause.OUTAGE, key, title="dom0 down", note="No ping.", kind=Kind.CHECK_FAILED, machines=[dom0]
    )

    action = power_cycle(outlet, operator)

    assert action.incident == monitors
    assert kinds(monitors.timeline.filter(kind__in=POWER)) == POWER


def test_a_power_cycle_does_not_join_a_backup_incident(outlet, dom0, operator, backup_incident):
    action = power_cycle(outlet, operator)

    assert action.incident is None
    assert not backup_incident.timeline.filter(kind__in=POWER).exists()
    assert kinds(machine_only(dom0)) == POWER
    assert Incident.objects.count() == 1


def test_the_next_good_backup_resolves_its_incident_and_leaves_the_outage_and_the_power_cycle_alone(
    outlet, dom0, operator, outage, etc_backup, backup_incident
):
    action = power_cycle(outlet, operator)

    HeartbeatPing.receive(etc_backup, "success")

    backup_incident.refresh_from_db()
    outage.refresh_from_db()
    action.refresh_from_db()
    assert backup_incident.status == Incident.Status.RESOLVED
    assert outage.is_open
    assert action.incident == outage
    assert kinds(outage.timeline.filter(kind__in=POWER)) == POWER
    assert not outage.timeline.filter(kind=Kind.BACKUP).exists()


def test_a_power_cycle_after_the_outage_was_resolved_stays_off_it(outlet, dom0, operator, outage):
    outage.resolve(by=operator, note="dom0 is back.")

    action = power_cycle(outlet, operator)

    assert action.incident is None
    assert not outage.timeline.filter(kind__in=POWER).exists()
    assert kinds(machine_only(dom0)) == POWER
    assert Incident.objects.count() == 1


# --- A password reveal ----------------------------------------------------------------------------------


def reveal(controller, dom0, operator):
    secret = controller.reveal_secret(by=operator, reason="PDU web UI to check the breaker", machine=dom0)
    assert secret == COMMUNITY
    return TimelineEntry.objects.get(kind=Kind.SECRET_REVEALED)


def test_revealing_a_password_opens_no_incident_and_is_audited_on_the_machine(controller, dom0, operator):
    entry = reveal(controller, dom0, operator)

    assert not Incident.objects.exists()
    assert (entry.machine, entry.incident, entry.author) == (dom0, None, operator)
    assert "Otto revealed the password of pdu-harbor-1" in entry.body
    assert "Reason: PDU web UI to check the breaker" in entry.body
    assert not entry.is_public


def test_revealing_a_password_during_an_outage_is_audited_on_the_outage_too(controller, dom0, operator, outage):
    entry = reveal(controller, dom0, operator)

    assert (entry.machine, entry.incident) == (dom0, outage)
    assert Incident.objects.count() == 1


def test_revealing_a_password_stays_off_a_backup_incident(controller, dom0, operator, backup_incident):
    entry = reveal(controller, dom0, operator)

    assert (entry.machine, entry.incident) == (dom0, None)
    assert Incident.objects.count() == 1


def test_revealing_a_password_after_the_outage_was_resolved_stays_off_it(controller, dom0, operator, outage):
    outage.resolve(by=operator)

    entry = reveal(controller, dom0, operator)

    assert entry.incident is None
    assert Incident.objects.count() == 1


# --- An S3 backup check ------------------------------------------------------------------------------------


def test_a_failing_backup_opens_one_backup_incident_for_the_wiki(s3, bucket, make_target, wiki):
    put(s3, bucket, "wiki/2026-11-20.tar", 5000, encrypted=False)
    target = make_target(bucket)

    target.run_check()
    target.run_check()  # still unencrypted: nothing more to tell

    incident = Incident.objects.get()
    assert (incident.cause, incident.cause_key) == (Incident.Cause.BACKUP, f"backup:{target.pk}")
    assert incident.title_by_switchboard and not incident.is_public
    assert list(incident.guests.all()) == [wiki]
    assert kinds(incident.timeline) == [Kind.BACKUP]


def test_two_failing_backups_of_the_wiki_are_two_incidents(s3, bucket, make_target):
    put(s3, bucket, "wiki/2026-11-20.tar", 5000, encrypted=False)
    nightly, weekly = make_target(bucket), make_target(bucket)

    nightly.run_check()
    weekly.run_check()

    nightly.refresh_from_db()
    weekly.refresh_from_db()
    assert nightly.incident != weekly.incident
    assert Incident.objects.filter(status=Incident.Status.INVESTIGATING).count() == 2


def test_a_failing_backup_does_not_join_the_wiki_outage_and_its_recovery_leaves_the_outage_open(
    s3, bucket, make_target, outage
):
    put(s3, bucket, "wiki/2026-11-20.tar", 5000, encrypted=False)
    target = make_target(bucket)
    target.run_check()
    target.refresh_from_db()
    assert target.incident != outage

    put(s3, bucket, "wiki/2026-11-21.tar.gpg", 5000)
    assert target.run_check().state == BackupState.OK

    outage.refresh_from_db()
    assert outage.is_open
    assert not outage.timeline.filter(kind=Kind.BACKUP).exists()
    assert Incident.objects.get(cause=Incident.Cause.BACKUP).status == Incident.Status.RESOLVED


def test_a_backup_failing_again_after_it_recovered_opens_a_new_incident(s3, bucket, make_target):
    put(s3, bucket, "wiki/2026-11-20.tar", 5000, encrypted=False)
    target = make_target(bucket)
    target.run_check()
    put(s3, bucket, "wiki/2026-11-21.tar.gpg", 5000)
    target.run_check()
    first = Incident.objects.get()

    put(s3, bucket, "wiki/2026-11-22.tar", 5000, encrypted=False)
    target.run_check()

    target.refresh_from_db()
    assert target.incident.is_open and target.incident != first
    first.refresh_from_db()
    assert first.status == Incident.Status.RESOLVED


def test_a_backup_incident_a_person_resolved_stays_resolved_while_nothing_changes(s3, bucket, make_target, operator):
    put(s3, bucket, "wiki/2026-11-20.tar", 5000, encrypted=False)
    target = make_target(bucket)
    target.run_check()
    incident = Incident.objects.get()
    incident.resolve(by=operator, note="Known: the old job, replaced next week.")

    target.run_check()

    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    assert Incident.objects.count() == 1


# --- One S3 endpoint that does not answer, five targets on it ---------------------------------------------


@pytest.fixture
def five_on_a_dead_endpoint(make_target, bucket, dom0, wiki, dead_endpoint):
    """Four guests' backups and dom0's own, all on one S3 endpoint that does not answer."""
    guests = [wiki] + [
        Guest.objects.create(name=f"{name}.example.org", machine=dom0) for name in ("mail", "chat", "git")
    ]
    targets = [make_target(bucket, guest=guest, endpoint_url=dead_endpoint) for guest in guests]
    targets.append(make_target(bucket, guest=None, machine=dom0, prefix="etc/", endpoint_url=dead_endpoint))
    for target in targets:
        assert target.run_check().state == BackupState.ERROR
    return targets


def good_again(target, s3, s3_server, bucket):
    """The target's backups move to an endpoint that answers, with a fresh encrypted backup there."""
    put(s3, bucket, f"{target.prefix}{timezone.now():%Y-%m-%dT%H%M%S%f}.tar.gpg", 5000)
    BackupTarget.objects.filter(pk=target.pk).update(endpoint_url=s3_server.endpoint)
    target.refresh_from_db()
    assert target.run_check().state == BackupState.OK


def test_an_s3_endpoint_that_does_not_answer_is_one_incident_listing_everything_on_it(
    five_on_a_dead_endpoint, dead_endpoint, dom0
):
    incident = Incident.objects.get()
    assert incident.cause_key == f"s3:{dead_endpoint}"
    assert incident.title == f"Backups cannot be checked: {dead_endpoint} does not answer"
    names = {"wiki.example.org", "mail.example.org", "chat.example.org", "git.example.org"}
    assert {guest.name for guest in incident.guests.all()} == names
    assert list(incident.machines.all()) == [dom0]
    assert incident.timeline.filter(kind=Kind.BACKUP).count() == 5


def test_one_target_good_again_leaves_the_endpoint_incident_open(five_on_a_dead_endpoint, s3, s3_server, bucket):
    wiki_nightly = five_on_a_dead_endpoint[0]

    good_again(wiki_nightly, s3, s3_server, bucket)

    incident = Incident.objects.get()
    assert incident.is_open
    assert incident.timeline.filter(kind=Kind.BACKUP).count() == 6  # the wiki's recovery is noted
    wiki_nightly.refresh_from_db()
    assert wiki_nightly.incident is None


def test_the_endpoint_incident_is_resolved_when_every_target_has_left_it(
    five_on_a_dead_endpoint, s3, s3_server, bucket
):
    incident = Incident.objects.get()
    for target in five_on_a_dead_endpoint[:-1]:
        good_again(target, s3, s3_server, bucket)
        incident.refresh_from_db()
        assert incident.is_open

    good_again(five_on_a_dead_endpoint[-1], s3, s3_server, bucket)

    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    assert Incident.objects.count() == 1


# --- A heartbeat ping ---------------------------------------------------------------------------------------


def test_a_failure_ping_opens_a_backup_incident_for_the_machine(etc_backup, dom0):
    HeartbeatPing.receive(etc_backup, "fail")

    incident = Incident.objects.get()
    assert (incident.cause, incident.cause_key) == (Incident.Cause.BACKUP, f"backup:{etc_backup.pk}")
    assert incident.title == "dom0 backups failing (dom0 /etc)"
    assert incident.title_by_switchboard and not incident.is_public
    assert list(incident.machines.all()) == [dom0]


def test_a_second_failure_ping_adds_nothing_and_a_success_resolves_it(etc_backup, backup_incident):
    HeartbeatPing.receive(etc_backup, "fail")
    assert Incident.objects.count() == 1
    assert backup_incident.timeline.count() == 1

    HeartbeatPing.receive(etc_backup, "success")

    backup_incident.refresh_from_db()
    assert backup_incident.status == Incident.Status.RESOLVED


def test_a_failure_ping_during_an_outage_is_its_own_incident_and_success_leaves_the_outage(etc_backup, outage):
    HeartbeatPing.receive(etc_backup, "fail")
    etc_backup.refresh_from_db()
    assert etc_backup.incident != outage

    HeartbeatPing.receive(etc_backup, "success")

    outage.refresh_from_db()
    assert outage.is_open
    assert not outage.timeline.filter(kind=Kind.BACKUP).exists()


def test_a_failure_ping_after_the_backup_incident_was_resolved_opens_a_new_one(etc_backup, backup_incident):
    HeartbeatPing.receive(etc_backup, "success")

    HeartbeatPing.receive(etc_backup, "fail")

    etc_backup.refresh_from_db()
    assert etc_backup.incident.is_open and etc_backup.incident != backup_incident
    backup_incident.refresh_from_db()
    assert backup_incident.status == Incident.Status.RESOLVED


# --- What the public reads ---------------------------------------------------------------------------------------


def status_page(client):
    response = client.get("/status/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_status_page_hides_an_incident_switchboard_titled_even_if_made_public_by_an_update(client, backup_incident):
    Incident.objects.filter(pk=backup_incident.pk).update(is_public=True)

    html = status_page(client)

    assert "dom0 backups failing" not in html
    assert "dom0" not in html


def test_the_status_page_shows_no_switchboard_entries_of_a_public_outage(client, outlet, operator, outage):
    outage.is_public = True
    outage.full_clean()
    outage.save()
    outage.note("We are driving to the colo.", by=operator, is_public=True)
    outage.note("Alert sent to the on-call.", is_public=True)
    power_cycle(outlet, operator)

    html = status_page(client)

    assert "dom0 down: wiki offline" in html and "We are driving to the colo." in html
    assert "Alert sent to the on-call." not in html
    assert "asked for a power-cycle" not in html and "outlet 4" not in html


def test_after_a_person_retitles_it_the_status_page_shows_their_title(client, backup_incident):
    backup_incident.retitle("Some backups are late")
    backup_incident.is_public = True
    backup_incident.full_clean()
    backup_incident.save()

    html = status_page(client)

    assert "Some backups are late" in html
    assert "dom0 backups failing" not in html
    assert "dom0 /etc" not in html  # Switchboard's note on it stays with the members
