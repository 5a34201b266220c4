"""Ada sees the wiki's monitor is checked only every 10 minutes and sets it to 1 minute in the admin:
the next check comes within a minute, not up to 10 minutes later. Switching a paused monitor back on
makes it due at once. A longer interval never pushes a check back."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hosts.models import Monitor
from monitors.checker import check_batch, claim_due
from monitors.models import MonitorStatus
from tests.test_admin import open_form

from ..factories import make_machine
from .test_a_host_that_stops_answering import Listener

pytestmark = pytest.mark.django_db


@pytest.fixture
def service():
    listener = Listener().start()
    yield listener
    listener.stop()


@pytest.fixture
def checked_every_ten_minutes(service):
    """The wiki's monitor, just handed out and checked: its next check is 10 minutes away."""
    monitor = Monitor.objects.create(
        machine=make_machine(hostname="xen1.harbor.example.org"),
        kind="tcp",
        target="127.0.0.1",
        port=service.port,
        timeout=timedelta(seconds=1),
        interval=timedelta(minutes=10),
    )
    assert claim_due() == [monitor.pk]
    check_batch([monitor.pk])
    return monitor


def next_check(monitor):
    return MonitorStatus.objects.get(monitor=monitor).next_check_at


def test_a_shorter_interval_saved_in_the_admin_takes_effect_at_once(admin_client, checked_every_ten_minutes):
    monitor = checked_every_ten_minutes
    assert next_check(monitor) > timezone.now() + timedelta(minutes=9)

    response = open_form(admin_client, Monitor, monitor).type(interval="00:01:00").submit(admin_client)

    assert response.status_code == 302
    assert next_check(monitor) <= timezone.now() + timedelta(minutes=1)
    assert claim_due(timezone.now() + timedelta(seconds=61)) == [monitor.pk]


def test_a_shorter_interval_set_from_code_takes_effect_too(checked_every_ten_minutes):
    monitor = checked_every_ten_minutes
    monitor.interval = timedelta(seconds=30)
    before = timezone.now()

    monitor.save()

    assert before < next_check(monitor) <= timezone.now() + timedelta(seconds=30)


def test_a_longer_interval_does_not_push_the_next_check_back(checked_every_ten_minutes):
    monitor = checked_every_ten_minutes
    due = next_check(monitor)

    monitor.interval = timedelta(hours=1)
    monitor.save()

    assert next_check(monitor) == due


def test_saving_something_else_leaves_the_schedule_alone(checked_every_ten_minutes):
    monitor = checked_every_ten_minutes
    due = next_check(monitor)

    monitor.down_after = 3
    monitor.save()

    assert next_check(monitor) == due


def test_switching_a_paused_monitor_back_on_makes_it_due_at_once(checked_every_ten_minutes):
    monitor = checked_every_ten_minutes
    monitor.is_enabled = False
    monitor.save()
    assert claim_due(timezone.now() + timedelta(minutes=5)) == []

    monitor.is_enabled = True
    monitor.save()

    assert next_check(monitor) <= timezone.now()
    assert claim_due() == [monitor.pk]
