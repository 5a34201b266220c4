"""Stand-ins for the demo co-op's machines and guests on 127.0.0.1, so its monitors have something to check.

Each demo monitor points at a port on 127.0.0.1 (demo/seed/inventory.py). DemoHosts answers on
every one of them with a small HTTP page (a TCP check only needs the connection), except for
the machines and guests named in the "down" file (var/demo-hosts-down.txt): a machine named
there takes its guests down with it, as a dead dom0 took its domUs in story 001.
`manage.py demo_hosts --stop xen1` and `--start xen1` edit that file; the running stand-ins
read it every second.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StandIn:
    """One port answering for one machine or guest (`host` is the machine it runs on, for a guest)."""

    port: int
    name: str
    host: str


def read_down(path):
    """The names in the down file, one per line ("xen1" stands for "xen1.foghorn.example.net")."""
    try:
        return {line.strip().lower() for line in Path(path).read_text().splitlines() if line.strip()}
    except FileNotFoundError:
        return set()


def write_down(path, names):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("".join(f"{name}\n" for name in sorted(names)))


def is_down(stand_in, down):
    """True when the stand-in's machine or guest, or the machine it runs on, is named in `down`."""
    return any(_names(stand_in.name, word) or _names(stand_in.host, word) for word in down)


def _names(full, word):
    full = full.lower()
    return full == word or full.startswith(word + ".")


class DemoHosts:
    """Serves every stand-in that is not down, and stops or starts them as the down file changes."""

    def __init__(self, stand_ins, down_file):
        self.stand_ins = list(stand_ins)
        self.down_file = down_file
        self.servers = {}

    async def serve(self, every=1.0):
        while True:
            await self.sync()
            await asyncio.sleep(every)

    async def sync(self):
        """Start the stand-ins that should answer and stop the ones that should not."""
        down = read_down(self.down_file)
        for stand_in in self.stand_ins:
            running = stand_in.port in self.servers
            if is_down(stand_in, down) and running:
                server = self.servers.pop(stand_in.port)
                server.close()
                await server.wait_closed()
                log.info("%s stopped answering on 127.0.0.1:%s", stand_in.name, stand_in.port)
            elif not is_down(stand_in, down) and not running:
                try:
                    self.servers[stand_in.port] = await asyncio.start_server(
                        lambda reader, writer, s=stand_in: self._answer(reader, writer, s), "127.0.0.1", stand_in.port
                    )
                except OSError as exc:
                    # A port something else holds: this one stand-in stays down, the others answer.
                    log.warning("%s cannot answer on 127.0.0.1:%s: %s", stand_in.name, stand_in.port, exc)
                    continue
                log.info("%s answering on 127.0.0.1:%s", stand_in.name, stand_in.port)

    async def _answer(self, reader, writer, stand_in):
        # Enough HTTP for a monitor: read the request head (if any), answer one page, close.
        with contextlib.suppress(OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=2)
            body = f"<!doctype html><title>{stand_in.name}</title><p>{stand_in.name} is up (demo stand-in).</p>\n"
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                f"Content-Length: {len(body.encode())}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + body.encode())
            await writer.drain()
        writer.close()

    async def close(self):
        for server in self.servers.values():
            server.close()
            await server.wait_closed()
        self.servers.clear()
