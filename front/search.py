"""Global search: one box that finds machines, guests, IP addresses, DNS names, hosted
sites, people, organisations and sites.

An IP address, a DNS name or a URL that belongs to a guest also yields `guest`: that
guest with its machine, owner and who to call, because during an outage the question
is "this address is down: whose is it and who can fix it?". Every search runs a fixed
number of queries, each with a LIMIT, whatever the size of the co-op.
"""

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.utils.ipv6 import clean_ipv6_address

from coop.models import ContactMethod, Organization, Person, Site
from core.pages import clean_query
from core.validators import validate_hostname
from hosts.models import DNSName, Guest, HostedService, IPAddress, Machine

PER_KIND = 10
WHO_TO_CALL = 6

_PARTIAL_IP = re.compile(r"^(?:[0-9]{1,3}\.){1,3}[0-9]{0,3}$|^[0-9a-f]{1,4}:[0-9a-f:]*$")


def as_ip_address(query):
    """The query as a stored IP address (the form GenericIPAddressField saves), or None."""
    candidate = query.strip("[]")
    try:
        parsed = ipaddress.ip_address(candidate)
    except ValueError:
        return None
    if parsed.version == 6:
        return clean_ipv6_address(candidate)
    return str(parsed)


def as_hostname(query):
    """The host name in a query such as `wiki.example.org`, `https://wiki.example.org/x` or None."""
    text = query.strip()
    if "://" in text:
        try:
            text = urlsplit(text).hostname or ""
        except ValueError:
            return None
    else:
        text = text.split("/", 1)[0]
    text = text.rstrip(".").lower()
    if "." not in text:
        return None
    try:
        validate_hostname(text)
    except ValidationError:
        return None
    return text


def guest_with_who_to_call():
    """Guests with what the "whose is this?" card shows: machine, owner, contacts and the host's admins."""
    return (
        Guest.objects.with_monitor_state()
        .select_related("machine__site", "owner")
        .prefetch_related(
            Prefetch("contacts", queryset=Person.objects.to_call()),
            Prefetch("machine__admins", queryset=Person.objects.to_call()),
            "machine__monitors",
        )
    )


@dataclass
class Results:
    query: str
    guest: Guest | None = None
    who_to_call: list = field(default_factory=list)  # (person, why) for `guest`, each person once
    machines: list = field(default_factory=list)
    guests: list = field(default_factory=list)
    addresses: list = field(default_factory=list)
    dns_names: list = field(default_factory=list)
    services: list = field(default_factory=list)
    people: list = field(default_factory=list)
    organizations: list = field(default_factory=list)
    sites: list = field(default_factory=list)

    @property
    def total(self):
        return sum(
            len(found)
            for found in (
                self.machines,
                self.guests,
                self.addresses,
                self.dns_names,
                self.services,
                self.people,
                self.organizations,
                self.sites,
            )
        )


def search(raw_query):
    """Everything matching the query, at most PER_KIND of each kind, and the guest it names if any."""
    query = clean_query(raw_query)
    results = Results(query=query)
    if not query:
        return results
    ip = as_ip_address(query)
    host = as_hostname(query) if ip is None else None

    if ip is not None:
        address_filter = Q(address=ip)
        machine_filter = Q(management_address=ip)
    elif _PARTIAL_IP.match(query.lower()):
        address_filter = Q(address__istartswith=query)
        machine_filter = Q(hostname__icontains=query)
    else:
        address_filter = None
        machine_filter = Q(hostname__icontains=query)

    # DNS names first: a machine the exact name points at is found by its id, so the machine
    # query needs no join (each branch of its OR can use an index, no DISTINCT over every column).
    results.dns_names = list(
        DNSName.objects.select_related("guest__machine", "machine").filter(
            Q(name=host) if host else Q(name__icontains=query)
        )[:PER_KIND]
    )
    if host is not None:
        named_machines = [dns.machine_id for dns in results.dns_names if dns.machine_id]
        machine_filter |= Q(hostname=host) | Q(pk__in=named_machines)

    machines = Machine.objects.with_monitor_state().select_related("site", "owner")
    results.machines = list(machines.filter(machine_filter)[:PER_KIND])
    results.guests = list(
        Guest.objects.with_monitor_state().select_related("machine", "owner").filter(name__icontains=query)[:PER_KIND]
    )

    if address_filter is not None:
        results.addresses = list(
            IPAddress.objects.select_related("guest__machine", "guest__owner", "machine__site").filter(address_filter)[
                :PER_KIND
            ]
        )

    service_filter = Q(name__icontains=query) | Q(url__icontains=host or query)
    results.services = list(
        HostedService.objects.select_related("guest__machine", "owner", "guest__owner").filter(service_filter)[
            :PER_KIND
        ]
    )

    # A subquery, not a join: no duplicate people to remove, and each side can use its index.
    contacted = ContactMethod.objects.filter(value__icontains=query).values("person")
    results.people = list(
        Person.objects.select_related("organization")
        .filter(Q(name__icontains=query) | Q(pk__in=contacted))
        .order_by("name", "pk")[:PER_KIND]
    )
    results.organizations = list(
        Organization.objects.filter(Q(name__icontains=query) | Q(slug__icontains=query))[:PER_KIND]
    )
    results.sites = list(Site.objects.filter(Q(name__icontains=query) | Q(slug__icontains=query))[:PER_KIND])

    guest_id = _named_guest_id(results, ip, host)
    if guest_id is not None:
        results.guest = guest_with_who_to_call().get(pk=guest_id)
        results.who_to_call = who_to_call(results.guest)
    return results


def who_to_call(guest):
    """The guest's own contacts, then its host's admins: each person once, at most WHO_TO_CALL."""
    people, seen = [], set()
    for role, group in (("runs it", guest.contacts.all()), ("host admin", guest.machine.admins.all())):
        for person in group:
            if person.pk not in seen and len(people) < WHO_TO_CALL:
                seen.add(person.pk)
                people.append((person, role))
    return people


def _named_guest_id(results, ip, host):
    """The guest an exact IP address, DNS name, guest name or service URL points at, if exactly one."""
    if ip is not None:
        owners = {a.guest_id for a in results.addresses if a.guest_id}
    elif host is not None:
        owners = {d.guest_id for d in results.dns_names if d.guest_id}
        owners |= {g.pk for g in results.guests if g.name == host}
        if not owners:
            owners = {s.guest_id for s in results.services if _url_host(s.url) == host}
    else:
        return None
    return owners.pop() if len(owners) == 1 else None


def _url_host(url):
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
