"""A real DNS server on 127.0.0.1 for the DNS drift check: dnslib's DNSServer answering a fixed zone.

One server per test session (per xdist worker), on a free UDP port, in a daemon thread that stops with
the session. `dns_zone` hands each test the fixed zone afresh (a test may change a record to make a
name drift) and points settings.DNS_RESOLVER at the server. `silent_resolver` is a UDP port that
reads nothing and answers nothing: a resolver that times out.
"""

import socket

import pytest
from dnslib import AAAA, QTYPE, RCODE, RR, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from tests.conftest import service_missing

ZONE = "example.net."
# name → addresses, as the zone has them. Names under ZONE not listed here do not exist (NXDOMAIN).
FIXED_ZONE = {
    "wiki1.example.net.": ["192.0.2.21"],
    "mail.example.net.": ["192.0.2.22", "2001:db8::22"],
    "moved.example.net.": ["198.51.100.9"],
    "half.example.net.": ["192.0.2.23", "198.51.100.23"],
    "vps.example.net.": ["203.0.113.40"],
    "noaddress.example.net.": [],  # exists, with no A or AAAA record: NOERROR and no answer
}


class ZoneResolver(BaseResolver):
    """Authoritative for ZONE only; the records live in `self.records` (name → addresses)."""

    def __init__(self):
        self.records = {}

    def resolve(self, request, handler):
        reply = request.reply()
        reply.header.aa = 1
        name = str(request.q.qname).lower()
        qtype = QTYPE[request.q.qtype]
        if name not in self.records:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for address in self.records[name]:
            if qtype == "A" and ":" not in address:
                reply.add_answer(RR(name, QTYPE.A, rdata=A(address), ttl=60))
            elif qtype == "AAAA" and ":" in address:
                reply.add_answer(RR(name, QTYPE.AAAA, rdata=AAAA(address), ttl=60))
        return reply


@pytest.fixture(scope="session")
def dns_server():
    """(resolver, port) of the session's DNS server on 127.0.0.1."""
    resolver = ZoneResolver()
    try:
        server = DNSServer(resolver, address="127.0.0.1", port=0, logger=DNSLogger(log="-request,-reply,-truncated"))
    except OSError as exc:
        service_missing(f"cannot start a DNS server on 127.0.0.1: {exc}")
    server.start_thread()
    try:
        yield resolver, server.server.server_address[1]
    finally:
        server.stop()
        server.server.server_close()


@pytest.fixture
def dns_zone(dns_server, settings):
    """The fixed zone's records (change them to make a name drift), served at settings.DNS_RESOLVER."""
    resolver, port = dns_server
    resolver.records = {name: list(addresses) for name, addresses in FIXED_ZONE.items()}
    settings.DNS_RESOLVER = f"127.0.0.1:{port}"
    return resolver.records


@pytest.fixture(scope="session")
def silent_port():
    """A UDP port on 127.0.0.1 that never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.fixture
def silent_resolver(silent_port, settings):
    settings.DNS_RESOLVER = f"127.0.0.1:{silent_port}"
    return silent_port
