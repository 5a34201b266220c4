"""Is this backup real? The one place that looks: an S3 prefix over boto3, or a heartbeat's pings.

`check_target(target, now)` returns a Verdict and changes nothing; BackupTarget.record()
keeps it. `now` is a parameter so tests can move time: an S3 server cannot backdate an
object's LastModified.

S3, in order of what matters most:
- no object under the prefix, or the newest older than expected_interval + grace → stale;
- the newest smaller than min_size_bytes, or under half the size the last ok check saw
  (a dump piped through gpg that wrote zero bytes) → shrunk;
- encryption required and the newest object has no server-side encryption → unencrypted;
- the check itself failed (bad keys, no bucket, endpoint down, timeout) → error, never ok.
"Size" is the newest object's size: point the prefix at where the full backup lands.

Heartbeat: the latest finishing ping is a fail → failed; no success within
expected_interval + grace → stale; a run far faster than usual (start→success under a
quarter of the median of recent runs) → shrunk.
"""

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.utils.timesince import timesince

from .models import BackupState, BackupTarget, HeartbeatPing

logger = logging.getLogger(__name__)

S3_CONFIG = Config(
    connect_timeout=5,
    read_timeout=15,
    retries={"max_attempts": 2, "mode": "standard"},
    s3={"addressing_style": "path"},
    signature_version="s3v4",
)
SHRUNK_BELOW = 0.5  # of the previous good backup's size
TOO_FAST_BELOW = 0.25  # of the usual start→success time


@dataclass
class Verdict:
    """What one check saw; BackupTarget.record() keeps it as a BackupCheck."""

    state: str
    message: str
    newest_key: str = ""
    newest_at: datetime | None = None
    size_bytes: int | None = None
    encryption: str = ""
    object_count: int | None = None


def check_target(target, now):
    """The verdict for a target of either kind at `now`; never raises for a broken S3 endpoint."""
    if target.kind == BackupTarget.Kind.HEARTBEAT:
        return judge_heartbeat(target, now)
    return check_s3(target, now)


# --- S3 --------------------------------------------------------------------------------------

_clients = {}
_clients_lock = threading.Lock()


def _s3_client(target):
    # Making a client costs ~20 ms (it loads the service model); a worker checking hundreds of
    # targets on one endpoint reuses it. Clients are thread-safe; making them is not.
    key = (target.endpoint_url, target.region, target.access_key_id, target.secret_access_key)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            if len(_clients) > 256:
                _clients.clear()
            client = _clients[key] = boto3.session.Session().client(
                "s3",
                endpoint_url=target.endpoint_url or None,
                region_name=target.region or "us-east-1",
                aws_access_key_id=target.access_key_id or None,
                aws_secret_access_key=target.secret_access_key or None,
                config=S3_CONFIG,
            )
    return client


def check_s3(target, now):
    """List the prefix (every page), find the newest object, and judge its age, size and encryption."""
    try:
        return _judge_s3(target, now)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        why = {
            "NoSuchBucket": f"bucket {target.bucket!r} does not exist",
            "InvalidAccessKeyId": "the access key is not known to the S3 endpoint",
            "SignatureDoesNotMatch": "the secret key is wrong",
            "AccessDenied": "the key may not list or read this bucket",
            "403": "access denied",
            "404": "not found",
        }.get(str(code), error.get("Message", ""))
        return Verdict(BackupState.ERROR, f"Could not check: {code}: {why}")
    except BotoCoreError as exc:
        # Endpoint down, DNS, timeouts, no credentials. botocore's messages name the URL, never the secret.
        return Verdict(BackupState.ERROR, f"Could not check: {type(exc).__name__}: {exc}")


def _judge_s3(target, now):
    client = _s3_client(target)
    newest = None
    count = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=target.bucket, Prefix=target.prefix):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith("/") and obj["Size"] == 0:
                continue  # a "folder" made by a console, not a backup
            count += 1
            if newest is None or (obj["LastModified"], obj["Key"]) > (newest["LastModified"], newest["Key"]):
                newest = obj
    where = f"s3://{target.bucket}/{target.prefix}"
    if newest is None:
        return Verdict(BackupState.STALE, f"No backup under {where}.", object_count=0)

    encryption = client.head_object(Bucket=target.bucket, Key=newest["Key"]).get("ServerSideEncryption", "")
    age = now - newest["LastModified"]
    size = newest["Size"]
    problems = []
    if age > target.expected_interval + target.grace:
        problems.append((BackupState.STALE, f"Newest backup is {_ago(newest['LastModified'], now)} old."))
    if size < target.min_size_bytes:
        problems.append(
            (BackupState.SHRUNK, f"Newest backup is {size} bytes, below the minimum {target.min_size_bytes}.")
        )
    else:
        previous = target.checks.filter(state=BackupState.OK, size_bytes__isnull=False).first()
        if previous and previous.newest_key != newest["Key"] and size < previous.size_bytes * SHRUNK_BELOW:
            problems.append(
                (BackupState.SHRUNK, f"Newest backup is {size} bytes; the last good one was {previous.size_bytes}.")
            )
    if target.encryption_required and not encryption:
        problems.append((BackupState.UNENCRYPTED, "Newest backup has no server-side encryption."))
    figures = {
        "newest_key": newest["Key"],
        "newest_at": newest["LastModified"],
        "size_bytes": size,
        "encryption": encryption,
        "object_count": count,
    }
    if problems:
        return Verdict(problems[0][0], " ".join(text for _, text in problems), **figures)
    sse = f", {encryption}" if encryption else ""
    return Verdict(
        BackupState.OK, f"{count} object(s); newest {_ago(newest['LastModified'], now)} old{sse}.", **figures
    )


def _ago(then, now):
    return timesince(then, now, depth=2) if now - then >= timedelta(minutes=1) else "under a minute"


# --- Heartbeat ---------------------------------------------------------------------------------


def judge_heartbeat(target, now):
    """The verdict from the target's pings up to `now`: failed, stale, too fast, or ok."""
    pings = target.pings.filter(received_at__lte=now)
    last = pings.exclude(kind=HeartbeatPing.Kind.START).first()
    success = last if last and last.kind == HeartbeatPing.Kind.SUCCESS else pings.filter(kind="success").first()
    figures = {"newest_key": "", "newest_at": success.received_at if success else None}
    if success:
        figures["newest_key"] = f"success ping {success.received_at:%Y-%m-%d %H:%M:%S}"
    if last is not None and last.kind == HeartbeatPing.Kind.FAIL:
        return Verdict(BackupState.FAILED, f"The job reported failure {_ago(last.received_at, now)} ago.", **figures)
    late_after = target.expected_interval + target.grace
    if success is None:
        if now - target.created_at > late_after:
            return Verdict(BackupState.STALE, "The job has never reported success.", **figures)
        return Verdict(BackupState.UNKNOWN, "Waiting for the first ping.", **figures)
    if now - success.received_at > late_after:
        return Verdict(BackupState.STALE, f"Last success ping {_ago(success.received_at, now)} ago.", **figures)
    usual = success.usual_run_time() if success.run_time is not None else None
    if usual and success.run_time < usual * TOO_FAST_BELOW:
        return Verdict(
            BackupState.SHRUNK,
            f"The last run took {_seconds(success.run_time)}; it usually takes {_seconds(usual)}.",
            **figures,
        )
    return Verdict(BackupState.OK, f"Last success ping {_ago(success.received_at, now)} ago.", **figures)


def _seconds(duration):
    seconds = int(duration.total_seconds())
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"
