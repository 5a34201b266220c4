"""What processes cost, read from /proc (Linux; psutil is not a dependency): CPU seconds, peak RSS,
and what else was running on the machine while a benchmark measured.

`snapshot()` reads every process once; the difference of two snapshots says how many CPU seconds
each process used in between, so a benchmark can print its own processes' cost and the load the
rest of the machine put on the same cores.
"""

import os
import time
from dataclasses import dataclass

TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Proc:
    """One process at one moment: its parent, CPU seconds so far (its own, and its ended children's),
    peak and current RSS (MB), command."""

    pid: int
    ppid: int
    cpu_s: float
    children_cpu_s: float
    peak_rss_mb: float
    rss_mb: float
    command: str


def read(pid):
    """The process `pid` now, or None when it is gone (or a kernel thread, which has no memory)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            command = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name in field 2 may hold spaces and parentheses: split after its last ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    if "VmHWM" not in status:
        return None
    return Proc(
        pid=pid,
        ppid=int(fields[1]),
        cpu_s=(int(fields[11]) + int(fields[12])) / TICK,
        children_cpu_s=(int(fields[13]) + int(fields[14])) / TICK,
        peak_rss_mb=int(status["VmHWM"].split()[0]) / 1024,
        rss_mb=int(status["VmRSS"].split()[0]) / 1024,
        command=command or status.get("Name", "").strip(),
    )


def snapshot():
    """Every process on the machine now, by pid."""
    procs = (read(int(name)) for name in os.listdir("/proc") if name.isdigit())
    return {p.pid: p for p in procs if p is not None}


def tree(pid, procs):
    """`pid` and all its descendants among `procs` (a snapshot)."""
    children = {}
    for p in procs.values():
        children.setdefault(p.ppid, []).append(p.pid)
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        if current in procs:
            found.append(current)
        todo += children.get(current, [])
    return found


def cost(pids, before, after):
    """CPU seconds used between two snapshots, and the largest peak RSS (MB), of these processes.

    A process born in between counts from zero; one that ended in between counts through its
    parent's children time (all of its life, so a little too much). Take `after` before
    stopping anything.
    """
    cpu = 0.0
    for pid in pids:
        if pid in after:
            was = before.get(pid)
            cpu += after[pid].cpu_s + after[pid].children_cpu_s - (was.cpu_s + was.children_cpu_s if was else 0.0)
    peak = max((after[pid].peak_rss_mb for pid in pids if pid in after), default=0.0)
    return cpu, peak


def named(word, procs):
    """The pids whose command starts with `word` (e.g. every postgres process)."""
    return {pid for pid, p in procs.items() if p.command.split(" ", 1)[0].rsplit("/", 1)[-1].startswith(word)}


def busiest(mine, before, after, top=5):
    """[(CPU s, command)] of the live processes not in `mine`, busiest first (their own CPU, not their children's)."""
    used = {}
    for pid, p in after.items():
        if pid in mine:
            continue
        delta = p.cpu_s - (before[pid].cpu_s if pid in before else 0.0)
        if delta > 0:
            name = _short(p.command)
            used[name] = used.get(name, 0.0) + delta
    return sorted(((cpu, name) for name, cpu in used.items()), reverse=True)[:top]


def _short(command):
    words = command.split()
    if not words:
        return "?"
    if "pytest" in command or "exec(eval(sys.stdin.readline()))" in command:  # xdist workers start so
        return "pytest"
    if words[0].startswith("postgres"):
        return "postgres"
    return " ".join(w.rsplit("/", 1)[-1] for w in words[:3])[:60]


def machine_cpu():
    """(busy, total) CPU seconds of the whole machine since boot, all cores (from /proc/stat)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / TICK, sum(values) / TICK


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def time_wait_sockets():
    """TCP sockets in TIME_WAIT on the machine now (/proc/net/sockstat)."""
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                words = line.split()
                return int(words[words.index("tw") + 1])
    return 0


class Meter:
    """CPU and memory of some process trees and of the rest of the machine, over a stretch of time."""

    def __init__(self):
        self.started = time.monotonic()
        self.before = snapshot()
        self.machine_before = machine_cpu()

    def stop(self):
        self.seconds = time.monotonic() - self.started
        self.after = snapshot()
        busy, total = machine_cpu()
        self.machine_busy = busy - self.machine_before[0]
        self.machine_total = total - self.machine_before[1]
        return self

    def of(self, *roots):
        """(CPU s, peak RSS MB of the largest process, process count) of these processes and their children."""
        pids = {pid for root in roots for pid in tree(root, self.after)}
        cpu, peak = cost(pids, self.before, self.after)
        return cpu, peak, len(pids)

    def shared(self, word):
        """CPU s of every process named `word` (postgres, redis-server): shared with whatever else runs."""
        return cost(named(word, self.after), self.before, self.after)[0]

    def describe_rest(self, *roots):
        """One line: how busy the machine was, and what else used its CPU during the stretch.

        "Everything else" is the machine's busy time less these trees, this process, PostgreSQL and
        Redis: it includes processes that started and ended in between, which no snapshot sees.
        """
        mine = {pid for root in (os.getpid(), *roots) for pid in tree(root, self.after)}
        servers = named("postgres", self.after) | named("redis-server", self.after)
        postgres, redis = self.shared("postgres"), self.shared("redis-server")
        rest = max(self.machine_busy - cost(mine, self.before, self.after)[0] - postgres - redis, 0.0)
        top = busiest(mine | servers, self.before, self.after)
        share = ", ".join(f"{name} {seconds:.0f} s" for seconds, name in top if seconds >= 1) or "nothing running long"
        busy = self.machine_busy / max(self.machine_total, 1e-9)
        return (
            f"over {self.seconds:.0f} s the machine's {os.cpu_count()} cores were {busy:.0%} busy;"
            f" PostgreSQL (all databases) used {postgres:.0f} CPU-s, Redis {redis:.0f};"
            f" everything else {rest:.0f} CPU-s ({rest / max(self.seconds, 1e-9):.1f} cores;"
            f" of it, still running: {share});"
            f" load average at the end {load_average()}"
        )
