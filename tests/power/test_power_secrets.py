"""Credentials never leave the database: not in task arguments, results, logs or error messages."""

import logging
from unittest import mock

import pytest

from power.models import PowerAction
from power.tasks import dispatch, run_power_action

from .conftest import COMMUNITY


@pytest.mark.django_db
def test_community_is_not_in_task_arguments_results_or_logs(scene, pdu, operator, caplog):
    caplog.set_level(logging.DEBUG)
    action, _ = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="dom0 frozen", by=operator)
    with mock.patch.object(run_power_action, "apply_async") as apply_async:
        dispatch(action)
    sent = repr(apply_async.call_args)
    assert COMMUNITY not in sent and "127.0.0.1" not in sent

    result = run_power_action(action.pk)

    assert COMMUNITY not in repr(result)
    action.refresh_from_db()
    assert COMMUNITY not in action.result + action.error
    assert COMMUNITY not in caplog.text


@pytest.mark.django_db
def test_a_failure_logs_no_community(scene, pdu, operator, caplog):
    caplog.set_level(logging.DEBUG)
    pdu.silent = True
    action, _ = PowerAction.request(outlet=scene.outlet, operation="cycle", reason="dom0 frozen", by=operator)
    run_power_action(action.pk)
    action.refresh_from_db()
    assert action.state == PowerAction.State.FAILED
    assert COMMUNITY not in caplog.text + action.error
