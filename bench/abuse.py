"""Load and abuse on loopback: can a volunteer still get in while Switchboard is hammered?

    .venv/bin/python -m bench.abuse                      # switchboard_bench, 60 s
    .venv/bin/python -m bench.abuse --duration 30 --clients 200

Against gunicorn on 127.0.0.1, as behind one TLS proxy (TRUSTED_PROXY_COUNT=1, every client
named by X-Forwarded-For), with the production ping throttles:
- 200 concurrent clients (wrk) mixing member pages (dashboard, a machine page, a search), the
  public /status/ and heartbeat pings from a few hundred backup hosts, for the duration;
- at the same time a ping flood from one client (203.0.113.66) at one heartbeat URL, and
  10,000 bad logins from one address (198.51.100.66);
- halfway through, a volunteer from another address logs in with her password, and a
  well-behaved backup job (192.0.2.55) sends its ping.
Reports requests/s, p50/p99 and error counts of each stream, the bare page's figures measured
on the same server just before (for the ratio), whether the volunteer got in and whether the
job's ping was recorded. Nothing here is a pass/fail test: the figures go in the README.
"""

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from bench.env import DEFAULT_DATABASE, ROOT, bench_environ, use_database
from bench.pages import get, start_gunicorn, stop, to_ms

VOLUNTEER = ("abuse-volunteer@example.org", "a-long-volunteer-password-77")
FLOODER, GUESSER, GOOD_JOB, VOLUNTEER_ADDRESS = "203.0.113.66", "198.51.100.66", "192.0.2.55", "192.0.2.44"

MIX = r"""
-- Each request one of: a member page, /status/, a search, or a backup host's ping.
local paths = {%(paths)s}
local pings = {%(pings)s}
local cookie = "sessionid=%(cookie)s"
local n = 0
request = function()
  n = n + 1
  local k = n %% 10
  if k < 4 then
    local who = "192.0.2." .. (n %% 200 + 1)
    return wrk.format("GET", paths[(n %% #paths) + 1], {["Cookie"] = cookie, ["X-Forwarded-For"] = who})
  elseif k < 6 then
    return wrk.format("GET", "/status/", {["X-Forwarded-For"] = "198.51.100." .. (n %% 200 + 1)})
  else
    return wrk.format("GET", pings[(n %% #pings) + 1], {["X-Forwarded-For"] = "203.0.113." .. (n %% 60 + 1)})
  end
end
"""

FLOOD = r"""
request = function()
  return wrk.format("GET", "%(path)s", {["X-Forwarded-For"] = "%(who)s"})
end
"""

BAD_LOGINS = r"""
local sent = 0
local body = "login=guess%%40example.org&password=wrong&csrfmiddlewaretoken=%(token)s"
request = function()
  sent = sent + 1
  if sent > %(per_thread)d then wrk.thread:stop() end
  return wrk.format("POST", "/accounts/login/", {
    ["Cookie"] = "csrftoken=%(token)s",
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Referer"] = "http://127.0.0.1:%(port)d/accounts/login/",
    ["X-Forwarded-For"] = "%(who)s",
  }, body)
end
"""


# --- In the child process: the bench database ------------------------------------------------------


def prepare():
    """The paths, the member's session, heartbeat URLs, and a volunteer who knows her password."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from backups.models import BackupTarget
    from core.access import MEMBERS
    from hosts.models import Machine

    User = get_user_model()  # noqa: N806
    members = Group.objects.get_or_create(name=MEMBERS)[0]
    member, _ = User.objects.get_or_create(username="bench", defaults={"email": "bench@example.org"})
    member.groups.add(members)
    client = Client()
    client.force_login(member)
    volunteer, _ = User.objects.get_or_create(username="abuse-volunteer", defaults={"email": VOLUNTEER[0]})
    volunteer.set_password(VOLUNTEER[1])
    volunteer.save()
    volunteer.groups.add(members)
    EmailAddress.objects.update_or_create(
        user=volunteer, email=VOLUNTEER[0], defaults={"verified": True, "primary": True}
    )
    machine = Machine.objects.order_by("pk").first()
    heartbeats = list(BackupTarget.objects.filter(kind="heartbeat").order_by("pk").values_list("pk", "heartbeat_id"))
    if len(heartbeats) < 3:
        raise SystemExit("the bench database has fewer than 3 heartbeat targets: run bench.make_big_coop")
    return {
        "cookie": client.cookies["sessionid"].value,
        "paths": ["/", f"/machines/{machine.hostname}/", "/search/?q=wiki"],
        "pings": [f"/ping/{uuid}" for _, uuid in heartbeats[2:300]],
        "flood": f"/ping/{heartbeats[0][1]}",
        "good_job": (heartbeats[1][0], f"/ping/{heartbeats[1][1]}"),
    }


def good_ping_recorded(target_pk, since):
    from backups.models import HeartbeatPing

    return HeartbeatPing.objects.filter(target=target_pk, remote_addr=GOOD_JOB, received_at__gte=since).exists()


# --- Driving it --------------------------------------------------------------------------------------


def wrk(port, script, seconds, threads, connections, timeout=10):
    """Run wrk with a Lua script; its figures (requests, req/s, p50/p99 ms, non-2xx, socket errors)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", f"{timeout}s"]
        out = subprocess.run([*command, "-s", f.name, f"http://127.0.0.1:{port}/"], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    text = out.stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    requests = re.search(r"(\d+) requests in", text)
    if not requests:
        raise RuntimeError(f"wrk failed: {out.stderr or text}")
    return {
        "requests": int(requests.group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
        "p50_ms": to_ms(re.search(r"\s50%\s+(\S+)", text).group(1)),
        "p99_ms": to_ms(re.search(r"\s99%\s+(\S+)", text).group(1)),
        "non_2xx_3xx": int(errors.group(1)) if errors else 0,
        "timeouts": int(socket.group(4)) if socket else 0,
        "connect_errors": int(socket.group(1)) if socket else 0,
    }


def csrf_token(port, forwarded_for):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/accounts/login/", headers={"X-Forwarded-For": forwarded_for})
    response = conn.getresponse()
    response.read()
    cookie = response.getheader("Set-Cookie") or ""
    conn.close()
    return re.search(r"csrftoken=([^;]+)", cookie).group(1)


def volunteer_logs_in(port):
    """(status, where it went, seconds): a member logging in from her own address, mid-attack."""
    started = time.monotonic()
    token = csrf_token(port, VOLUNTEER_ADDRESS)
    body = urllib.parse.urlencode({"login": VOLUNTEER[0], "password": VOLUNTEER[1], "csrfmiddlewaretoken": token})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(
        "POST",
        "/accounts/login/",
        body,
        {
            "Cookie": f"csrftoken={token}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{port}/accounts/login/",
            "X-Forwarded-For": VOLUNTEER_ADDRESS,
        },
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, response.getheader("Location", ""), round(time.monotonic() - started, 2)


def good_job_pings(port, path):
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, b"backup done", {"X-Forwarded-For": GOOD_JOB, "Content-Type": "text/plain"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, round(time.monotonic() - started, 2)


def run(database, args):
    use_database(database)
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)  # a bench database made by an older Switchboard
    shutil.rmtree(os.environ["BENCH_STATIC_ROOT"], ignore_errors=True)
    call_command("collectstatic", interactive=False, verbosity=0)
    setup = prepare()
    # As deployed behind one proxy, with the production ping throttles (bench.env turns them off).
    extra = {"TRUSTED_PROXY_COUNT": "1", "PING_CLIENT_LIMIT_PER_MINUTE": "600", "PING_TARGET_LIMIT_PER_MINUTE": "20"}
    server = start_gunicorn(args.port, args.workers, extra)
    results = {}
    try:
        for path in setup["paths"] + ["/status/"]:
            status, _ = get(args.port, path, setup["cookie"])
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
        bare = "request = function() return wrk.format('GET', '/bench-bare/') end"
        results["bare page, alone, just before"] = wrk(args.port, bare, 10, 2, 8)
        token = csrf_token(args.port, GUESSER)
        mix = MIX % {
            "paths": ", ".join(f'"{p}"' for p in setup["paths"]),
            "pings": ", ".join(f'"{p}"' for p in setup["pings"]),
            "cookie": setup["cookie"],
        }
        streams = {
            f"{args.clients} clients: member pages, /status/, pings": (mix, args.clients, 2),
            f"ping flood from {FLOODER}": (FLOOD % {"path": setup["flood"], "who": FLOODER}, 10, 1),
            f"10,000 bad logins from {GUESSER}": (
                BAD_LOGINS % {"token": token, "per_thread": 10_000, "port": args.port, "who": GUESSER},
                10,
                1,
            ),
        }
        threads = []
        for label, (script, connections, wrk_threads) in streams.items():

            def drive(label=label, script=script, connections=connections, wrk_threads=wrk_threads):
                results[label] = wrk(args.port, script, args.duration, wrk_threads, connections)

            threads.append(threading.Thread(target=drive))
        for thread in threads:
            thread.start()
        time.sleep(args.duration / 2)
        since = timezone.now()
        results["volunteer logs in (another address)"] = volunteer_logs_in(args.port)
        results["backup job pings (its own address)"] = good_job_pings(args.port, setup["good_job"][1])
        for thread in threads:
            thread.join()
        results["the job's ping was recorded"] = good_ping_recorded(setup["good_job"][0], since)
    finally:
        stop(server)
    return results


def report(results, args):
    lines = [
        f"bench.abuse on {os.cpu_count()} cores, gunicorn {args.workers} sync workers, {args.duration} s; "
        "wrk and the load ran on the same machine",
        "",
        "| stream | requests | req/s | p50 ms | p99 ms | non-2xx/3xx | timeouts |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    bare_rps = None
    for label, figures in results.items():
        if isinstance(figures, dict):
            bare_rps = bare_rps or figures["rps"]
            lines.append(
                f"| {label} | {figures['requests']:,} | {figures['rps']:,.0f} | {figures['p50_ms']:.0f} | "
                f"{figures['p99_ms']:.0f} | {figures['non_2xx_3xx']:,} | {figures['timeouts']:,} |"
            )
    lines.append("")
    status, where, seconds = results["volunteer logs in (another address)"]
    got_in = status == 302 and "/accounts/login" not in where
    lines.append(
        f"- Volunteer from {VOLUNTEER_ADDRESS}: HTTP {status} → {where or '-'} in {seconds} s: "
        + ("logged in." if got_in else "NOT logged in.")
    )
    status, seconds = results["backup job pings (its own address)"]
    lines.append(
        f"- Backup job from {GOOD_JOB}: HTTP {status} in {seconds} s; recorded: "
        + ("yes." if results["the job's ping was recorded"] else "NO.")
    )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database", nargs="?", default=DEFAULT_DATABASE)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (default: %(default)s)")
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients of the mix (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install -y wrk)")
    if args.child:
        import json

        print(json.dumps(run(args.database, args)))
        return 0
    import json

    command = [sys.executable, "-m", "bench.abuse", "--child", *(argv if argv is not None else sys.argv[1:])]
    env = {**os.environ, **bench_environ(args.database)}
    out = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, check=True)
    results = json.loads(out.stdout.decode().strip().splitlines()[-1])
    print(report(results, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
