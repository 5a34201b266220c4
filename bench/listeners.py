"""Stand-ins for the machines and guests of a big co-op: listeners on 127.0.0.1 that answer as told.

    .venv/bin/python -m bench.listeners     # prints its ports as one JSON line, then obeys stdin

One asyncio loop in a process of its own, so its CPU is counted apart from the checker's. Every
port of a kind answers the same way:

- `tcp`: accepts and closes (a TCP check is up);
- `tcp_hung`: a full accept queue, never accepted: the SYN is dropped and the connect times out,
  as with a host that is off behind a firewall;
- `http`: `200 OK` at once; `http_slow`: `200 OK` after SLOW_SECONDS, inside the monitors' 5 s
  timeout, so the check is up but holds its place for that long;
- `http_error`: `503 Service Unavailable`; `http_hung`: reads the request and never answers;
- `refused`: ports nothing listens on;
- `victim_tcp`, `victim_http`: as `tcp` and `http` until `stop` arrives on stdin (then refused),
  `start` opens them again; each replies with a JSON line holding the time it happened;
- `smtp`: a mail server (aiosmtpd) that takes every message and keeps only a count: where
  alerts go (`mails` on stdin replies with how many arrived).

Each answer closes its connection (`Connection: close`): different hosts share no connection.
The ports are taken from BASE_PORT up, below the kernel's ephemeral range (32768 and up), so a
check's own source port is never a closed port it connects to (on loopback that would connect
to itself and look up). Closing stdin ends the process, so it never outlives the bench.
"""

import asyncio
import json
import socket
import sys
import threading
import time

BASE_PORT = 20000
SLOW_SECONDS = 2.0
PORTS = {
    "tcp": 16,
    "tcp_hung": 2,
    "http": 16,
    "http_slow": 4,
    "http_error": 2,
    "http_hung": 2,
    "refused": 4,
    "victim_tcp": 4,
    "victim_http": 4,
    "smtp": 1,
}
ANSWERS = {
    200: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n",
    503: b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
    b"Connection: close\r\n\r\nbusy\n",
}


class Close(asyncio.Protocol):
    """Accept and hang up: all a TCP check needs."""

    def connection_made(self, transport):
        transport.close()


class Http(asyncio.Protocol):
    """Read a request's head, then answer `status` (after `delay` seconds), or never when status is None."""

    def __init__(self, status, delay=0.0):
        self.status, self.delay = status, delay
        self.head = b""
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        if self.head is None:
            return
        self.head += data
        if b"\r\n\r\n" not in self.head:
            return
        self.head = None  # answered (or ignored) once
        if self.status is None:
            return
        if self.delay:
            asyncio.get_running_loop().call_later(self.delay, self.answer)
        else:
            self.answer()

    def answer(self):
        if not self.transport.is_closing():
            self.transport.write(ANSWERS[self.status])
            self.transport.close()


PROTOCOLS = {
    "tcp": Close,
    "victim_tcp": Close,
    "http": lambda: Http(200),
    "victim_http": lambda: Http(200),
    "http_slow": lambda: Http(200, SLOW_SECONDS),
    "http_error": lambda: Http(503),
    "http_hung": lambda: Http(None),
}


class CountMail:
    """aiosmtpd handler: accept every message, count it."""

    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.count += 1
        return "250 OK"


def free_ports(start, count, taken):
    """`count` ports from `start` up that nothing uses on 127.0.0.1 and not in `taken`."""
    found, port = [], start
    while len(found) < count:
        if port not in taken:
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                    found.append(port)
                except OSError:
                    pass
        port += 1
        if port >= 32768:
            raise RuntimeError("no free ports below 32768 on 127.0.0.1")
    return found


class Listeners:
    """Every kind's ports, listening; the victims can be stopped and started."""

    def __init__(self, base_port=BASE_PORT):
        self.ports, taken = {}, set()
        for kind, count in PORTS.items():
            self.ports[kind] = free_ports(base_port, count, taken)
            taken |= set(self.ports[kind])
        self.servers = {}
        self.hung = []
        self.mail = CountMail()

    async def open(self, kinds):
        loop = asyncio.get_running_loop()
        for kind in kinds:
            self.servers[kind] = [
                await loop.create_server(PROTOCOLS[kind], "127.0.0.1", port, backlog=4096) for port in self.ports[kind]
            ]

    async def start(self):
        from aiosmtpd.smtp import SMTP

        await self.open([kind for kind in PROTOCOLS])
        loop = asyncio.get_running_loop()
        self.servers["smtp"] = [
            await loop.create_server(lambda: SMTP(self.mail), "127.0.0.1", port) for port in self.ports["smtp"]
        ]
        for port in self.ports["tcp_hung"]:
            # Backlog 0 and one connection that is never accepted: the queue is full from now on.
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", port))
            listener.listen(0)
            filler = socket.create_connection(("127.0.0.1", port), timeout=2)
            self.hung += [listener, filler]

    def stop_victims(self):
        for kind in ("victim_tcp", "victim_http"):
            for server in self.servers.pop(kind, []):
                server.close()  # the listening socket is closed now: new connections are refused

    async def start_victims(self):
        await self.open([kind for kind in ("victim_tcp", "victim_http") if kind not in self.servers])


async def serve(base_port):
    listeners = Listeners(base_port)
    await listeners.start()
    print(json.dumps(listeners.ports), flush=True)
    loop = asyncio.get_running_loop()
    commands = asyncio.Queue()

    def read_stdin():
        for line in sys.stdin:
            loop.call_soon_threadsafe(commands.put_nowait, line.strip())
        loop.call_soon_threadsafe(commands.put_nowait, "quit")

    threading.Thread(target=read_stdin, daemon=True).start()
    while (command := await commands.get()) != "quit":
        if command == "stop":
            listeners.stop_victims()
            print(json.dumps({"stopped": time.time()}), flush=True)
        elif command == "start":
            await listeners.start_victims()
            print(json.dumps({"started": time.time()}), flush=True)
        elif command == "mails":
            print(json.dumps({"mails": listeners.mail.count}), flush=True)


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-port", type=int, default=BASE_PORT)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.base_port))


if __name__ == "__main__":
    main()
