"""One S3 endpoint that does not answer is one incident, however each target's URL was typed:
with a trailing slash, the host in capitals, the default port spelled out."""

import socket
from datetime import timedelta

import pytest

from backups.models import BackupState, BackupTarget
from backups.s3 import Location
from hosts.models import Guest
from incidents.models import Incident


@pytest.fixture
def dead_port():
    """A port on this machine nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def s3_target(guest, endpoint_url):
    return BackupTarget.objects.create(
        name=f"{guest.name.split('.')[0]} nightly",
        kind=BackupTarget.Kind.S3,
        guest=guest,
        endpoint_url=endpoint_url,
        region="us-east-1",
        bucket="coop-backups",
        prefix=f"{guest.name}/",
        access_key_id="AKIAEXAMPLEKEY000001",
        secret_access_key="example-secret-not-real",
        expected_interval=timedelta(days=1),
    )


@pytest.mark.django_db
def test_three_targets_on_one_dead_endpoint_typed_three_ways_open_one_incident(dom0, wiki, dead_port):
    mail = Guest.objects.create(name="mail.example.org", machine=dom0)
    chat = Guest.objects.create(name="chat.example.org", machine=dom0)
    typed = {
        wiki: f"http://localhost:{dead_port}",
        mail: f"http://localhost:{dead_port}/",
        chat: f"http://LOCALHOST:{dead_port}",
    }
    targets = [s3_target(guest, url) for guest, url in typed.items()]

    for target in targets:
        assert target.run_check().state == BackupState.ERROR

    incident = Incident.objects.get()
    assert incident.cause_key == f"s3:http://localhost:{dead_port}"
    assert incident.title == f"Backups cannot be checked: http://localhost:{dead_port} does not answer"
    assert set(incident.guests.all()) == {wiki, mail, chat}
    assert BackupTarget.objects.filter(incident=incident).count() == 3


@pytest.mark.parametrize(
    "typed",
    [
        "https://minio.example.org",
        "https://minio.example.org/",
        "https://MINIO.Example.ORG",
        "HTTPS://minio.example.org",
        "https://minio.example.org:443",
        "https://minio.example.org:443/",
        " https://minio.example.org ",
    ],
)
def test_an_endpoint_is_named_the_same_however_its_url_was_typed(typed):
    assert Location(typed, "", "coop-backups", "", "", "").endpoint == "https://minio.example.org"


@pytest.mark.parametrize(
    ("typed", "named"),
    [
        ("http://minio.example.org:80/", "http://minio.example.org"),
        ("http://minio.example.org:9000/", "http://minio.example.org:9000"),
        ("https://[2001:DB8::9]:9000/", "https://[2001:db8::9]:9000"),
    ],
)
def test_only_the_default_port_of_the_scheme_is_dropped(typed, named):
    assert Location(typed, "", "coop-backups", "", "", "").endpoint == named


def test_another_port_or_path_is_another_endpoint():
    names = {
        Location(url, "", "coop-backups", "", "", "").endpoint
        for url in ("https://minio.example.org", "https://minio.example.org:9000", "https://minio.example.org/s3")
    }
    assert len(names) == 3
