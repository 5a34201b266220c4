"""DNS drift: do the recorded DNS names still point at the recorded addresses of their machine or guest?

`check_dns_names()` (hourly, monitors.tasks) resolves every DNS name of a machine or guest that is not
decommissioned, A and AAAA, at settings.DNS_RESOLVER ("host:port"; empty: the system's resolvers), with
a short timeout (monitors.probes.look_up_addresses), and judges each answer (monitors.verdicts.judge_dns:
OK, drifted or unresolved). The verdict is kept per name in a DNSNameCheck row, written only when it
changes (verdict, answers, note, or the reason it could not check); the round's "checked at" is one
UPDATE for all the names that answered.

A lookup that could not be made (a timeout, a failing server) flags nothing: the row keeps its
previous verdict and says since when and why it could not check.

Recorded public addresses that none of their owner's names points at (monitors.verdicts.
unnamed_public_addresses) are worked out from the kept answers when a page is shown
(`drift_lines`), for a machine or guest with at least one name whose every name has an answer: a
machine with no name at all is the gaps report's "no DNS name".

`flagged()` is the condition, over hosts.DNSName, the gaps report's "DNS names that drifted" uses.
"""

import ipaddress
import logging

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from hosts.models import DNSName, IPAddress, Lifecycle

from .models import DNSNameCheck
from .probes import Lookup, look_up_addresses
from .verdicts import judge_dns, unnamed_public_addresses

logger = logging.getLogger(__name__)

# Seconds each name's two queries may take: a resolver that is down must not hold a worker for long.
LOOKUP_TIMEOUT = 3.0
# Names looked up at once.
LOOKUP_CONCURRENCY = 50

CHANGE_FIELDS = ["verdict", "resolved", "note", "changed_at", "checked_at", "error", "error_since"]


# What the row holds at most: a name may resolve to hundreds of addresses (its owner decides, not the co-op),
# and a machine may have dozens recorded; one long answer must not fail the whole round's write.
RESOLVED_LENGTH = DNSNameCheck._meta.get_field("resolved").max_length
NOTE_LENGTH = DNSNameCheck._meta.get_field("note").max_length


def _address_order(address):
    return (":" in address, ipaddress.ip_address(address).packed)


def _kept_answers(addresses, recorded):
    """The answers as stored (space-separated, in address order), cut to fit the column.

    The recorded addresses among them are kept first: they are what "no name points at <address>"
    (drift_lines) is worked out from; the others only show that the name drifted, which the verdict says.
    """
    recorded = {str(ipaddress.ip_address(a)) for a in recorded}
    ordered = sorted(addresses, key=_address_order)
    kept, length = [], -1
    for address in [a for a in ordered if a in recorded] + [a for a in ordered if a not in recorded]:
        if length + 1 + len(address) > RESOLVED_LENGTH:
            break
        kept.append(address)
        length += 1 + len(address)
    return " ".join(sorted(kept, key=_address_order))


def _shortened(text, limit):
    """`text` cut at a word to fit `limit` characters, ending in "…" when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",") + "…"


def resolver_address(value):
    """(host, port) of a DNS_RESOLVER value: "192.0.2.53", "192.0.2.53:5353", "[2001:db8::53]:53";
    ("", 53) for "" (the system's resolvers). Raises ValueError on anything else."""
    value = value.strip()
    if not value:
        return "", 53
    host, port = value, "53"
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"{value!r} is not host:port")
            port = rest[1:]
    elif value.count(":") == 1:
        host, port = value.split(":")
    ipaddress.ip_address(host)  # raises ValueError: a resolver is given by address, not by name
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{port!r} is not a port")
    return host, int(port)


def flagged(prefix=""):
    """A Q over hosts.DNSName (or, with a prefix such as "dns_names__", over what leads to one): the names
    whose last answer drifted from their recorded addresses or did not resolve."""
    return Q(**{f"{prefix}dns_check__verdict__in": DNSNameCheck.FLAGGED})


def _look_up(names, host, port):
    return look_up_addresses(names, nameserver=host, port=port, timeout=LOOKUP_TIMEOUT, concurrency=LOOKUP_CONCURRENCY)


def _look_up_unless_the_server_is_down(names, host, port):
    """{name: Lookup} for every name; when a sample of one round's worth, spread over all the names, gets
    no answer at all, the rest are not asked: a DNS server that is down (often in the very outage) would
    otherwise hold a worker for len(names) / LOOKUP_CONCURRENCY timeouts (10,000 names: ten minutes)."""
    unique = list(dict.fromkeys(names))
    step = max(1, len(unique) // LOOKUP_CONCURRENCY)
    sample = unique[::step][:LOOKUP_CONCURRENCY]
    lookups = _look_up(sample, host, port)
    rest = [name for name in unique if name not in lookups]
    if rest and all(lookup.error for lookup in lookups.values()):
        why = next(iter(lookups.values())).error
        skipped = Lookup(error=f"not asked: the DNS server answered none of {len(sample)} other names ({why})")
        logger.warning("DNS drift check: %s; %d names not asked this round", skipped.error, len(rest))
        return lookups | dict.fromkeys(rest, skipped)
    if rest:
        lookups |= _look_up(rest, host, port)
    return lookups


def check_dns_names(now=None, *, resolver=None):
    """Resolve every live recorded DNS name and keep what changed; returns counts of each verdict.

    `resolver`: (host, port) to ask instead of settings.DNS_RESOLVER.
    """
    now = now or timezone.now()
    host, port = resolver or resolver_address(settings.DNS_RESOLVER)
    live = ~Q(machine__lifecycle=Lifecycle.DECOMMISSIONED) & ~Q(guest__lifecycle=Lifecycle.DECOMMISSIONED)
    names = list(DNSName.objects.filter(live).select_related("dns_check").order_by("pk"))
    recorded = {}
    for machine, guest, address in IPAddress.objects.values_list("machine_id", "guest_id", "address"):
        recorded.setdefault((machine, guest), set()).add(address)
    lookups = _look_up_unless_the_server_is_down([dns.name for dns in names], host, port)
    counts = {"checked": len(names), "changed": 0, "could_not_check": 0}
    new, changed, answered = [], [], []
    for dns in names:
        lookup = lookups[dns.name]
        try:
            check, is_new = dns.dns_check, False
        except DNSNameCheck.DoesNotExist:
            check, is_new = DNSNameCheck(dns_name=dns), True
            new.append(check)
        before = [getattr(check, name) for name in CHANGE_FIELDS]
        if lookup.error:
            counts["could_not_check"] += 1
            if check.error != lookup.error:
                check.error, check.error_since = lookup.error, check.error_since or now
        else:
            verdict = judge_dns(
                dns.name, recorded.get((dns.machine_id, dns.guest_id), ()), lookup.addresses, nxdomain=lookup.nxdomain
            )
            resolved = _kept_answers(lookup.addresses, recorded.get((dns.machine_id, dns.guest_id), ()))
            note = _shortened(verdict.note, NOTE_LENGTH)
            if (check.verdict, check.resolved) != (verdict.state, resolved):
                check.changed_at = now
                logger.info("DNS name %s: %s → %s %s", dns.name, check.verdict, verdict.state, note)
            check.verdict, check.resolved, check.note = verdict.state, resolved, note
            check.error, check.error_since = "", None
            if check.checked_at is None:
                check.checked_at = now
            answered.append(dns.pk)
        counts[check.verdict] = counts.get(check.verdict, 0) + 1
        if not is_new and [getattr(check, name) for name in CHANGE_FIELDS] != before:
            changed.append(check)
    DNSNameCheck.objects.bulk_create(new)
    if changed:
        DNSNameCheck.objects.bulk_update(changed, CHANGE_FIELDS)
    if answered:
        # Bookkeeping: when the names last answered, one UPDATE for the round whatever its size.
        DNSNameCheck.objects.filter(pk__in=answered).update(checked_at=now)
    counts["changed"] = len(new) + len(changed)
    return counts


def drift_lines(dns_names, addresses):
    """What the machine or guest page says about its DNS drift: a line per flagged name, per name that
    could not be checked, and per public address none of its names points at; [] when all is well.

    `dns_names` and `addresses` are the page's own (already fetched) rows of one machine or guest: one query.
    """
    dns_names = list(dns_names)
    if not dns_names:
        return []
    checks = {check.pk: check for check in DNSNameCheck.objects.filter(pk__in=[dns.pk for dns in dns_names])}
    lines = []
    for dns in dns_names:
        check = checks.get(dns.pk)
        if check is None:
            continue
        if check.is_flagged:
            lines.append(check.note)
        if check.error:
            lines.append(f"could not check {dns.name} ({check.error}); the last verdict stands")
    answered = [checks.get(dns.pk) for dns in dns_names]
    if all(check is not None and check.verdict != DNSNameCheck.Verdict.UNKNOWN for check in answered):
        unnamed = unnamed_public_addresses([a.address for a in addresses], [c.addresses for c in answered])
        lines += [f"no name points at {address}" for address in unnamed]
    return lines
