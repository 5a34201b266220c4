"""Real peers for the tests that send messages (alerts, owner notices), on 127.0.0.1: an SMTP server
(aiosmtpd) and an HTTP server that takes apprise's webhook posts (json://) the way a ntfy or chat
bridge would. Their fixtures are in tests/conftest.py."""

import email
import json
import socket
import threading
import time
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """An SMTP server that keeps every message it is given."""

    def __init__(self):
        self.messages = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append({"to": envelope.rcpt_tos, "subject": message["subject"], "body": message.get_content()})
        return "250 OK"

    def start(self):
        self._controller.start()
        return self

    def stop(self):
        # A test may stop it first (a mail server that is down); the fixture's stop is then a no-op.
        if self._controller.server is not None:
            self._controller.stop()

    def wait_for(self, count, timeout=20):
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages

    def to(self, address):
        return [m for m in self.messages if address in m["to"]]


class Webhook:
    """An HTTP endpoint that records what apprise posts to it; can be told to fail or to hang."""

    def __init__(self):
        self.posts = []
        self.status = 200
        self.delay = 0.0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(hook.delay)
                hook.posts.append({"path": self.path, "json": json.loads(body or b"{}")})
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def url(self, path="alerts"):
        return f"json://127.0.0.1:{self.port}/{path}"

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
