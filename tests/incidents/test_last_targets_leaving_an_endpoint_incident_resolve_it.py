"""Two backup targets on one dead S3 endpoint come back at the same moment: the endpoint incident
is resolved, not left open forever with nothing on it. Each asks "is anything else still on it?"
only once it holds the incident's lock, so the second to get there sees the first has left."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from backups.models import BackupState, BackupTarget
from backups.verdicts import Verdict
from incidents import policy
from incidents.models import Incident

ENDPOINT = "https://minio.example.org:9000"


def cannot_reach(target):
    target.record(
        Verdict(BackupState.ERROR, "Could not check: EndpointConnectionError", unreachable=ENDPOINT),
        now=timezone.now(),
    )


def good_again(target):
    target.record(Verdict(BackupState.OK, "Last success ping under a minute ago."), now=timezone.now())


@pytest.fixture
def two_on_a_dead_endpoint(dom0, wiki):
    """The wiki's nightly backup and dom0's /etc, both on one endpoint that does not answer."""
    nightly = BackupTarget.objects.create(name="wiki nightly", kind=BackupTarget.Kind.HEARTBEAT, guest=wiki)
    etc = BackupTarget.objects.create(name="dom0 /etc", kind=BackupTarget.Kind.HEARTBEAT, machine=dom0)
    for target in (nightly, etc):
        cannot_reach(target)
    incident = Incident.objects.get()
    assert incident.cause_key == f"s3:{ENDPOINT}" and incident.is_open
    return nightly, etc


@pytest.mark.django_db(transaction=True)
def test_two_targets_good_again_at_the_same_moment_resolve_the_endpoint_incident(monkeypatch, two_on_a_dead_endpoint):
    # On PostgreSQL the two recoveries run at once: both have read their own target and meet here,
    # before either locks the incident. Had each counted "others still on it" before this point,
    # both would count the other and neither would resolve it. SQLite lets one writer in at a
    # time (the second waits at BEGIN), so there the threads cannot meet: they skip the barrier
    # and the test checks the outcome of the two recoveries one after the other.
    racing = connection.vendor != "sqlite"
    both_read_their_target = threading.Barrier(2)
    real_leave = policy.leave

    def leave_when_both_are_here(*args, **kwargs):
        if racing:
            both_read_their_target.wait(10)
        return real_leave(*args, **kwargs)

    monkeypatch.setattr(policy, "leave", leave_when_both_are_here)
    errors = []

    def worker(pk):
        try:
            good_again(BackupTarget.objects.get(pk=pk))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(target.pk,)) for target in two_on_a_dead_endpoint]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert not errors
    incident = Incident.objects.get()
    assert incident.status == Incident.Status.RESOLVED
    assert not BackupTarget.objects.exclude(incident=None).exists()


@pytest.mark.django_db
def test_a_target_good_again_while_the_other_left_in_the_meantime_resolves_the_endpoint_incident(
    monkeypatch, two_on_a_dead_endpoint
):
    # The same moment, told in one thread so it runs alike on SQLite and PostgreSQL: the /etc
    # backup has read its target and is about to leave the incident when the wiki's recovery
    # runs through in full. The /etc backup, last to leave, must then resolve it.
    nightly, etc = two_on_a_dead_endpoint
    real_leave = policy.leave
    meanwhile = [lambda: good_again(nightly)]

    def the_other_leaves_first(*args, **kwargs):
        if meanwhile:
            meanwhile.pop()()
        return real_leave(*args, **kwargs)

    monkeypatch.setattr(policy, "leave", the_other_leaves_first)

    good_again(etc)

    incident = Incident.objects.get()
    assert incident.status == Incident.Status.RESOLVED
    notes = list(incident.timeline.values_list("body", flat=True))
    assert "Backup “wiki nightly”: Could not check → OK. Last success ping under a minute ago." in notes
    assert "Backup “dom0 /etc”: Could not check → OK. Last success ping under a minute ago." in notes
    assert notes.count("Resolved by Switchboard: everything it reported here is fine again.") == 1
