"""The webhook tests' co-op: Ada set up one endpoint, "Ops chat", at a real HTTP server on 127.0.0.1 that
records every POST (headers and the exact body) and answers as a test tells it to — 200, a 4xx or 5xx,
slowly, or not at all once it is stopped (its port closed; started again on the same port)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook

# The shared cast (tests/cast.py); pytest allows pytest_plugins only in the top conftest.
from tests.cast import operator  # noqa: F401
from webhooks.models import WebhookEndpoint

SITE_URL = "https://switchboard.example.org"


class Receiver:
    """An HTTP server on 127.0.0.1 that keeps every POST; `answers` are the statuses to give, in turn."""

    def __init__(self, port=0):
        self.posts = []
        self.answers = []  # e.g. [503, 200]; empty: 200
        self.headers = {}  # extra response headers (Retry-After)
        self.delay = 0.0
        self._port = port
        self.server = None

    @property
    def port(self):
        return self._port

    @property
    def url(self):
        return f"http://127.0.0.1:{self._port}/hooks/ops?token=receiver-token-123"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(receiver.delay)
                receiver.posts.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
                self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self.server.daemon_threads = True
        self._port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        """Close the port: a POST now finds nobody listening (connection refused)."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def wait_for(self, count, timeout=20):
        deadline = time.monotonic() + timeout
        while len(self.posts) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.posts

    def events(self):
        return [json.loads(post["body"])["type"] for post in self.posts]


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.SITE_URL = SITE_URL
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    settings.WEBHOOK_QUEUE = ""


@pytest.fixture
def endpoint(db, receiver):
    """Ada's "Ops chat" endpoint: every event, signed with a secret Switchboard made."""
    return WebhookEndpoint.objects.create(name="Ops chat", url=receiver.url)


def verify(endpoint, post):
    """What the receiver would do: check the signature with the endpoint's secret; returns the payload."""
    secret = WebhookEndpoint.objects.get(pk=endpoint.pk).secret
    return Webhook(secret).verify(post["body"], post["headers"])
