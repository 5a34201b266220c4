"""The network probes against real peers on 127.0.0.1: what a volunteer sees for each kind of outage.

Every peer is real and started here: TCP listeners (one that accepts, one whose backlog is full so a
connect hangs), an HTTP server, HTTPS servers with certificates from a test CA made with
`cryptography`, and a tiny DNS server on a UDP port. Ping goes to 127.0.0.1 and to TEST-NET-2.
No database: the probes import no model.
"""

import asyncio
import socket
import ssl
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from monitors.probes import Probe, Result, ping_mode, probe, probe_all, run_probes

WELCOME = "Welcome to the Example Co-op"
# An address on no network here that nobody answers pings for. (192.0.2.1, TEST-NET-1, is this
# sandbox's own gateway and does answer.)
UNANSWERED_ADDRESS = "198.51.100.1"


# --- peers -------------------------------------------------------------------------------------


@contextmanager
def loop_in_a_thread():
    """An asyncio loop of its own for the servers, so the probes' asyncio.run() is separate from them."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        # A handler still sleeping for a probe that gave up long ago must not outlive the loop.
        run_in(loop, _cancel_the_rest())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


async def _cancel_the_rest():
    rest = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)


def run_in(loop, coroutine):
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result(10)


@pytest.fixture(scope="module")
def tcp_port():
    """A port that accepts every connection and closes it."""
    server = socket.create_server(("127.0.0.1", 0), backlog=4096)
    server.settimeout(0.2)
    stop = threading.Event()

    def accept_forever():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connection.close()

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(5)
    server.close()


@pytest.fixture(scope="module")
def closed_port():
    """A port nothing listens on: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def port_that_never_accepts():
    """A listener whose accept queue is full and never drained: the kernel drops new connection attempts."""
    server = socket.create_server(("127.0.0.1", 0), backlog=0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(10):
        filler = socket.socket()
        filler.settimeout(0.2)
        fillers.append(filler)
        try:
            filler.connect(("127.0.0.1", port))
        except TimeoutError:
            break  # the queue is full now
    else:
        pytest.fail("could not fill the listen backlog: the kernel accepted 10 connections on backlog 0")
    yield port
    for filler in fillers:
        filler.close()
    server.close()


def make_app():
    async def welcome(request):
        return web.Response(text=f"<h1>{WELCOME}</h1>", content_type="text/html")

    async def broken(request):
        return web.Response(status=503, text="Service Unavailable")

    async def moved(request):
        raise web.HTTPFound("/welcome")

    async def loop(request):
        raise web.HTTPFound("/loop")

    async def slow(request):
        await asyncio.sleep(5)
        return web.Response(text=WELCOME)

    async def big(request):
        return web.Response(text="x" * (1024 * 1024 + 10) + WELCOME)

    app = web.Application()
    app.add_routes(
        [
            web.get("/welcome", welcome),
            web.get("/broken", broken),
            web.get("/moved", moved),
            web.get("/loop", loop),
            web.get("/slow", slow),
            web.get("/big", big),
        ]
    )
    return app


@contextmanager
def web_server(loop, ssl_context=None):
    """Serve make_app() on a free port of 127.0.0.1; yields the port."""
    sock = socket.create_server(("127.0.0.1", 0))
    runner = web.AppRunner(make_app(), shutdown_timeout=0.5)
    run_in(loop, runner.setup())
    run_in(loop, web.SockSite(runner, sock, ssl_context=ssl_context).start())
    try:
        yield sock.getsockname()[1]
    finally:
        run_in(loop, runner.cleanup())


@pytest.fixture(scope="module")
def server_loop():
    with loop_in_a_thread() as loop:
        yield loop


@pytest.fixture(scope="module")
def http_url(server_loop):
    with web_server(server_loop) as port:
        yield f"http://127.0.0.1:{port}"


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Example Co-op test CA"))
        .issuer_name(_name("Example Co-op test CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def make_server_certificate(ca_cert, ca_key, not_before, not_after):
    """A certificate for 127.0.0.1 signed by the test CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("www.example.org"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def server_tls_context(directory, label, cert, key):
    cert_file, key_file = directory / f"{label}.pem", directory / f"{label}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.fixture(scope="module")
def tls(tmp_path_factory, server_loop):
    """HTTPS servers signed by a private CA: one certificate valid 3 more days, one expired yesterday."""
    directory = tmp_path_factory.mktemp("tls")
    ca_cert, ca_key = make_ca()
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    now = datetime.now(UTC).replace(microsecond=0)
    expiring, expiring_key = make_server_certificate(ca_cert, ca_key, now - timedelta(days=87), now + timedelta(days=3))
    expired, expired_key = make_server_certificate(ca_cert, ca_key, now - timedelta(days=90), now - timedelta(days=1))
    with (
        web_server(server_loop, server_tls_context(directory, "expiring", expiring, expiring_key)) as expiring_port,
        web_server(server_loop, server_tls_context(directory, "expired", expired, expired_key)) as expired_port,
    ):
        yield {
            "ca_file": str(ca_file),
            "expiring_url": f"https://127.0.0.1:{expiring_port}",
            "expiring_not_after": expiring.not_valid_after_utc,
            "expired_url": f"https://127.0.0.1:{expired_port}",
        }


# The tiny DNS server's zone: A and AAAA answers by name; any other name is NXDOMAIN.
ZONE = {
    "www.example.org.": ["192.0.2.10", "198.51.100.20"],
    "moved.example.org.": ["198.51.100.7"],
    "mail.example.org.": ["203.0.113.25", "2001:db8::25"],
    "ipv6only.example.org.": ["2001:db8::53"],
}
# Names the server never answers for, as a DNS server that has gone away.
SILENT = {"silent.example.org."}


@pytest.fixture(scope="module")
def nameserver():
    """A DNS server on a UDP port of 127.0.0.1, written with dnspython's message API; yields (address, port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def answer(wire):
        query = dns.message.from_wire(wire)
        question = query.question[0]
        name = question.name.to_text().lower()
        if name in SILENT:
            return None
        response = dns.message.make_response(query)
        if name not in ZONE:
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response
        wanted = 4 if question.rdtype == dns.rdatatype.A else 6
        addresses = [a for a in ZONE[name] if (":" in a) == (wanted == 6)]
        if question.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA) and addresses:
            rdtype = dns.rdatatype.to_text(question.rdtype)
            response.answer.append(dns.rrset.from_text_list(question.name, 60, "IN", rdtype, addresses))
        return response

    def serve():
        while not stop.is_set():
            try:
                wire, client = sock.recvfrom(4096)
            except TimeoutError:
                continue
            response = answer(wire)
            if response is not None:
                sock.sendto(response.to_wire(), client)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()
    stop.set()
    thread.join(5)
    sock.close()


def check(**fields) -> Result:
    """Run one probe the way a single check would."""
    return asyncio.run(probe(Probe(**fields)))


def dns_check(nameserver, name, **fields) -> Result:
    address, port = nameserver
    return check(kind="dns", target=name, nameserver=address, nameserver_port=port, timeout=2, **fields)


@contextmanager
def takes_at_most(seconds):
    started = time.monotonic()
    yield
    elapsed = time.monotonic() - started
    assert elapsed < seconds, f"took {elapsed:.2f} s, more than {seconds} s"


# --- TCP ---------------------------------------------------------------------------------------


def test_a_port_that_accepts_connections_is_up(tcp_port):
    result = check(kind="tcp", target="127.0.0.1", port=tcp_port, timeout=2)
    assert result.ok, result.error
    assert result.error == ""
    assert result.latency_ms is not None and result.latency_ms >= 0


def test_a_closed_port_is_down_with_connection_refused(closed_port):
    result = check(kind="tcp", target="127.0.0.1", port=closed_port, timeout=2)
    assert result == Result(ok=False, latency_ms=None, error="connection refused")


def test_a_port_that_never_accepts_times_out_within_the_timeout(port_that_never_accepts):
    with takes_at_most(2):
        result = check(kind="tcp", target="127.0.0.1", port=port_that_never_accepts, timeout=0.5)
    assert not result.ok
    assert result.error == "timed out after 0.5 s"


# --- HTTP --------------------------------------------------------------------------------------


def test_a_site_that_answers_with_its_keyword_is_up(http_url):
    result = check(kind="http", target=f"{http_url}/welcome", keyword="Example Co-op", timeout=2)
    assert result.ok, result.error
    assert result.latency_ms is not None
    assert result.tls_expires_at is None  # plain HTTP has no certificate


def test_a_site_without_its_keyword_is_down(http_url):
    result = check(kind="http", target=f"{http_url}/welcome", keyword="Goodbye", timeout=2)
    assert not result.ok
    assert result.error == "keyword “Goodbye” not found"
    assert result.latency_ms is not None  # it did answer


def test_only_the_first_megabyte_is_searched_for_the_keyword(http_url):
    result = check(kind="http", target=f"{http_url}/big", keyword=WELCOME, timeout=5)
    assert result.error == f"keyword “{WELCOME}” not found"


def test_a_site_that_answers_503_is_down(http_url):
    result = check(kind="http", target=f"{http_url}/broken", timeout=2)
    assert not result.ok
    assert result.error == "HTTP 503"
    assert result.latency_ms is not None


def test_a_site_that_must_answer_503_is_up_when_it_does(http_url):
    assert check(kind="http", target=f"{http_url}/broken", expected_status=503, timeout=2).ok


def test_a_redirect_is_followed_to_the_page_with_the_keyword(http_url):
    result = check(kind="http", target=f"{http_url}/moved", keyword=WELCOME, timeout=2)
    assert result.ok, result.error


def test_a_redirect_not_followed_is_up_unless_another_status_is_expected(http_url):
    assert check(kind="http", target=f"{http_url}/moved", follow_redirects=False, timeout=2).ok
    result = check(kind="http", target=f"{http_url}/moved", follow_redirects=False, expected_status=200, timeout=2)
    assert not result.ok
    assert result.error == "HTTP 302, expected 200"


def test_a_redirect_loop_is_down(http_url):
    result = check(kind="http", target=f"{http_url}/loop", timeout=5)
    assert result.error == "too many redirects"


def test_a_site_that_never_answers_times_out_within_the_timeout(http_url):
    with takes_at_most(2):
        result = check(kind="http", target=f"{http_url}/slow", timeout=0.5)
    assert not result.ok
    assert result.error == "timed out after 0.5 s"
    assert result.latency_ms is None


def test_a_web_server_that_is_not_running_is_down_with_connection_refused(closed_port):
    result = check(kind="http", target=f"http://127.0.0.1:{closed_port}/", timeout=2)
    assert result == Result(ok=False, error="connection refused")


def test_a_malformed_url_is_down_not_a_crash():
    result = check(kind="http", target="http://www.example.org:notaport/", timeout=2)
    assert not result.ok
    assert result.error == "not a valid URL"
    assert check(kind="http", target="ftp://www.example.org/", timeout=2).error == "not an http:// or https:// URL"


# --- HTTPS -------------------------------------------------------------------------------------


def test_a_certificate_from_an_unknown_authority_is_down(tls):
    result = check(kind="http", target=f"{tls['expiring_url']}/welcome", timeout=2)
    assert not result.ok
    assert result.error.startswith("TLS certificate not trusted ("), result.error
    assert "Traceback" not in result.error


def test_a_certificate_expiring_in_3_days_is_up_with_a_warning(tls):
    result = check(kind="http", target=f"{tls['expiring_url']}/welcome", ca_file=tls["ca_file"], timeout=2)
    assert result.ok, result.error
    assert result.warning == "TLS certificate expires in 3 days"
    assert result.tls_expires_at == tls["expiring_not_after"]


def test_a_certificate_beyond_the_warning_window_carries_no_warning(tls):
    result = check(
        kind="http", target=f"{tls['expiring_url']}/welcome", ca_file=tls["ca_file"], tls_warn_days=2, timeout=2
    )
    assert result.ok, result.error
    assert result.warning == ""
    assert result.tls_expires_at == tls["expiring_not_after"]


def test_an_expired_certificate_is_down(tls):
    result = check(kind="http", target=f"{tls['expired_url']}/welcome", ca_file=tls["ca_file"], timeout=2)
    assert result == Result(ok=False, error="TLS certificate expired")


def test_a_certificate_for_another_name_is_down(tls):
    # The certificate names 127.0.0.1; "localhost" reaches the same server under another name.
    port = tls["expiring_url"].rsplit(":", 1)[1]
    result = check(kind="http", target=f"https://localhost:{port}/welcome", ca_file=tls["ca_file"], timeout=2)
    assert result.error == "TLS certificate is for another name"


def test_a_missing_ca_file_is_down_with_a_clear_message(tls, tmp_path):
    result = check(kind="http", target=f"{tls['expiring_url']}/", ca_file=str(tmp_path / "nope.pem"), timeout=2)
    assert result.error == f"cannot read the CA file {tmp_path / 'nope.pem'}"


# --- ping --------------------------------------------------------------------------------------


def test_this_machine_can_ping():
    mode = ping_mode()
    print(f"ping mode here: {mode}")
    assert mode != "unavailable", (
        "ICMP is impossible on this machine even privileged: neither an unprivileged ICMP socket "
        "(sysctl net.ipv4.ping_group_range) nor a raw socket (root / CAP_NET_RAW) could be opened"
    )


def test_a_host_that_answers_ping_is_up():
    result = check(kind="ping", target="127.0.0.1", timeout=2)
    assert result.ok, result.error
    assert result.latency_ms is not None


def test_a_host_that_does_not_answer_ping_is_down():
    with takes_at_most(2):
        result = check(kind="ping", target=UNANSWERED_ADDRESS, timeout=0.5)
    assert not result.ok
    assert result.error in ("no reply to ping within 0.5 s", "timed out after 0.5 s"), result.error


# --- DNS ---------------------------------------------------------------------------------------


def test_a_name_that_resolves_is_up(nameserver):
    result = dns_check(nameserver, "www.example.org")
    assert result.ok, result.error
    assert result.latency_ms is not None


def test_a_name_that_resolves_to_its_recorded_addresses_is_up(nameserver):
    # Every recorded address must be among the answers; an extra answer is fine.
    assert dns_check(nameserver, "www.example.org", expected_addresses=("192.0.2.10",)).ok
    assert dns_check(nameserver, "www.example.org", expected_addresses=("198.51.100.20", "192.0.2.10")).ok


def test_a_recorded_ipv6_address_matches_however_it_is_written(nameserver):
    result = dns_check(nameserver, "mail.example.org", expected_addresses=("203.0.113.25", "2001:DB8:0:0::25"))
    assert result.ok, result.error
    assert dns_check(nameserver, "ipv6only.example.org").ok


def test_a_name_that_moved_to_another_address_is_down(nameserver):
    result = dns_check(nameserver, "moved.example.org", expected_addresses=("192.0.2.10",))
    assert not result.ok
    assert result.error == "resolves to 198.51.100.7, not 192.0.2.10"


def test_a_name_missing_one_of_its_recorded_addresses_is_down(nameserver):
    result = dns_check(nameserver, "www.example.org", expected_addresses=("192.0.2.10", "203.0.113.99"))
    assert result.error == "resolves to 192.0.2.10, 198.51.100.20, not 203.0.113.99"


def test_a_name_that_does_not_exist_is_down(nameserver):
    result = dns_check(nameserver, "gone.example.org")
    assert result == Result(ok=False, error="gone.example.org does not exist (NXDOMAIN)")


def test_a_dns_server_that_does_not_answer_times_out(nameserver):
    address, port = nameserver
    with takes_at_most(2):
        result = check(kind="dns", target="silent.example.org", nameserver=address, nameserver_port=port, timeout=0.5)
    assert result == Result(ok=False, error="timed out after 0.5 s")


# --- bad input ---------------------------------------------------------------------------------


def test_a_tcp_check_without_a_port_is_refused():
    with pytest.raises(ValueError, match="a TCP check needs a port between 1 and 65535"):
        Probe(kind="tcp", target="192.0.2.10")


def test_an_unknown_kind_of_check_is_refused():
    with pytest.raises(ValueError, match="unknown check kind 'smtp'"):
        Probe(kind="smtp", target="mail.example.org")


def test_a_recorded_address_that_is_not_an_address_is_refused():
    with pytest.raises(ValueError, match="192.0.2.300"):
        Probe(kind="dns", target="www.example.org", expected_addresses=("192.0.2.300",))


# --- batches -----------------------------------------------------------------------------------


def test_a_batch_of_every_kind_comes_back_in_order(tcp_port, closed_port, http_url, nameserver):
    address, port = nameserver
    probes = [
        Probe(kind="http", target=f"{http_url}/broken", timeout=2),
        Probe(kind="tcp", target="127.0.0.1", port=tcp_port, timeout=2),
        Probe(kind="dns", target="gone.example.org", nameserver=address, nameserver_port=port, timeout=2),
        Probe(kind="ping", target="127.0.0.1", timeout=2),
        Probe(kind="tcp", target="127.0.0.1", port=closed_port, timeout=2),
        Probe(kind="http", target=f"{http_url}/welcome", keyword=WELCOME, timeout=2),
        Probe(kind="dns", target="www.example.org", nameserver=address, nameserver_port=port, timeout=2),
    ]
    results = run_probes(probes)
    assert [(r.ok, r.error) for r in results] == [
        (False, "HTTP 503"),
        (True, ""),
        (False, "gone.example.org does not exist (NXDOMAIN)"),
        (True, ""),
        (False, "connection refused"),
        (True, ""),
        (True, ""),
    ]


def test_an_empty_batch_checks_nothing():
    assert run_probes([]) == []


def test_two_thousand_checks_run_together_and_keep_their_order(tcp_port, closed_port):
    timeout = 5
    probes = [
        Probe(kind="tcp", target="127.0.0.1", port=closed_port if i % 10 == 0 else tcp_port, timeout=timeout)
        for i in range(2000)
    ]
    started = time.monotonic()
    results = asyncio.run(probe_all(probes, concurrency=500))
    elapsed = time.monotonic() - started
    print(f"2,000 TCP probes in {elapsed:.2f} s (the timeouts add up to {len(probes) * timeout} s)")
    assert len(results) == len(probes)
    for i, result in enumerate(results):
        expected = (False, "connection refused") if i % 10 == 0 else (True, "")
        assert (result.ok, result.error) == expected, f"probe {i}: {result}"
    assert elapsed < 30
