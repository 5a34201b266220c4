"""Oona asks for PSU B to be switched off at the moment Otto asks for all of dom0's outlets to be cycled:
the outlets are locked in one order, so exactly one of them gets PSU B, and the other is told why."""

import threading

import pytest
from django.db import connection

from power.models import PowerAction, PowerActionRefused, PowerOutlet, PowerStep

ROUNDS = 5


def race(*requests):
    """Run the requests at the same moment, each on its own connection; returns True (created) or "refused"."""
    start, outcomes = threading.Barrier(len(requests)), []

    def ask(request):
        try:
            start.wait(5)
            outcomes.append(request()[1])
        except PowerActionRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return sorted(outcomes, key=str)


@pytest.mark.django_db(transaction=True)
def test_two_requests_racing_for_one_outlet_never_both_get_it(scene, operator, second_operator):
    psu_b = PowerOutlet.objects.create(controller=scene.controller, number=6, machine=scene.machine, label="PSU B")

    def whole():
        return PowerAction.request_all_outlets(machine=scene.machine, operation="cycle", reason="frozen", by=operator)

    def single():
        return PowerAction.request(outlet=psu_b, operation="off", reason="PSU B smokes", by=second_operator)

    for _ in range(ROUNDS):
        assert race(whole, single) == [True, "refused"]
        single_active = PowerAction.objects.filter(outlet=psu_b, state__in=PowerAction.ACTIVE_STATES).count()
        whole_active = PowerStep.objects.filter(outlet=psu_b, action__state__in=PowerAction.ACTIVE_STATES)
        assert single_active + whole_active.values("action").distinct().count() == 1
        for action in PowerAction.objects.filter(state__in=PowerAction.ACTIVE_STATES):
            action.fail("cleared for the next round")
