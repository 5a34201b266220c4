"""Has a DNS name drifted? The judgement is a function of values: no database, no network."""

from monitors.verdicts import (
    DNS_DRIFTED,
    DNS_OK,
    DNS_UNRESOLVED,
    is_public,
    judge_dns,
    unnamed_public_addresses,
)


def test_a_name_pointing_only_at_recorded_addresses_is_ok():
    assert judge_dns("mail.example.net", {"192.0.2.22", "2001:db8::22"}, {"2001:db8::22"}).state == DNS_OK


def test_a_name_pointing_elsewhere_has_drifted_and_says_where_it_points_and_what_is_recorded():
    verdict = judge_dns("wiki1.example.net", {"192.0.2.21"}, {"198.51.100.9"})
    assert verdict.state == DNS_DRIFTED
    assert verdict.note == "wiki1.example.net points at 198.51.100.9, recorded 192.0.2.21"


def test_one_address_not_recorded_is_drift_even_beside_a_recorded_one():
    verdict = judge_dns("half.example.net", {"192.0.2.23"}, {"198.51.100.23", "192.0.2.23"})
    assert verdict.state == DNS_DRIFTED
    assert verdict.note == "half.example.net points at 192.0.2.23, 198.51.100.23, recorded 192.0.2.23"


def test_addresses_compare_as_addresses_not_as_text():
    assert judge_dns("v6.example.net", {"2001:0db8:0000::0022"}, {"2001:db8::22"}).state == DNS_OK


def test_a_name_that_does_not_resolve_is_unresolved():
    verdict = judge_dns("gone.example.net", {"192.0.2.30"}, set(), nxdomain=True)
    assert verdict.state == DNS_UNRESOLVED
    assert verdict.note == "gone.example.net does not exist (NXDOMAIN), recorded 192.0.2.30"
    assert judge_dns("bare.example.net", set(), set()).note == "bare.example.net has no A or AAAA record, recorded none"


def test_documentation_ranges_are_public_and_private_ones_are_not():
    for address in ("192.0.2.1", "198.51.100.1", "203.0.113.1", "2001:db8::1"):
        assert is_public(address), address
    for address in ("10.1.2.3", "172.16.0.1", "192.168.1.1", "127.0.0.1", "::1", "169.254.1.1", "fe80::1", "fd00::1"):
        assert not is_public(address), address


def test_a_public_address_no_name_points_at_is_listed_and_a_backend_one_is_not():
    recorded = ["192.0.2.21", "2001:db8::21", "10.0.0.21"]
    assert unnamed_public_addresses(recorded, [{"192.0.2.21"}]) == ["2001:db8::21"]
    assert unnamed_public_addresses(recorded, [{"192.0.2.21"}, {"2001:db8::21"}]) == []
