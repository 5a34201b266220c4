"""A worker dies after the reboot went out, before saving the result; the redelivered task must not reboot again.

Fast, in-process versions: a raised stand-in for SIGKILL at a chosen point. The real thing (a worker
process killed with SIGKILL, redelivered to another) is test_worker_killed_mid_cycle.py.
"""

import pytest

from power import tasks
from power.models import PowerAction
from power.tasks import run_power_action


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: not an Exception, so no handler in the task catches it."""


@pytest.mark.django_db
def test_redelivered_task_reads_back_instead_of_cycling_again(scene, pdu, operator, monkeypatch):
    action, _ = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="dom0 frozen", by=operator)

    def die_after_the_command(*args, **kwargs):
        raise WorkerKilled

    # The command goes out, then the worker dies before _verify records anything.
    monkeypatch.setattr(tasks, "_verify", die_after_the_command)
    with pytest.raises(WorkerKilled):
        run_power_action(action.pk)
    action.refresh_from_db()
    assert action.state == PowerAction.State.RUNNING and action.command_sent_at is not None
    assert len(pdu.sets_for(4)) == 1

    monkeypatch.undo()
    run_power_action(action.pk)  # the broker delivers the message again (acks_late)

    action.refresh_from_db()
    assert len(pdu.sets_for(4)) == 1, "the outlet was rebooted twice"
    assert action.state == PowerAction.State.SUCCEEDED
    assert "not sent again" in action.result


@pytest.mark.django_db
def test_a_task_that_died_before_sending_sends_on_redelivery(scene, pdu, operator, monkeypatch):
    action, _ = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="dom0 frozen", by=operator)
    monkeypatch.setattr(tasks, "_send", lambda *a, **k: (_ for _ in ()).throw(WorkerKilled()))
    with pytest.raises(WorkerKilled):
        run_power_action(action.pk)
    assert pdu.sets_for(4) == []

    monkeypatch.undo()
    run_power_action(action.pk)

    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED
    assert len(pdu.sets_for(4)) == 1


def test_the_task_acks_late_so_a_killed_worker_s_message_comes_back():
    assert run_power_action.acks_late and run_power_action.reject_on_worker_lost
