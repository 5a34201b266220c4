"""A BMC is not trusted with where the password goes: Redfish links it sends that lead to another
host (userinfo tricks, absolute URLs, protocol-relative paths) are refused, never followed with
the controller's credentials. The hostile BMC is a real HTTPS server on 127.0.0.1, and the
"other host" a real listener that records whatever reaches it."""

import json
import ssl
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from power.drivers import ConfigError, get_driver
from power.models import PowerController

from .conftest import _self_signed


class _Thief(BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):  # noqa: N802 - http.server's name
        _Thief.seen.append(self.headers.get("Authorization"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def _hostile_bmc(link):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = json.dumps({"Members": [{"@odata.id": link}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


def _tls(server, folder):
    cert, key = _self_signed(folder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


@pytest.fixture
def thief(tmp_path):
    """Another HTTPS host: what a hostile BMC would like the password sent to."""
    server = _tls(ThreadingHTTPServer(("127.0.0.1", 0), _Thief), tmp_path)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Thief.seen = []
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def hostile_bmc(tmp_path):
    servers = []

    def start(link):
        server = _tls(ThreadingHTTPServer(("127.0.0.1", 0), _hostile_bmc(link)), tmp_path)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()


def _driver(port):
    controller = PowerController(
        name="evil-bmc",
        driver=PowerController.Driver.REDFISH,
        host="127.0.0.1",
        port=port,
        username="admin",
        secret="the-bmc-password",
        verify_tls=False,
        timeout=timedelta(seconds=2),
    )
    return get_driver(controller)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "link",
    [
        "@127.0.0.1:{thief}/redfish/v1/Systems/1",  # https://127.0.0.1:<bmc>@127.0.0.1:<thief>/...
        "http://127.0.0.1:{thief}/redfish/v1/Systems/1",
        "//127.0.0.1:{thief}/redfish/v1/Systems/1",
        "redfish/v1/Systems/1",  # not a path from the root: refused rather than guessed at
    ],
)
def test_a_link_to_another_host_is_refused_and_gets_no_password(hostile_bmc, thief, link):
    driver = _driver(hostile_bmc(link.format(thief=thief)))
    with pytest.raises(ConfigError, match="link Switchboard does not follow"):
        driver.state(1)
    assert _Thief.seen == []


@pytest.mark.django_db
def test_an_absolute_link_to_the_bmc_itself_is_followed(hostile_bmc):
    port = None

    def link():
        return f"https://127.0.0.1:{port}/redfish/v1/Systems/1"

    # The BMC's own address, written out in full: the same host and port, so it is followed.
    port = hostile_bmc("placeholder")
    driver = _driver(port)
    assert driver._url(link()) == link()
    assert driver._url("/redfish/v1/Systems/1") == link()
