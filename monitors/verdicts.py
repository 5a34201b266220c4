"""Is it down? Pure judgement of one monitor's run of results: values in, a Step out; no model.

A monitor is called down after `down_after` failed checks in a row and up again after
`up_after` good ones, so one lost packet does not wake anybody. A first good check of a
monitor never seen before makes it up at once when up_after is 1 (the default).

Flapping: a monitor that keeps going down and up would open and resolve an incident, and alert
someone, each time. One that has changed state `flap_changes` times within FLAP_WINDOW (its
latest fall included) is flapping, and comes back only after `quiet` of good checks in a row
(flap_up_after): until then it stays down, so the incident stays one and open, nobody is woken
again, and no transition row is written per flip.

Who watches the watcher: checks that last ran longer ago than three of the shortest interval
(checks_are_stale) mean the checker itself has stopped.

DNS drift (judge_dns, unnamed_public_addresses): does a recorded DNS name still point at the recorded
addresses of its machine or guest, and which recorded public address does no name point at; the rules
are spelled out above judge_dns below.
"""

import ipaddress
import math
from dataclasses import dataclass
from datetime import timedelta

UP, DOWN, UNKNOWN = "up", "down", "unknown"


@dataclass(frozen=True)
class Step:
    """Where a monitor stands after one more result."""

    state: str
    failures: int  # failed checks in a row
    successes: int  # good checks in a row

    def changed_from(self, state):
        return self.state != state


def judge(state, failures, successes, ok, *, down_after, up_after):
    """The monitor's state after one more result (`ok`), given its state and runs so far."""
    if ok:
        successes, failures = successes + 1, 0
        if state != UP and successes >= up_after:
            state = UP
    else:
        failures, successes = failures + 1, 0
        if state != DOWN and failures >= down_after:
            state = DOWN
    return Step(state, failures, successes)


# How far back flapping looks.
FLAP_WINDOW = timedelta(minutes=30)


def is_flapping(changes, *, flap_changes):
    """True when `changes` (up↔down changes of state within FLAP_WINDOW) make a monitor flapping."""
    return changes >= flap_changes


def flap_up_after(up_after, interval, quiet):
    """Good checks in a row a flapping monitor needs to come back: its own up_after, or `quiet` of them."""
    return max(up_after, math.ceil(quiet / interval))


# Checks that last ran longer ago than this many intervals mean the checker has stopped.
STALE_AFTER_INTERVALS = 3
# The interval assumed when no enabled monitor says.
DEFAULT_INTERVAL = timedelta(minutes=1)


def stale_after(shortest_interval):
    """How old the last checks may be before the checker counts as stopped: three of the shortest interval."""
    return STALE_AFTER_INTERVALS * (shortest_interval or DEFAULT_INTERVAL)


def checks_are_stale(last_ran, now, shortest_interval):
    """True when the checks last ran (`last_ran`, None if never) longer ago than stale_after() allows."""
    return last_ran is None or now - last_ran > stale_after(shortest_interval)


# --- DNS drift (monitors.dnscheck) -----------------------------------------------------------------
#
# A recorded DNS name is judged against the recorded addresses of its own machine or guest:
# - OK: it resolves, and every address it resolves to (A and AAAA together) is recorded there. A
#   recorded address it does not point at is fine for the name (a backend or IPMI address needs no
#   name); a public one nobody's name points at is flagged on its own (unnamed_public_addresses).
# - DRIFTED: it resolves to at least one address that is not recorded there, whether or not it also
#   points at a recorded one: either DNS or the inventory is wrong, and at 3 a.m. both are read.
# - UNRESOLVED: the name does not exist (NXDOMAIN) or has no A or AAAA record.
# A lookup that could not be made (a timeout, a failing server) is no verdict: the caller keeps the
# previous one and says it could not check.

DNS_OK, DNS_DRIFTED, DNS_UNRESOLVED = "ok", "drifted", "unresolved"

# Addresses nobody expects in public DNS. Documentation ranges (192.0.2.0/24, 2001:db8::/32…) count as
# public on purpose: the demo and the tests use them for public addresses.
NOT_PUBLIC = [
    ipaddress.ip_network(net)
    for net in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",  # RFC 1918
        "127.0.0.0/8",
        "::1/128",  # loopback
        "169.254.0.0/16",
        "fe80::/10",  # link-local
        "fc00::/7",  # unique local (ULA)
    )
]


@dataclass(frozen=True)
class DNSVerdict:
    """What one name's answers say: DNS_OK, DNS_DRIFTED or DNS_UNRESOLVED, and a line for people."""

    state: str
    note: str


def _sorted(addresses):
    return sorted({ipaddress.ip_address(a) for a in addresses}, key=lambda a: (a.version, a))


def _listed(addresses):
    return ", ".join(map(str, _sorted(addresses))) or "none"


def judge_dns(name, recorded, resolved, *, nxdomain=False):
    """The verdict on `name`, recorded for a machine or guest with the addresses `recorded`, that
    resolved to `resolved` (A and AAAA; empty when it did not resolve; nxdomain: it does not exist)."""
    recorded, resolved = set(_sorted(recorded)), set(_sorted(resolved))
    if not resolved:
        why = "does not exist (NXDOMAIN)" if nxdomain else "has no A or AAAA record"
        return DNSVerdict(DNS_UNRESOLVED, f"{name} {why}, recorded {_listed(recorded)}")
    if resolved - recorded:
        return DNSVerdict(DNS_DRIFTED, f"{name} points at {_listed(resolved)}, recorded {_listed(recorded)}")
    return DNSVerdict(DNS_OK, "")


def is_public(address):
    """True unless the address is RFC 1918, loopback, link-local or unique local (documentation ranges are public)."""
    address = ipaddress.ip_address(address)
    return not any(address in net for net in NOT_PUBLIC if net.version == address.version)


def unnamed_public_addresses(recorded, resolved_sets):
    """The public addresses among `recorded` (a machine's or guest's) that none of its names resolves to
    (`resolved_sets`: what each name resolved to), in address order."""
    pointed_at = {ipaddress.ip_address(a) for resolved in resolved_sets for a in resolved}
    return [str(a) for a in _sorted(recorded) if is_public(a) and a not in pointed_at]
