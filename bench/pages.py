"""Load-test the pages volunteers use, on loopback, against one or more bench databases.

    .venv/bin/python -m bench.pages                                  # switchboard_bench
    .venv/bin/python -m bench.pages switchboard_bench switchboard_bench_small
    .venv/bin/python -m bench.pages --with-checker --connections 16  # while 60,000 monitors are checked
    .venv/bin/python -m bench.pages --writer 10 --modes kept         # while 10 heartbeat pings/s arrive
    .venv/bin/python -m bench.pages --public-only --modes kept cache-down  # public pages; also with Redis down

For each database: collectstatic into a temporary STATIC_ROOT (DEBUG is off, so the manifest
storage needs it), log in the bench member, count each page's SQL queries once in-process
(django.test.Client + CaptureQueriesContext), start gunicorn (sync workers) on 127.0.0.1, drive
each page with wrk for a fixed time, and stop gunicorn (always); once with pages kept until the
data changes (as deployed) and once rendered on every request (MODES). Then one table per
database and mode, and a big-vs-small comparison. Each page is compared with a bare Django
page served by the same gunicorn, behind the same middleware, with the same session cookie
(bench/urls.py).

The public pages (/status/ and what hangs off it, anonymous) are kept a few seconds for everyone
in both of those modes, as deployed (front.views.public). `--modes cache-down` points the cache
at a closed port: every page, public ones included, is rendered on every request, as while Redis
is down (core.page_cache fails open). `--public-only` measures only them and the bare page.

Live modes run on a copy of the database (`<database>_live`, made afresh), so the co-op is left
as bench.make_big_coop made it:
- `--with-checker`: bench.monitor_load --serve runs the uptime checker on the copy (all of its
  monitors pointed at local listeners, Celery workers, a dispatch every 5 s); the pages are
  measured once its first interval is done, and its figures for the time the pages ran are
  printed with the tables. `--checker-options` passes options on (batch size, workers...).
- `--writer N`: N heartbeat pings a second (GET /ping/<uuid>/, the URL backup jobs call) reach
  the same gunicorn while each page is measured: each one is a write, as in production.
"""

import argparse
import http.client
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from bench import proc
from bench.env import DEFAULT_DATABASE, ROOT, bench_environ, use_database
from bench.monitor_load import copy_database, live_database, percentiles

BARE = "bare Django page"


# --- In the child process: one database ------------------------------------------------------------


def pick_pages():
    """(label, path, logged_in) for every page measured, chosen from the database's data."""
    from django.db.models import Count

    from hosts.models import Guest, Machine
    from incidents.models import TimelineEntry

    big = Machine.objects.annotate(n=Count("guests")).order_by("-n", "pk").first()
    guests = Guest.objects.order_by("pk")
    guest = guests.prefetch_related("addresses", "dns_names")[guests.count() // 2]  # a typical guest, mid-table
    ipv6 = next(a.address for a in guest.addresses.all() if ":" in a.address)
    dns_name = guest.dns_names.all()[0].name
    busiest = TimelineEntry.objects.values("incident").annotate(n=Count("pk")).order_by("-n").first()
    slug, updates = public_incident()
    return [
        (BARE, "/bench-bare/", True),
        ("bare page reading request.user", "/bench-bare-user/", True),
        (f"machine page ({big.n:,} guests)", f"/machines/{big.hostname}/", True),
        ("machine list", "/machines/", True),
        ("search: IPv6 address", f"/search/?q={ipv6}", True),
        ("search: DNS name", f"/search/?q={dns_name}", True),
        ("dashboard", "/", True),
        (f"incident ({busiest['n']:,} entries)", f"/incidents/{busiest['incident']}/", True),
        ("status (anonymous)", "/status/", False),
        (f"public incident ({updates:,} public updates)", f"/status/incidents/{slug}/", False),
        ("incidents feed", "/status/feed.atom", False),
        ("public incident's feed", f"/status/incidents/{slug}/feed.atom", False),
        ("status.json", "/status/status.json", False),
        ("badge.svg", "/status/badge.svg", False),
    ]


def public_incident():
    """The public address of the public incident with the most entries, and its public updates.

    bench.make_big_coop marks incidents public without publishing them and writes their entries
    as Switchboard (no author), which the public never reads. The first run gives that incident
    its address and credits its public entries to the bench member, as if a person had written
    them (a few hundred rows; later runs change nothing).
    """
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Q

    from incidents.models import Incident, TimelineEntry

    incident = (
        Incident.objects.filter(is_public=True, title_by_switchboard=False)
        .annotate(n=Count("timeline", filter=Q(timeline__is_public=True)))
        .order_by("-n", "pk")
        .first()
    )
    if not incident.public_slug:
        Incident.objects.filter(pk=incident.pk).update(public_slug=f"bench-{incident.pk}")
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"email": "bench@example.org"})
    TimelineEntry.objects.filter(incident=incident, is_public=True, author__isnull=True).update(author=user)
    updates = TimelineEntry.objects.filter(incident=incident, is_public=True, author__isnull=False).count()
    return Incident.objects.values_list("public_slug", flat=True).get(pk=incident.pk), updates


def sizes():
    from hosts.models import Guest, Machine
    from incidents.models import TimelineEntry

    entries = TimelineEntry.objects.count()
    return {"machines": Machine.objects.count(), "guests": Guest.objects.count(), "entries": entries}


def session_cookie():
    """A logged-in session of the bench member (a member of the Members group), as a cookie value."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from core.access import MEMBERS

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"email": "bench@example.org"})
    user.groups.add(Group.objects.get_or_create(name=MEMBERS)[0])
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def count_queries(pages, cookie):
    """Per path: status, SQL query count, SQL time and the slowest query, from a second (warm) request."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for _label, path, logged_in in pages:
        client = Client()
        if logged_in:
            client.cookies["sessionid"] = cookie
        client.get(path)  # warm: the first request may fill per-process caches (content types, templates)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        times = [(float(q["time"]), q["sql"]) for q in captured.captured_queries]
        slowest = max(times, default=(0.0, ""))
        counts[path] = {
            "status": response.status_code,
            "queries": len(times),
            "sql_ms": round(sum(t for t, _ in times) * 1000, 1),
            "slowest_ms": round(slowest[0] * 1000, 1),
            "slowest_sql": slowest[1][:300],
        }
    return counts


def get(port, path, cookie=None):
    """Status and body length of one GET (no redirect following: a login redirect must show as 302)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}"} if cookie else {})
        response = conn.getresponse()
        return response.status, len(response.read())
    finally:
        conn.close()


def start_gunicorn(port, workers, extra_env):
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "bench.wsgi:application",
        f"--workers={workers}",
        f"--bind=127.0.0.1:{port}",
        "--worker-class=sync",
        "--log-level=warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **extra_env})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            if get(port, "/bench-bare/")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    stop(server)
    raise RuntimeError("gunicorn did not answer within 30 s")


def stop(server):
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def to_ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(port, path, cookie, seconds, threads, connections):
    """Requests/s, p50 and p99 latency (ms) and the count of non-2xx answers and socket errors."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if cookie:
        command += ["-H", f"Cookie: sessionid={cookie}"]
    out = subprocess.run([*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True)
    text = out.stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: connect (\d+), read \d+, write (\d+), timeout (\d+)", text)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
        "p50_ms": to_ms(re.search(r"\s50%\s+(\S+)", text).group(1)),
        "p99_ms": to_ms(re.search(r"\s99%\s+(\S+)", text).group(1)),
        "requests": int(re.search(r"(\d+) requests in", text).group(1)),
        "non_2xx": int(errors.group(1)) if errors else 0,
        # connect/write errors and timeouts; "read" errors are gunicorn's sync workers closing after each reply
        "socket_errors": sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
    }


class Writer:
    """N heartbeat pings a second to gunicorn until stopped: a stream of ordinary writes.

    Each ping is sent on time from a small thread pool, so a slow answer (gunicorn is busy with
    wrk) does not slow the stream down.
    """

    def __init__(self, port, per_second):
        from backups.models import BackupTarget

        self.port, self.per_second = port, per_second
        self.paths = [
            f"/ping/{heartbeat_id}/"
            for heartbeat_id in BackupTarget.objects.filter(kind=BackupTarget.Kind.HEARTBEAT)
            .order_by("pk")
            .values_list("heartbeat_id", flat=True)[:1000]
        ]
        self.latencies, self.errors = [], 0
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=16)
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def run(self):
        n, next_at = 0, time.monotonic()
        while not self.done.is_set():
            self.pool.submit(self.ping, self.paths[n % len(self.paths)])
            n += 1
            next_at += 1 / self.per_second
            self.done.wait(max(next_at - time.monotonic(), 0))

    def ping(self, path):
        started = time.monotonic()
        try:
            ok = get(self.port, path)[0] == 200
        except OSError:
            ok = False
        with self.lock:
            self.errors += not ok
            self.latencies.append((time.monotonic() - started) * 1000)

    def stop(self):
        self.done.set()
        self.thread.join(timeout=5)
        self.pool.shutdown(wait=True)
        p50, p99 = percentiles(self.latencies, 0.5, 0.99)
        return {"pings": len(self.latencies), "errors": self.errors, "p50_ms": p50, "p99_ms": p99}


# How each page is served: kept per viewer until the data changes (the default), and rendered on
# every request (PAGE_CACHE_SECONDS=0), which is what the first view after any change costs.
# `cache-down`: Redis at a closed port, so nothing is kept at all (not in the default run).
MODES = {"kept": {}, "rendered": {"PAGE_CACHE_SECONDS": "0"}, "cache-down": {"REDIS_URL": "redis://127.0.0.1:9/2"}}
DEFAULT_MODES = ["kept", "rendered"]


@contextmanager
def cache_state(mode):
    """In-process, for the query counts: in cache-down mode the cache counts as unreachable."""
    from core import page_cache

    if mode != "cache-down":
        yield
        return
    page_cache._cache_down_until = float("inf")
    try:
        yield
    finally:
        page_cache._cache_down_until = 0.0


def run_one(database, args):
    """Everything for one database; returns a JSON-able dict."""
    use_database(database)
    from django.conf import settings
    from django.core.management import call_command

    shutil.rmtree(os.environ["BENCH_STATIC_ROOT"], ignore_errors=True)
    call_command("collectstatic", interactive=False, verbosity=0)
    pages = pick_pages()
    if args.public_only:
        pages = [page for page in pages if page[0] == BARE or not page[2]]
    cookie = session_cookie()
    result = {"database": database, "sizes": sizes(), "pages": [], "writer_rate": args.writer}
    for mode in args.modes:
        settings.PAGE_CACHE_SECONDS = int(MODES[mode].get("PAGE_CACHE_SECONDS", settings.PAGE_CACHE_SECONDS))
        with cache_state(mode):
            counts = count_queries(pages, cookie)
        server = start_gunicorn(args.port, args.workers, MODES[mode])
        writer = Writer(args.port, args.writer).start() if args.writer else None
        meter = proc.Meter()
        try:
            for label, path, logged_in in [*pages, (BARE + " (again)", "/bench-bare/", True)]:
                cookie_here = cookie if logged_in else None
                status, length = get(args.port, path, cookie_here)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}, not 200")
                wrk(args.port, path, cookie_here, 2, args.threads, args.connections)  # warm-up, not counted
                figures = wrk(args.port, path, cookie_here, args.duration, args.threads, args.connections)
                row = {"mode": mode, "label": label, "path": path, "bytes": length, **figures, **counts.get(path, {})}
                result["pages"].append(row)
                print(f"  {database} ({mode}): {label:32} {figures['rps']:8.1f} req/s", file=sys.stderr, flush=True)
            meter.stop()
            # The checker (--with-checker) is the parent's child, not ours: counted on its own.
            checker = int(os.environ.get("BENCH_CHECKER_PID", 0))
            if checker:
                cpu, _, _ = meter.of(checker)
                result.setdefault("checker_cpu_s", {})[mode] = round(cpu, 1)
            result.setdefault("elsewhere", {})[mode] = meter.describe_rest(server.pid, *([checker] if checker else []))
        finally:
            if writer is not None:
                result.setdefault("writer", {})[mode] = writer.stop()
            stop(server)
    return result


# --- In the parent: one child per database, then the tables ----------------------------------------


def table(result, mode):
    pages = [p for p in result["pages"] if p["mode"] == mode]
    bare = [p["rps"] for p in pages if p["label"].startswith(BARE)]
    bare_rps = sum(bare) / len(bare)
    sizes = result["sizes"]
    lines = [
        f"### {result['database']}, pages {mode}: {sizes['machines']:,} machines, {sizes['guests']:,} guests, "
        f"{sizes['entries']:,} timeline entries",
        "",
        "| page | URL | req/s | p50 ms | p99 ms | vs bare | queries | SQL ms | target |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for p in pages:
        ratio = p["rps"] / bare_rps
        ok = "" if p["label"].startswith(BARE) else ("ok" if ratio >= 0.5 else "**MISS**")
        if ok and p["p99_ms"] >= 100:
            ok += ", p99 ≥ 100 ms"
        if not p["requests"]:
            ok += " (no request finished within the run)"
        if p["non_2xx"] or p["socket_errors"]:
            ok += f" ({p['non_2xx']} non-2xx, {p['socket_errors']} socket errors)"
        path = p["path"] if len(p["path"]) <= 60 else p["path"][:57] + "..."
        lines.append(
            f"| {p['label']} | `{path}` | {p['rps']:.0f} | {p['p50_ms']:.1f} | {p['p99_ms']:.1f} | "
            f"{ratio:.2f} | {p.get('queries', '')} | {p.get('sql_ms', '')} | {ok} |"
        )
    lines.append("")
    lines.append(f"Bare page: {bare_rps:.0f} req/s (mean of the first and last run: {bare[0]:.0f}, {bare[-1]:.0f}).")
    writer = result.get("writer", {}).get(mode)
    if writer:
        lines.append(
            f"Writer: {writer['pings']:,} heartbeat pings while the pages ran ({writer['errors']} failed, asked for"
            f" {result['writer_rate']:g}/s),"
            f" p50 {writer['p50_ms']:.0f} ms, p99 {writer['p99_ms']:.0f} ms."
        )
    if result.get("checker_cpu_s", {}).get(mode) is not None:
        lines.append(
            f"The checker (workers, listeners, dispatch) used {result['checker_cpu_s'][mode]} CPU-s meanwhile."
        )
    if result.get("elsewhere", {}).get(mode):
        beside = "gunicorn, wrk and the checker" if "checker_cpu_s" in result else "gunicorn and wrk"
        lines.append(f"Beside {beside}: {result['elsewhere'][mode]}.")
    slow = [p for p in pages if p.get("slowest_ms", 0) >= 5]
    for p in slow:
        lines.append(f"- slowest query on {p['label']}: {p['slowest_ms']} ms: `{p['slowest_sql'][:200]}`")
    return "\n".join(lines)


def comparison(results):
    """Per page: req/s and queries for each database, so growth shows at a glance."""
    head = " | ".join(f"{r['sizes']['machines']:,} machines: req/s, queries" for r in results)
    lines = [f"| page | {head} |", "|---|" + "---|" * len(results)]
    for i, page in enumerate(results[0]["pages"]):
        cells = [f"{r['pages'][i]['rps']:.0f}, {r['pages'][i].get('queries', '')}" for r in results]
        label = re.sub(r" \(.*\)", "", page["label"]) if "again" not in page["label"] else page["label"]
        lines.append(f"| {label} ({page['mode']}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def start_checker(database, options):
    """bench.monitor_load --serve on a copy of `database`, returned once its first interval is done."""
    command = [sys.executable, "-m", "bench.monitor_load", "--serve", "--source", database, *shlex.split(options)]
    checker = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = checker.stdout.readline()  # {"ready": ...} after setup and one interval, or nothing if it failed
    except BaseException:
        stop_checker(checker)
        raise
    if not line:
        checker.wait()
        raise RuntimeError(f"bench.monitor_load exited with {checker.returncode}")
    return checker


def stop_checker(checker):
    """Close the checker's stdin (it stops and reports); its figures, or None if it failed."""
    try:
        out, _ = checker.communicate(input="", timeout=300)
    except subprocess.TimeoutExpired:
        checker.kill()
        checker.wait()
        return None
    lines = out.strip().splitlines()
    return json.loads(lines[-1]) if checker.returncode == 0 and lines else None


def checker_line(f):
    """What the checker did while the pages were measured, in one paragraph."""
    lag, gap = f["lag_s"], f["gap_s"]
    return (
        f"Checker meanwhile ({f['setup']}): {f['monitors']:,} monitors, {f['checks_per_s']:,.0f} checks/s"
        f" (needed {f['needed_per_s']:,.0f}/s); lag due → checked p50 {lag['p50']} s, p99 {lag['p99']} s;"
        f" gaps p99 {gap['p99']} s, {f['gaps_over_target']:,} of {f['gaps']:,} over 65 s;"
        f" {f.get('state_changes', 0)} state changes; workers {f['workers_cores']} cores, listeners"
        f" {f['listeners_cpu_s']} CPU-s."
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("databases", nargs="*", default=[DEFAULT_DATABASE], help="bench databases to measure")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per page (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default: %(default)s)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default: %(default)s)")
    parser.add_argument(
        "--modes",
        nargs="+",
        choices=list(MODES),
        default=DEFAULT_MODES,
        help="kept, rendered (both by default) or cache-down (Redis at a closed port)",
    )
    parser.add_argument(
        "--public-only", action="store_true", help="only the public pages (/status/ and below) and the bare page"
    )
    parser.add_argument("--with-checker", action="store_true", help="run the 60,000-monitor checker meanwhile")
    parser.add_argument(
        "--checker-options", default="", help='options for bench.monitor_load, e.g. "--batch-size 2500 --workers 2"'
    )
    parser.add_argument("--writer", type=float, default=0, help="heartbeat pings a second meanwhile (default: none)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install -y wrk)")
    if args.child:  # one database per process: Django is set up once per process
        print(json.dumps(run_one(args.databases[0], args)))
        return 0

    results = []
    for database in args.databases:
        child_args = [a for a in (argv if argv is not None else sys.argv[1:]) if a not in args.databases]
        measured = live_database(database) if args.with_checker or args.writer else database
        checker = None
        try:
            if args.with_checker:
                checker = start_checker(database, args.checker_options)  # makes the copy itself
            elif measured != database:
                copy_database(database, measured)
            command = [sys.executable, "-m", "bench.pages", "--child", measured, *child_args]
            env = {**os.environ, **bench_environ(measured)}
            if checker:
                env["BENCH_CHECKER_PID"] = str(checker.pid)
            out = subprocess.run(command, cwd=ROOT, env=env, capture_output=False, stdout=subprocess.PIPE, check=True)
        finally:
            checker_figures = stop_checker(checker) if checker else None
        results.append(json.loads(out.stdout.decode().strip().splitlines()[-1]))
        if checker_figures:
            results[-1]["checker"] = checker_figures
            print(checker_line(checker_figures) + "\n", flush=True)
        for mode in args.modes:
            print(table(results[-1], mode) + "\n", flush=True)
    if len(results) > 1:
        print(comparison(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
