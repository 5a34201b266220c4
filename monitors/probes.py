"""The network probes uptime monitors run: TCP connect, HTTP(S), ICMP ping and DNS.

Plain asyncio, no Django: a Probe says what to check, `probe()` checks it and returns a Result, and
`probe_all()` checks a whole batch concurrently (one aiohttp session, one DNS resolver per
nameserver) so one Celery task can check thousands of monitors per round. `run_probes()` is the
synchronous door for that task.

A probe never raises for network trouble: a refused connection, a timeout, a bad certificate or an
unknown name all come back as `Result(ok=False, error=...)` with a short message a volunteer
understands ("connection refused", "timed out after 5 s", "HTTP 503"). `Probe.timeout` bounds the
whole probe, redirects and body included.

Ping mode. icmplib can ping without privileges through the kernel's ICMP datagram sockets, which
Linux allows only to the groups in `sysctl net.ipv4.ping_group_range` (the default `1 0` allows
nobody). `ping_mode()` decides once per process: "unprivileged" when such a socket opens (any
user, no capability needed), otherwise "privileged" (raw sockets: root or CAP_NET_RAW), otherwise
"unavailable", and then every ping is down with a message saying how to allow it. A checker that
runs as root on a machine with the default sysctl therefore pings in privileged mode.
"""

import asyncio
import contextlib
import errno
import functools
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
import dns.asyncresolver
import dns.exception
import dns.name
import dns.resolver
import icmplib
from yarl import URL

logger = logging.getLogger(__name__)

KINDS = ("tcp", "http", "ping", "dns")
# Enough for any page's keyword; a monitor must not download a 4 GB ISO every minute.
BODY_LIMIT = 1024 * 1024
USER_AGENT = "Switchboard uptime monitor"
# aiohttp keeps resolved host names this long within one batch (seconds).
DNS_CACHE_SECONDS = 300


@dataclass(frozen=True)
class Probe:
    """One check to run.

    kind: "tcp", "http", "ping" or "dns".
    target: a host name or IP address (tcp, ping); a full http:// or https:// URL (http);
        a DNS name (dns).
    port: the TCP port (tcp only).
    timeout: seconds the whole probe may take.
    expected_status (http): the final status that means up; None means any 2xx or 3xx.
    keyword (http): text the body (its first 1 MB) must contain; "" for none.
    follow_redirects (http): follow redirects and judge the final response.
    tls_warn_days (https): warn when the certificate expires within this many days.
    ca_file (https): a PEM file of extra certificate authorities to trust, for private CAs;
        "" trusts only the system's.
    expected_addresses (dns): when given, every one of these addresses must be among the
        answers (A and AAAA together); extra answers are fine (a name may gain an address).
        Empty: the name only has to resolve.
    nameserver (dns): the IP address of the DNS server to ask; "" uses the system resolver.
    nameserver_port (dns): its port.
    """

    kind: str
    target: str
    port: int | None = None
    timeout: float = 10.0
    expected_status: int | None = None
    keyword: str = ""
    follow_redirects: bool = True
    tls_warn_days: int = 14
    ca_file: str = ""
    expected_addresses: tuple[str, ...] = ()
    nameserver: str = ""
    nameserver_port: int = 53

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown check kind {self.kind!r}: use one of {', '.join(KINDS)}")
        if not self.target:
            raise ValueError("a check needs a target")
        if self.kind == "tcp" and not (isinstance(self.port, int) and 1 <= self.port <= 65535):
            raise ValueError(f"a TCP check needs a port between 1 and 65535, not {self.port!r}")
        if not self.timeout > 0:
            raise ValueError(f"the timeout must be more than 0 seconds, not {self.timeout!r}")
        # A list would make the frozen Probe unhashable; accept it and keep a tuple.
        object.__setattr__(self, "expected_addresses", tuple(self.expected_addresses))
        for address in self.expected_addresses:
            ipaddress.ip_address(address)  # raises ValueError naming the bad address


@dataclass(frozen=True)
class Result:
    """What one probe found.

    ok: the target is up.
    latency_ms: how long it took to answer (TCP connect; HTTP final response headers; ping
        round trip; DNS answers), None when nothing answered.
    error: why it is down, "" when ok.
    warning: something to fix while it is still up ("TLS certificate expires in 3 days").
    tls_expires_at: when the HTTPS certificate expires (UTC), None for anything else.
    """

    ok: bool
    latency_ms: float | None = None
    error: str = ""
    warning: str = ""
    tls_expires_at: datetime | None = field(default=None)


async def probe(p: Probe) -> Result:
    """Run one probe on its own (its own HTTP session and resolver); never raises for network trouble."""
    async with _Shared(concurrency=1) as shared:
        return await _probe(p, shared)


async def probe_all(probes: Iterable[Probe], *, concurrency: int = 500) -> list[Result]:
    """Run many probes concurrently, at most `concurrency` at a time; results in input order.

    They share one aiohttp session (at most `concurrency` connections, host names cached) and one
    DNS resolver per nameserver. Each probe's timeout starts when it gets its turn.
    """
    probes = list(probes)
    if not probes:
        return []
    turn = asyncio.Semaphore(concurrency)
    async with _Shared(concurrency) as shared:

        async def one(p):
            async with turn:
                return await _probe(p, shared)

        return await asyncio.gather(*(one(p) for p in probes))


def run_probes(probes: Iterable[Probe], *, concurrency: int = 500) -> list[Result]:
    """`probe_all` for synchronous callers (a Celery task): runs its own event loop."""
    return asyncio.run(probe_all(probes, concurrency=concurrency))


@functools.cache
def ping_mode() -> str:
    """How this process pings: "unprivileged", "privileged" or "unavailable" (decided once, see the module doc)."""
    for privileged, mode in ((False, "unprivileged"), (True, "privileged")):
        try:
            icmplib.ICMPv4Socket(privileged=privileged).close()
        except icmplib.SocketPermissionError:
            continue
        except icmplib.ICMPSocketError:
            pass  # not a question of permission (no IPv4 here?): this mode is allowed
        return mode
    return "unavailable"


class _Shared:
    """What the probes of one batch share: the HTTP session and the DNS resolvers."""

    def __init__(self, concurrency):
        self.concurrency = concurrency
        self._session = None
        self._resolvers = {}

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        if self._session is not None:
            await self._session.close()

    def session(self):
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=_CertificateKeepingConnector(limit=self.concurrency, ttl_dns_cache=DNS_CACHE_SECONDS),
                # Each request gets the probe's own timeout.
                timeout=aiohttp.ClientTimeout(total=None),
                # Monitors must not carry one check's cookies into the next.
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": USER_AGENT},
            )
        return self._session

    def peercert(self, url):
        """The certificate the HTTPS server at this URL showed in this batch, None if none."""
        if self._session is None:
            return None
        return self._session.connector.peercerts.get((url.host, url.port))

    def resolver(self, nameserver, port):
        key = (nameserver, port)
        if key not in self._resolvers:
            if nameserver:
                resolver = dns.asyncresolver.Resolver(configure=False)
                resolver.nameservers = [nameserver]
                resolver.port = port
            else:
                resolver = dns.asyncresolver.Resolver()  # reads /etc/resolv.conf
            self._resolvers[key] = resolver
        return self._resolvers[key]


class _CertificateKeepingConnector(aiohttp.TCPConnector):
    """Remembers each HTTPS server's certificate by host and port.

    aiohttp hands a connection back to its pool as soon as a small response has arrived, so by the
    time `get()` returns, `response.connection` is often None and the certificate out of reach.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.peercerts = {}

    async def connect(self, req, traces, timeout):
        connection = await super().connect(req, traces, timeout)
        if req.url.scheme == "https" and connection.transport is not None:
            self.peercerts[(req.url.host, req.url.port)] = connection.transport.get_extra_info("peercert")
        return connection


async def _probe(p, shared):
    check = {"tcp": _tcp, "http": _http, "ping": _ping, "dns": _dns}[p.kind]
    try:
        async with asyncio.timeout(p.timeout):
            return await check(p, shared)
    except TimeoutError:
        return _down(f"timed out after {_seconds(p.timeout)}")
    except Exception as exc:
        # A probe must never take the batch down with it; say what kind of thing went wrong.
        logger.warning("%s check of %s failed unexpectedly", p.kind, p.target, exc_info=True)
        return _down(f"check failed unexpectedly ({type(exc).__name__})")


async def _tcp(p, shared):
    started = time.monotonic()
    try:
        _reader, writer = await asyncio.open_connection(p.target, p.port)
    except OSError as exc:
        return _down(_os_error_message(exc, p.target))
    latency = _ms_since(started)
    writer.close()
    with contextlib.suppress(OSError):  # the connection was made; how it ends does not matter
        await writer.wait_closed()
    return Result(ok=True, latency_ms=latency)


async def _http(p, shared):
    try:
        context = _ssl_context(p.ca_file)
    except (OSError, ssl.SSLError):
        return _down(f"cannot read the CA file {p.ca_file}")
    started = time.monotonic()
    try:
        async with shared.session().get(
            p.target,
            allow_redirects=p.follow_redirects,
            ssl=context,
            timeout=aiohttp.ClientTimeout(total=p.timeout),
        ) as response:
            latency = _ms_since(started)
            peercert = shared.peercert(response.url) if response.url.scheme == "https" else None
            status_ok = (
                response.status == p.expected_status if p.expected_status is not None else 200 <= response.status < 400
            )
            if not status_ok:
                expected = f", expected {p.expected_status}" if p.expected_status is not None else ""
                return _down(f"HTTP {response.status}{expected}", latency)
            if p.keyword and p.keyword not in await _read_text(response):
                return _down(f"keyword “{p.keyword}” not found", latency)
    except aiohttp.ClientConnectorCertificateError as exc:
        return _down(_certificate_message(exc.certificate_error))
    except aiohttp.ClientConnectorDNSError:
        return _down(f"cannot resolve host name {_host_of(p.target)}")
    except aiohttp.ClientSSLError:
        return _down("TLS handshake failed")
    except aiohttp.ClientConnectorError as exc:
        return _down(_os_error_message(exc.os_error, _host_of(p.target)))
    except aiohttp.TooManyRedirects:
        return _down("too many redirects")
    except aiohttp.ServerDisconnectedError:
        return _down("the server closed the connection without answering")
    except aiohttp.NonHttpUrlClientError:
        return _down("not an http:// or https:// URL")
    except (aiohttp.InvalidURL, ValueError):
        return _down("not a valid URL")
    except (aiohttp.ClientResponseError, aiohttp.ClientPayloadError):
        return _down("the server sent an invalid HTTP response")
    except aiohttp.ClientOSError as exc:
        return _down(_os_error_message(exc, _host_of(p.target)))
    if peercert is None:
        return Result(ok=True, latency_ms=latency)
    return _judge_certificate(peercert, p.tls_warn_days, latency)


async def _ping(p, shared):
    mode = ping_mode()
    if mode == "unavailable":
        return _down(
            "ICMP ping is not permitted on this machine "
            "(run the checker as root or allow its group in sysctl net.ipv4.ping_group_range)"
        )
    try:
        host = await icmplib.async_ping(p.target, count=1, timeout=p.timeout, privileged=mode == "privileged")
    except icmplib.NameLookupError:
        return _down(f"cannot resolve host name {p.target}")
    except icmplib.ICMPSocketError as exc:
        return _down(f"cannot send a ping ({exc})")
    if not host.is_alive:
        return _down(f"no reply to ping within {_seconds(p.timeout)}")
    return Result(ok=True, latency_ms=host.avg_rtt)


async def _dns(p, shared):
    try:
        resolver = shared.resolver(p.nameserver, p.nameserver_port)
    except dns.resolver.NoResolverConfiguration:
        return _down("no DNS resolver is configured on this machine")
    except ValueError:
        return _down(f"{p.nameserver} is not a valid DNS server address")
    started = time.monotonic()
    answers = await asyncio.gather(
        *(resolver.resolve(p.target, rdtype, lifetime=p.timeout) for rdtype in ("A", "AAAA")),
        return_exceptions=True,
    )
    latency = _ms_since(started)
    found = sorted(
        {ipaddress.ip_address(r.address) for answer in answers if not isinstance(answer, Exception) for r in answer},
        key=lambda address: (address.version, address),
    )
    if not found:
        return _down(_dns_failure_message(p, [a for a in answers if isinstance(a, Exception)]))
    missing = [a for a in p.expected_addresses if ipaddress.ip_address(a) not in found]
    if missing:
        return _down(f"resolves to {', '.join(map(str, found))}, not {', '.join(missing)}", latency)
    return Result(ok=True, latency_ms=latency)


def _dns_failure_message(p, errors):
    for error in errors:
        if not isinstance(error, dns.exception.DNSException):
            raise error  # not DNS trouble: _probe reports it as unexpected

    def any_is(kind):
        return any(isinstance(error, kind) for error in errors)

    # The most telling failure first.
    if any_is(dns.resolver.NXDOMAIN):
        return f"{p.target} does not exist (NXDOMAIN)"
    if any_is(dns.exception.Timeout):
        return f"timed out after {_seconds(p.timeout)}"
    if any_is(dns.resolver.NoNameservers):
        return f"no DNS server answered for {p.target}"
    if any_is(dns.name.NameTooLong | dns.name.LabelTooLong | dns.name.EmptyLabel):
        return f"{p.target} is not a valid DNS name"
    others = [error for error in errors if not isinstance(error, dns.resolver.NoAnswer)]
    if others:
        return f"DNS lookup failed ({others[0]})"
    return f"{p.target} has no A or AAAA records"


async def _read_text(response):
    body = bytearray()
    while len(body) < BODY_LIMIT:
        chunk = await response.content.read(BODY_LIMIT - len(body))
        if not chunk:
            break
        body += chunk
    try:
        return body.decode(response.charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", errors="replace")


def _judge_certificate(peercert, warn_days, latency):
    expires_at = datetime.fromtimestamp(ssl.cert_time_to_seconds(peercert["notAfter"]), tz=UTC)
    days_left = (expires_at - datetime.now(UTC)).total_seconds() / 86400
    if days_left <= 0:
        # Verification refuses an expired certificate, so this is a clock racing the handshake.
        return _down(f"TLS certificate expired on {expires_at:%Y-%m-%d}", latency, tls_expires_at=expires_at)
    warning = ""
    if days_left < warn_days:
        if days_left < 1:
            warning = "TLS certificate expires in less than a day"
        else:
            days = round(days_left)
            warning = f"TLS certificate expires in {days} day{'s' if days != 1 else ''}"
    return Result(ok=True, latency_ms=latency, warning=warning, tls_expires_at=expires_at)


def _certificate_message(error):
    code = getattr(error, "verify_code", None)
    if code == 10:  # X509_V_ERR_CERT_HAS_EXPIRED
        return "TLS certificate expired"
    if code == 9:  # X509_V_ERR_CERT_NOT_YET_VALID
        return "TLS certificate is not valid yet"
    if code == 62:  # X509_V_ERR_HOSTNAME_MISMATCH
        return "TLS certificate is for another name"
    reason = getattr(error, "verify_message", "") or "verification failed"
    return f"TLS certificate not trusted ({reason})"


@functools.cache
def _ssl_context(ca_file):
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(ca_file)
    return context


def _os_error_message(exc, host):
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host name {host}"
    if isinstance(exc, TimeoutError):
        return "timed out"
    by_errno = {
        errno.ENETUNREACH: "network unreachable",
        errno.EHOSTUNREACH: "host unreachable",
        errno.ECONNREFUSED: "connection refused",
        errno.EMFILE: "the checker has too many open connections (raise its open-files limit)",
    }
    if exc.errno in by_errno:
        return by_errno[exc.errno]
    return f"cannot connect ({exc.strerror or exc})"


def _host_of(url):
    try:
        return URL(url).host or url
    except ValueError:
        return url


def _down(error, latency_ms=None, **fields):
    return Result(ok=False, latency_ms=latency_ms, error=error, **fields)


def _ms_since(started):
    return round((time.monotonic() - started) * 1000, 3)


def _seconds(timeout):
    return f"{timeout:g} s"


# --- DNS drift (monitors.dnscheck): what each recorded name resolves to ----------------------------


@dataclass(frozen=True)
class Lookup:
    """What one name resolved to, A and AAAA together.

    addresses: the addresses found (normalised text), empty when it resolves to nothing.
    nxdomain: the name does not exist at all (as opposed to existing with no A or AAAA record).
    error: why it could not be checked (a timeout, a server failure); "" when both queries got an
        answer. A Lookup with an error says nothing about the name: its addresses are empty.
    """

    addresses: frozenset[str] = frozenset()
    nxdomain: bool = False
    error: str = ""


def look_up_addresses(
    names: Iterable[str], *, nameserver: str = "", port: int = 53, timeout: float = 3.0, concurrency: int = 50
) -> dict[str, Lookup]:
    """{name: Lookup} for each name, asking `nameserver`:`port` ("" for the system's resolvers); never raises
    for network trouble. `timeout` bounds each name's two queries; at most `concurrency` names at a time."""
    return asyncio.run(_look_up_all(list(names), nameserver, port, timeout, concurrency))


async def _look_up_all(names, nameserver, port, timeout, concurrency):
    try:
        resolver = _Shared(concurrency).resolver(nameserver, port)
    except dns.resolver.NoResolverConfiguration:
        return dict.fromkeys(names, Lookup(error="no DNS resolver is configured on this machine"))
    except ValueError:
        return dict.fromkeys(names, Lookup(error=f"{nameserver} is not a valid DNS server address"))
    turn = asyncio.Semaphore(concurrency)

    async def one(name):
        async with turn:
            return await _look_up(resolver, name, timeout)

    return dict(zip(names, await asyncio.gather(*(one(name) for name in names)), strict=True))


async def _look_up(resolver, name, timeout):
    answers = await asyncio.gather(
        *(resolver.resolve(name, rdtype, lifetime=timeout) for rdtype in ("A", "AAAA")), return_exceptions=True
    )
    found, nxdomain = set(), False
    for answer in answers:
        if isinstance(answer, dns.resolver.NXDOMAIN):
            nxdomain = True
        elif isinstance(answer, dns.resolver.NoAnswer):
            pass
        elif isinstance(answer, dns.exception.Timeout):
            return Lookup(error=f"timed out after {_seconds(timeout)}")
        elif isinstance(answer, dns.resolver.NoNameservers):
            return Lookup(error="no DNS server answered (server failure or refused)")
        elif isinstance(answer, Exception):
            # A name the resolver refuses (too long), a socket error: not a verdict on the name either.
            logger.info("DNS lookup of %s failed: %r", name, answer)
            return Lookup(error=f"lookup failed ({type(answer).__name__})")
        else:
            found |= {str(ipaddress.ip_address(record.address)) for record in answer}
    return Lookup(addresses=frozenset(found), nxdomain=nxdomain and not found)
