"""Answers a co-op does not control: a name whose owner (a guest's own domain) makes it resolve to a
hundred addresses, a machine with dozens of recorded addresses. The round still finishes and keeps a
verdict for every name, the huge one included; the machine page still says which public address no
name points at."""

import time

import pytest

from hosts.models import DNSName, IPAddress
from monitors import dnscheck
from monitors.models import DNSNameCheck

from ..factories import make_machine

pytestmark = pytest.mark.django_db

Verdict = DNSNameCheck.Verdict


@pytest.fixture(autouse=True)
def _short_timeout(monkeypatch):
    monkeypatch.setattr(dnscheck, "LOOKUP_TIMEOUT", 1.5)


def test_a_name_with_a_hundred_addresses_is_judged_and_the_round_finishes(dns_zone):
    dns_zone["many.example.net."] = [f"198.51.100.{n}" for n in range(1, 101)] + [
        f"2001:db8::{n:x}" for n in range(1, 101)
    ]
    machine = make_machine()
    IPAddress.objects.create(address="198.51.100.7", machine=machine)
    IPAddress.objects.create(address="203.0.113.99", machine=machine)
    many = DNSName.objects.create(name="many.example.net", machine=machine)
    ok = DNSName.objects.create(name="wiki1.example.net", machine=make_machine())
    IPAddress.objects.create(address="192.0.2.21", machine=ok.machine)

    counts = dnscheck.check_dns_names()

    assert counts["checked"] == 2 and counts["could_not_check"] == 0
    check = DNSNameCheck.objects.get(pk=many.pk)
    assert check.verdict == Verdict.DRIFTED
    assert check.note.startswith("many.example.net points at 198.51.100.1, ")
    assert len(check.note) <= DNSNameCheck._meta.get_field("note").max_length
    assert len(check.resolved) <= DNSNameCheck._meta.get_field("resolved").max_length
    # The recorded address the name does point at is kept, so only the other one is "unnamed".
    assert "198.51.100.7" in check.addresses
    assert dnscheck.drift_lines([many], machine.addresses.all())[1:] == ["no name points at 203.0.113.99"]
    assert DNSNameCheck.objects.get(pk=ok.pk).verdict == Verdict.OK


def test_a_machine_with_dozens_of_recorded_addresses_and_no_answer_is_judged(dns_zone):
    machine = make_machine()
    for n in range(1, 61):
        IPAddress.objects.create(address=f"192.0.2.{n}", machine=machine)
    gone = DNSName.objects.create(name="gone.example.net", machine=machine)

    dnscheck.check_dns_names()

    check = DNSNameCheck.objects.get(pk=gone.pk)
    assert check.verdict == Verdict.UNRESOLVED
    assert check.note.startswith("gone.example.net does not exist (NXDOMAIN), recorded 192.0.2.1, ")
    assert len(check.note) <= DNSNameCheck._meta.get_field("note").max_length


def test_a_resolver_that_is_down_does_not_hold_the_worker_for_every_name(silent_resolver, monkeypatch):
    # 60 names, 5 at a time: asking each would take 12 timeouts; a sample that gets no answer ends it.
    monkeypatch.setattr(dnscheck, "LOOKUP_CONCURRENCY", 5)
    names = [DNSName.objects.create(name=f"host{n}.example.net", machine=make_machine()) for n in range(60)]
    started = time.monotonic()

    counts = dnscheck.check_dns_names()

    assert time.monotonic() - started < 4 * dnscheck.LOOKUP_TIMEOUT
    assert counts["could_not_check"] == 60
    errors = {check.error for check in DNSNameCheck.objects.filter(pk__in=[dns.pk for dns in names])}
    assert errors == {
        "timed out after 1.5 s",
        "not asked: the DNS server answered none of 5 other names (timed out after 1.5 s)",
    }
    assert not DNSName.objects.filter(dnscheck.flagged()).exists()


def test_a_sample_that_answers_lets_every_other_name_be_asked(dns_zone, monkeypatch):
    monkeypatch.setattr(dnscheck, "LOOKUP_CONCURRENCY", 2)
    zone = ["wiki1", "mail", "moved", "half", "vps", "noaddress", "gone"]
    names = [DNSName.objects.create(name=f"{name}.example.net", machine=make_machine()) for name in zone]

    counts = dnscheck.check_dns_names()

    assert counts["could_not_check"] == 0
    assert not DNSNameCheck.objects.filter(pk__in=[dns.pk for dns in names], verdict=Verdict.UNKNOWN).exists()
