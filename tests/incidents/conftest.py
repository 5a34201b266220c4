"""The co-op the incident stories happen in: dom0 at Harbor Colo with the wiki on it, dom0 on
outlet 4 of the simulated PDU, backups on the moto S3 server, and the people who work on them.

Peers, the cast and the S3 helpers are the power and backup tests' own, re-exported here:
pytest reads `pytest_plugins` only in the top conftest.
"""

import socket
from datetime import timedelta

import pytest

from backups.models import BackupTarget, HeartbeatPing
from coop.models import Site
from hosts.models import Guest, Machine
from incidents import policy
from incidents.models import Incident
from power.models import PowerAction, PowerController, PowerOutlet
from power.tasks import run_power_action
from tests.backups.conftest import bucket, make_target, put, s3, s3_server  # noqa: F401
from tests.cast import operator  # noqa: F401
from tests.power.conftest import COMMUNITY, _fast_power, pdu, pdu_agent  # noqa: F401


@pytest.fixture
def dom0(db):
    """dom0.harbor.example.org, the Xen host the wiki runs on."""
    site = Site.objects.create(name="Harbor Colo", slug="harbor-colo")
    return Machine.objects.create(hostname="dom0.harbor.example.org", site=site)


@pytest.fixture
def wiki(dom0):
    """wiki.example.org, a guest on dom0 (the backup fixtures protect it)."""
    return Guest.objects.create(name="wiki.example.org", machine=dom0)


@pytest.fixture
def controller(dom0, pdu):  # noqa: F811 - the power tests' PDU, re-exported above
    """pdu-harbor-1, the simulated APC PDU in dom0's rack."""
    return PowerController.objects.create(
        name="pdu-harbor-1",
        site=dom0.site,
        driver=PowerController.Driver.APC_SNMP,
        snmp_version=PowerController.SNMPVersion.V2C,
        host="127.0.0.1",
        port=pdu.port,
        secret=COMMUNITY,
        timeout=timedelta(seconds=0.3),
    )


@pytest.fixture
def outlet(controller, dom0):
    """Outlet 4, which feeds dom0."""
    return PowerOutlet.objects.create(controller=controller, number=4, machine=dom0, label="PSU A")


@pytest.fixture
def outage(dom0, wiki, operator):  # noqa: F811 - the cast's Otto, re-exported above
    """Otto's open outage: dom0 is down and the wiki with it."""
    return policy.open_by_person(
        title="dom0 down: wiki offline", by=operator, cause=Incident.Cause.OUTAGE, machines=[dom0], guests=[wiki]
    )


@pytest.fixture
def etc_backup(dom0):
    """dom0's nightly /etc backup job, reporting to its heartbeat URL."""
    return BackupTarget.objects.create(
        name="dom0 /etc",
        kind=BackupTarget.Kind.HEARTBEAT,
        machine=dom0,
        expected_interval=timedelta(hours=1),
        encryption_required=False,
    )


@pytest.fixture
def backup_incident(etc_backup):
    """The "dom0 backups failing" incident, opened by the /etc job reporting failure."""
    HeartbeatPing.receive(etc_backup, "fail", body=b"tar: /etc/shadow: Cannot open")
    etc_backup.refresh_from_db()
    return etc_backup.incident


@pytest.fixture
def dead_endpoint():
    """An S3 endpoint URL on a 127.0.0.1 port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def power_cycle(outlet, by, reason="dom0 frozen, no ping"):
    """Ask for a power-cycle of `outlet` and run it to the end against the PDU, as a worker would."""
    action, created = PowerAction.request(outlet=outlet, operation="cycle", reason=reason, by=by)
    assert created
    run_power_action(action.pk)
    action.refresh_from_db()
    assert action.state == PowerAction.State.SUCCEEDED, action.error
    return action
