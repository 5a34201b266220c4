"""Two volunteers on two phones press at the same moment: the incident is resolved once, owners
hear it once, and a resolve racing a status change never leaves it silently reopened."""

import threading

import pytest
from django.db import connection

from incidents.models import Incident, TimelineEntry

pytest_plugins = ["tests.cast"]


def _at_once(*calls):
    """Run the calls in threads released together; returns what each returned (or raised)."""
    start = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(n, call):
        try:
            start.wait(5)
            results[n] = call()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[n] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_resolve_presses_resolve_it_once(scene, operator):
    def resolve():
        return Incident.objects.get(pk=scene.incident.pk).resolve(by=operator, note="Resolved.")

    results = _at_once(resolve, resolve)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r is not None for r in results) == 1  # one of them did it; the other found it done
    resolved = scene.incident.timeline.filter(kind=TimelineEntry.Kind.STATUS, body="Resolved.")
    assert resolved.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_resolve_racing_a_status_change_ends_in_one_clear_state(scene, operator):
    def resolve():
        return Incident.objects.get(pk=scene.incident.pk).resolve(by=operator, note="Resolved.")

    def monitoring():
        return Incident.objects.get(pk=scene.incident.pk).change_status("monitoring", by=operator)

    _at_once(resolve, monitoring)

    incident = Incident.objects.get(pk=scene.incident.pk)
    bodies = list(incident.timeline.filter(kind=TimelineEntry.Kind.STATUS).values_list("body", flat=True))
    if incident.status == Incident.Status.RESOLVED:
        assert bodies[-1] == "Resolved."
    else:  # the status change came second: it says it reopened the incident
        assert incident.resolved_at is None and bodies[-1].startswith("Reopened")


@pytest.mark.django_db
def test_reopening_an_old_outage_points_to_the_newer_one(operator_client, scene):
    from incidents import policy

    scene.incident.resolve(note="Resolved.")  # the scene's own, a person's: out of the way
    key = policy.outage_key(scene.machine)
    old, _ = policy.report("outage", key, title="dom0 down", note="down", kind="check_failed", machines=[scene.machine])
    old.resolve(note="Resolved.")
    newer, _ = policy.report(
        "outage", key, title="dom0 down again", note="down", kind="check_failed", machines=[scene.machine]
    )

    response = operator_client.post(f"/incidents/{old.pk}/status/", {"status": "investigating"})

    assert response.status_code == 400
    assert f"(#{newer.pk})" in response.content.decode()
    old.refresh_from_db()
    assert old.status == Incident.Status.RESOLVED


@pytest.mark.django_db
def test_a_strange_number_in_the_poll_is_a_clean_answer(member_client, scene):
    response = member_client.get(f"/incidents/{scene.incident.pk}/timeline/new/", {"after": "²"})
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_double_tap_on_add_adds_one_action_item(operator_client, scene):
    for _ in range(2):
        operator_client.post(f"/incidents/{scene.incident.pk}/actions/", {"title": "Order a spare PSU"})
    assert scene.incident.action_items.filter(title="Order a spare PSU").count() == 1
