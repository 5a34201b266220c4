"""The PDU goes silent mid-command: the reboot reaches it and is carried out, but its answer, and every answer
after it, is lost.

A real worker never sends the reboot again (a reboot sent twice reboots twice), stops reading back within
its deadline, and ends the action failed with words that tell the operator the reboot may have happened
and to check before trying again. When the PDU answers again nothing is re-sent by itself.
"""

import time

import pytest
from django.test import Client
from django.urls import reverse

from core.access import OPERATORS
from power.drivers.snmp import READ_TRIES, REBOOT
from power.models import PowerAction
from tests.cast import make_user
from tests.power.conftest import pass_mfa, power_form

from .conftest import FAST_POWER, timed, wait_for

FAULT = "PDU silent mid-command"
ORDER = 5
BOUND = 1.0  # seconds the press may take


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.xdist_group("faults")
def test_a_reboot_whose_answer_is_lost_is_never_sent_again_and_says_to_check_first(
    fault, workers, beat, scene, pdu, django_user_model, monkeypatch
):
    worker = workers("power", **FAST_POWER)
    operator = pass_mfa(Client(), make_user(django_user_model, "otto", OPERATORS))
    answers_lost = True
    answer = pdu.handle

    def handle(message):
        # The SET is applied, then the PDU falls silent: its answer to the SET is the first one lost.
        said = answer(message)
        if answers_lost and pdu.sets:
            pdu.silent = True
        return None if pdu.silent else said

    monkeypatch.setattr(pdu, "handle", handle)
    timeout = scene.controller.timeout.total_seconds()
    # The reboot's one try, then reading back every POWER_POLL_INTERVAL until POWER_VERIFY_SECONDS have passed
    # (each reading gives up after READ_TRIES timeouts), then up to two seconds to record it on a busy machine.
    bound = timeout + int(FAST_POWER["POWER_VERIFY_SECONDS"]) + READ_TRIES * timeout + 2

    response, took = timed(operator.post, reverse("power_request", args=[scene.machine.hostname]), power_form(scene))
    assert response.status_code == 302
    fault.page("power-cycle POST", took, response.status_code, BOUND)
    action = PowerAction.objects.get()
    sent = wait_for(lambda: pdu.sets_for(4), "the reboot to reach the PDU", timeout=15, log=worker)
    wait_for(
        lambda: PowerAction.objects.get(pk=action.pk).is_finished,
        "the action to end",
        timeout=bound + 10,
        log=worker,
    )
    ended_after = time.time() - sent[0].at
    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, REBOOT)]
    assert ended_after < bound, f"ended {ended_after:.1f} s after the reboot went out (bound {bound:.1f} s)"
    assert "never sent twice" in action.error
    assert "check" in action.error.lower() and "before trying again" in action.error, action.error
    page = operator.get(reverse("power_action", args=[scene.machine.hostname, action.pk]), HTTP_HX_REQUEST="true")
    assert "before trying again" in page.content.decode() and "hx-trigger" not in page.content.decode()
    fault.kept.add(f"the action ended failed {ended_after:.1f} s after the reboot went out (bound {bound:.1f} s)")
    fault.kept.add("its error says to check the outlet before trying again")

    # The PDU answers again: nothing sends the reboot by itself (beat's sweep leaves finished actions alone).
    answers_lost = False
    pdu.silent = False
    sweeps = beat("power.sweep_power_actions", every=0.3)
    wait_for(lambda: sweeps.sent >= 3, "a few sweeps", timeout=10)
    time.sleep(0.5)
    assert [(record.outlet, record.value) for record in pdu.sets] == [(4, REBOOT)]
    fault.duplicates.add(f"PDU SETs: {len(pdu.sets)} (never re-sent, not even once it answered again)")
    fault.recovered.add("on purpose not: a person checks the outlet, then asks again", verdict="n/a")
