"""The hourly DNS drift check against a real DNS server on 127.0.0.1 (tests/dns/conftest.py): names that
match, drift, do not exist or have no address are judged; a resolver that never answers flags nothing
and keeps the verdict; a round that finds nothing new changes no verdict; the machine and guest pages
say what drifted, and the task is on beat's schedule."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hosts.models import DNSName, IPAddress, Lifecycle
from monitors import dnscheck, tasks
from monitors.models import DNSNameCheck

from ..factories import make_guest, make_machine

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db

Verdict = DNSNameCheck.Verdict


@pytest.fixture(autouse=True)
def _short_timeout(monkeypatch):
    # Short enough for the silent resolver, long enough for the test server on a busy machine.
    monkeypatch.setattr(dnscheck, "LOOKUP_TIMEOUT", 1.5)


def named(name, *addresses, subject=None):
    """A DNS name recorded for a machine (or `subject`) with these recorded addresses."""
    subject = subject or make_machine()
    kind = "guest" if subject.__class__.__name__ == "Guest" else "machine"
    for address in addresses:
        IPAddress.objects.create(address=address, **{kind: subject})
    return DNSName.objects.create(name=name, **{kind: subject})


def check_of(dns):
    return DNSNameCheck.objects.get(pk=dns.pk)


def test_each_name_gets_the_verdict_its_answers_earn(dns_zone):
    ok = named("mail.example.net", "192.0.2.22", "2001:db8::22")
    moved = named("moved.example.net", "192.0.2.24")
    half = named("half.example.net", "192.0.2.23")
    gone = named("gone.example.net", "192.0.2.25")
    bare = named("noaddress.example.net", "192.0.2.26")

    counts = tasks.check_dns_names()

    assert counts == {"checked": 5, "changed": 5, "could_not_check": 0, "ok": 1, "drifted": 2, "unresolved": 2}
    assert check_of(ok).verdict == Verdict.OK
    assert check_of(ok).addresses == ["192.0.2.22", "2001:db8::22"]
    assert check_of(moved).note == "moved.example.net points at 198.51.100.9, recorded 192.0.2.24"
    assert check_of(half).verdict == Verdict.DRIFTED
    assert check_of(gone).note == "gone.example.net does not exist (NXDOMAIN), recorded 192.0.2.25"
    assert check_of(bare).note == "noaddress.example.net has no A or AAAA record, recorded 192.0.2.26"


def test_a_name_that_drifts_is_flagged_and_clears_once_dns_is_fixed(dns_zone):
    wiki = named("wiki1.example.net", "192.0.2.21")
    start = timezone.now()
    dnscheck.check_dns_names(start)
    assert check_of(wiki).verdict == Verdict.OK

    dns_zone["wiki1.example.net."] = ["198.51.100.9"]
    dnscheck.check_dns_names(start + timedelta(hours=1))
    drifted = check_of(wiki)
    assert (drifted.verdict, drifted.changed_at) == (Verdict.DRIFTED, start + timedelta(hours=1))
    assert drifted.note == "wiki1.example.net points at 198.51.100.9, recorded 192.0.2.21"

    dns_zone["wiki1.example.net."] = ["192.0.2.21"]
    dnscheck.check_dns_names(start + timedelta(hours=2))
    assert (check_of(wiki).verdict, check_of(wiki).note) == (Verdict.OK, "")


def test_a_round_that_finds_nothing_new_changes_no_verdict_only_when_it_checked(dns_zone):
    names = [named("wiki1.example.net", "192.0.2.21"), named("moved.example.net", "192.0.2.24")]
    first = timezone.now()
    dnscheck.check_dns_names(first)
    before = {c.pk: (c.verdict, c.resolved, c.note, c.changed_at) for c in DNSNameCheck.objects.all()}

    with CaptureQueriesContext(connection) as queries:
        counts = dnscheck.check_dns_names(first + timedelta(hours=1))

    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert counts["changed"] == 0
    assert len(writes) == 1 and '"checked_at"' in writes[0]  # the round's bookkeeping, for all names at once
    after = {c.pk: (c.verdict, c.resolved, c.note, c.changed_at) for c in DNSNameCheck.objects.all()}
    assert after == before
    assert {check_of(dns).checked_at for dns in names} == {first + timedelta(hours=1)}


def test_a_resolver_that_never_answers_flags_nothing_and_keeps_the_last_verdict(
    dns_zone, dns_server, silent_port, settings
):
    wiki = named("wiki1.example.net", "192.0.2.21")
    moved = named("moved.example.net", "192.0.2.24")
    start = timezone.now()
    dnscheck.check_dns_names(start)

    settings.DNS_RESOLVER = f"127.0.0.1:{silent_port}"
    counts = dnscheck.check_dns_names(start + timedelta(hours=1))
    assert counts["could_not_check"] == 2
    assert (check_of(wiki).verdict, check_of(moved).verdict) == (Verdict.OK, Verdict.DRIFTED)
    assert check_of(wiki).error == "timed out after 1.5 s"
    assert check_of(wiki).error_since == start + timedelta(hours=1)
    assert check_of(wiki).checked_at == start

    # Still silent an hour later: nothing to write, "since" stays the first failure.
    with CaptureQueriesContext(connection) as queries:
        dnscheck.check_dns_names(start + timedelta(hours=2))
    assert not [q for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert check_of(wiki).error_since == start + timedelta(hours=1)

    settings.DNS_RESOLVER = f"127.0.0.1:{dns_server[1]}"  # it answers again
    dnscheck.check_dns_names(start + timedelta(hours=3))
    assert (check_of(wiki).error, check_of(wiki).error_since, check_of(wiki).verdict) == ("", None, Verdict.OK)


def test_a_name_never_answered_is_not_checked_yet_rather_than_flagged(silent_resolver):
    wiki = named("wiki1.example.net", "192.0.2.21")
    dnscheck.check_dns_names()
    assert check_of(wiki).verdict == Verdict.UNKNOWN
    assert not DNSName.objects.filter(dnscheck.flagged()).exists()


def test_names_of_decommissioned_machines_are_not_checked(dns_zone):
    named(
        "moved.example.net",
        "192.0.2.24",
        subject=make_machine(lifecycle=Lifecycle.DECOMMISSIONED, decommission_date=timezone.localdate()),
    )
    assert dnscheck.check_dns_names()["checked"] == 0


def test_the_machine_page_says_what_drifted_and_which_public_address_no_name_points_at(dns_zone, member_client):
    machine = make_machine()
    named("wiki1.example.net", "192.0.2.21", "2001:db8::21", "10.0.0.21", subject=machine)
    dns_zone["wiki1.example.net."] = ["198.51.100.9"]
    dnscheck.check_dns_names()

    html = member_client.get(machine.get_absolute_url()).content.decode()
    line = html[html.index('id="dns-drift"') :]
    line = line[: line.index("</dd>")]
    assert "wiki1.example.net points at 198.51.100.9, recorded 10.0.0.21, 192.0.2.21, 2001:db8::21" in line
    assert "no name points at 192.0.2.21; no name points at 2001:db8::21" in line
    assert "10.0.0.21;" not in line and "at 10.0.0.21" not in line


def test_the_guest_page_says_what_drifted_and_a_page_with_no_drift_says_nothing(dns_zone, member_client):
    guest = make_guest()
    named("vps.example.net", "203.0.113.41", subject=guest)
    dnscheck.check_dns_names()
    assert (
        "vps.example.net points at 203.0.113.40, recorded 203.0.113.41"
        in member_client.get(guest.get_absolute_url()).content.decode()
    )

    IPAddress.objects.filter(guest=guest).update(address="203.0.113.40")
    dnscheck.check_dns_names()
    assert 'id="dns-drift"' not in member_client.get(guest.get_absolute_url()).content.decode()


def test_a_page_says_when_its_names_could_not_be_checked(dns_zone, silent_port, settings, member_client):
    machine = make_machine()
    named("moved.example.net", "192.0.2.24", subject=machine)
    dnscheck.check_dns_names()
    settings.DNS_RESOLVER = f"127.0.0.1:{silent_port}"
    dnscheck.check_dns_names()

    html = member_client.get(machine.get_absolute_url()).content.decode()
    assert "moved.example.net points at 198.51.100.9, recorded 192.0.2.24" in html
    assert "could not check moved.example.net (timed out after 1.5 s); the last verdict stands" in html


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ("", 53)),
        ("192.0.2.53", ("192.0.2.53", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("[2001:db8::53]:5353", ("2001:db8::53", 5353)),
        ("2001:db8::53", ("2001:db8::53", 53)),
    ],
)
def test_the_resolver_setting_is_an_address_with_an_optional_port(value, expected):
    assert dnscheck.resolver_address(value) == expected


@pytest.mark.parametrize("value", ["ns1.example.net", "192.0.2.53:0", "192.0.2.53:dns", "[2001:db8::53]x"])
def test_a_resolver_setting_that_is_not_an_address_is_refused(value):
    with pytest.raises(ValueError):
        dnscheck.resolver_address(value)


def test_the_check_runs_hourly_from_beat():
    entry = settings.BEAT_SCHEDULE["check-dns-names"]
    assert (entry["task"], entry["every"]) == ("monitors.check_dns_names", 3600)
