"""What the second hostile review of the fault-tolerance work found, each pinned down: client addresses
with ports and IPv6 /64s, page numbers past the end, /health/ under a hard poll, a database error mid
power action, and Redfish links with odd ports."""

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from core import throttle

pytest_plugins = ["tests.cast"]


@pytest.mark.parametrize(
    ("forwarded", "seen"),
    [
        ("203.0.113.9:51234", "203.0.113.9"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("garbage", "127.0.0.1"),  # what the proxy appended is unreadable: the proxy's own address
    ],
)
def test_the_clients_address_is_read_however_the_proxy_writes_it(settings, forwarded, seen):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="127.0.0.1")
    assert throttle.client_ip(request) == seen


def test_one_ipv6_host_is_one_client_for_the_limits():
    assert throttle.client_key("2001:db8:1:2::1") == throttle.client_key("2001:db8:1:2:ffff::9")
    assert throttle.client_key("2001:db8:1:2::1") != throttle.client_key("2001:db8:1:3::1")
    assert throttle.client_key("203.0.113.9") == "203.0.113.9"


@pytest.mark.django_db
def test_page_numbers_past_the_end_are_the_last_page_under_one_key(client, django_assert_max_num_queries):
    client.get("/status/?page=5")
    with django_assert_max_num_queries(0):  # 6, 7 and 999 are the same kept page as 5: the last
        for number in (6, 7, 999):
            assert client.get(f"/status/?page={number}").status_code == 200


@pytest.mark.django_db
def test_a_hard_poll_of_health_runs_the_checks_once(client, settings, monkeypatch):
    from front.views import ops

    settings.HEALTH_KEEP_SECONDS = 2
    runs = []
    real = ops._run_health_checks
    monkeypatch.setattr(ops, "_run_health_checks", lambda: runs.append(1) or real())
    for _ in range(5):
        client.get("/health/")
    assert len(runs) == 1


@pytest.mark.django_db
def test_a_database_error_mid_power_action_retries_instead_of_failing(scene, operator, monkeypatch):
    """A query failing inside the run (here: while the driver is set up) is the database's, not the PDU's."""
    from celery.exceptions import Retry

    from power import tasks
    from power.models import PowerAction

    action, _ = PowerAction.request(outlet=scene.machine.outlets.get(), operation="cycle", reason="frozen", by=operator)

    def database_gone(controller):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(tasks, "get_driver", database_gone)
    with pytest.raises(Retry):
        tasks.run_power_action(action.pk)
    action.refresh_from_db()
    assert action.state != PowerAction.State.FAILED  # the row waits for the retry, nothing was sent


@pytest.mark.django_db
def test_redfish_links_with_odd_ports_are_judged_not_crashed():
    from power.drivers import ConfigError, get_driver
    from power.models import PowerController

    driver = get_driver(PowerController(name="bmc", driver="redfish", host="192.0.2.7", username="u", secret="p"))
    assert driver._url("https://192.0.2.7:443/redfish/v1/Systems/1") == "https://192.0.2.7:443/redfish/v1/Systems/1"
    with pytest.raises(ConfigError):
        driver._url("https://192.0.2.7:99999/redfish/v1/Systems/1")
