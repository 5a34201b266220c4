"""The parts the fault tests break, all on 127.0.0.1 and all stopped by the test that owns them:

- RedisServer: a real redis-server of the test's own (a free port, its own folder, nothing saved to
  disk), to stop and start again;
- TCPProxy: in front of a real peer (PostgreSQL, S3, SMTP). `cut()` refuses connections (listener
  closed, open connections dropped) until `restore()`; `stall()` accepts connections and answers
  nothing, reading and throwing away whatever the client sends, until `flow()`;
- HoldingMailbox: the SMTP server of tests/peers.py that can hold its answer to QUIT, after it has
  taken the message (the moment a worker is killed in test_worker_killed_mid_send.py).
"""

import asyncio
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import redis

from tests.peers import Mailbox

PEER_WAIT = 10  # seconds a peer may take to start


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """redis-server on 127.0.0.1:`port`, keeping nothing on disk: a restart empties it, as in the README's CI."""

    def __init__(self, folder: Path, binary=None):
        self.binary = binary or shutil.which("redis-server")
        self.folder = folder
        self.port = free_port()
        self.process = None

    def url(self, db=0):
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self):
        log = self.folder / "redis.log"
        command = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.folder), "--logfile", str(log)]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2, socket_timeout=0.5)
        deadline = time.monotonic() + PEER_WAIT
        while True:
            try:
                client.ping()
                return self
            except redis.RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    said = log.read_text()[-1500:] if log.exists() else ""
                    raise RuntimeError(f"redis-server did not answer on {self.port}: {said}") from None
                time.sleep(0.05)

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def flush(self):
        redis.Redis(port=self.port, socket_timeout=2).flushall()

    def keys(self, pattern):
        return redis.Redis(port=self.port, socket_timeout=2).keys(pattern)


class TCPProxy:
    """127.0.0.1:`port` forwarding to `target_port` (None: a server that only ever stalls)."""

    def __init__(self, target_port=None, target_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.port = free_port()
        self.mode = "flow"
        # (accepted at, closed by the client at) of each connection held while stalled, in monotonic seconds.
        self.held = []
        self._server = None
        self._streams = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"proxy-{self.port}", daemon=True)

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        self._thread.start()
        self._run(self._listen)
        return self

    def cut(self):
        """Refuse connections from now on and drop the open ones: as when the server's process is gone."""
        self._run(self._cut)

    def restore(self):
        """Listen and forward again on the same port."""
        self.mode = "flow"
        self._run(self._listen)

    def stall(self):
        """Accept connections and answer nothing; the open ones are dropped, so pooled clients come back into it."""
        self.mode = "stall"
        self._run(self._drop_all)

    def flow(self):
        """Forward again; connections held while stalled are closed."""
        self.mode = "flow"
        self._run(self._drop_all)

    def stop(self):
        if self._thread.is_alive():
            self._run(self._cut)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def _run(self, make, timeout=10):
        return asyncio.run_coroutine_threadsafe(make(), self._loop).result(timeout)

    async def _listen(self):
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)

    async def _cut(self):
        if self._server is not None:
            self._server.close()
            self._server = None
        await self._drop_all()

    async def _drop_all(self):
        for writer in list(self._streams):
            writer.transport.abort()
        self._streams.clear()

    async def _accept(self, reader, writer):
        self._streams.add(writer)
        try:
            if self.mode == "stall" or self.target[1] is None:
                await self._hold(reader)
            else:
                await self._forward(reader, writer)
        finally:
            self._streams.discard(writer)
            writer.transport.abort()

    async def _hold(self, reader):
        record = [time.monotonic(), None]
        self.held.append(record)
        try:
            while await reader.read(65536):
                pass  # whatever the client says, it gets no answer
        except OSError:
            pass
        record[1] = time.monotonic()

    async def _forward(self, reader, writer):
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            return
        self._streams.add(upstream_writer)

        async def pipe(source, sink):
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except OSError:
                pass

        pipes = [
            asyncio.ensure_future(pipe(reader, upstream_writer)),
            asyncio.ensure_future(pipe(upstream_reader, writer)),
        ]
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pipes:
                task.cancel()
            self._streams.discard(upstream_writer)
            upstream_writer.transport.abort()


class HoldingMailbox(Mailbox):
    """A Mailbox that, with `hold_quit` on, takes the message (250) and then holds its answer to QUIT."""

    def __init__(self):
        super().__init__()
        self.hold_quit = False
        self.quit_held = threading.Event()  # set once a client's QUIT is being held
        self._release = threading.Event()

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.hold_quit:
            self.quit_held.set()
            deadline = time.monotonic() + 30
            while not self._release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        return "221 Bye"

    def release(self):
        self._release.set()
