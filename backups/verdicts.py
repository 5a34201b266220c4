"""Is this backup real? Pure judgement: values in, a Verdict out; no model, no network.

`judge_s3` takes what an S3 listing saw (backups.s3 fetches it); `judge_heartbeat` takes a
heartbeat target's latest pings (BackupTarget.judge_heartbeat gathers them). Both take
`now`, so tests move time: an S3 server cannot backdate an object's LastModified.

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

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models
from django.utils.timesince import timesince

SHRUNK_BELOW = 0.5  # of the previous good backup's size
TOO_FAST_BELOW = 0.25  # of the usual start→success time


class BackupState(models.TextChoices):
    """The verdict of the latest backup check; "could not check" is never ok."""

    UNKNOWN = "unknown", "Not checked yet"
    OK = "ok", "OK"
    STALE = "stale", "Stale"
    UNENCRYPTED = "unencrypted", "Unencrypted"
    SHRUNK = "shrunk", "Shrunk"
    FAILED = "failed", "Failed"
    ERROR = "error", "Could not check"

    @property
    def colour(self):
        return {"ok": "green", "unknown": "grey"}.get(self.value, "red")

    @property
    def is_failing(self):
        return self.value not in (self.OK, self.UNKNOWN)


@dataclass
class Verdict:
    """What one check saw; BackupTarget.record() keeps it as a BackupCheck.

    `unreachable` names an S3 endpoint that did not answer at all: every target on it fails
    alike, so they share one incident (BackupTarget.record).
    """

    state: str
    message: str
    newest_key: str = ""
    newest_at: datetime | None = None
    size_bytes: int | None = None
    encryption: str = ""
    object_count: int | None = None
    unreachable: str = ""


@dataclass(frozen=True)
class Expectations:
    """What a target promises: how often, how late, how big, encrypted or not."""

    expected_interval: timedelta
    grace: timedelta
    min_size_bytes: int = 1
    encryption_required: bool = True

    @property
    def late_after(self):
        return self.expected_interval + self.grace


@dataclass(frozen=True)
class Newest:
    """The newest backup object an S3 listing found."""

    key: str
    last_modified: datetime
    size: int
    encryption: str  # server-side encryption (AES256, aws:kms) or ""


@dataclass(frozen=True)
class GoodBackup:
    """The newest object the last ok check saw: what "shrunk" compares with."""

    key: str
    size: int


def judge_s3(newest, count, expect, previous_good, now, where):
    """The verdict on an S3 prefix whose newest object is `newest` (None: empty) among `count`."""
    if newest is None:
        return Verdict(BackupState.STALE, f"No backup under {where}.", object_count=0)
    age = now - newest.last_modified
    problems = []
    if age > expect.late_after:
        problems.append((BackupState.STALE, f"Newest backup is {ago(newest.last_modified, now)} old."))
    if newest.size < expect.min_size_bytes:
        problems.append(
            (BackupState.SHRUNK, f"Newest backup is {newest.size} bytes, below the minimum {expect.min_size_bytes}.")
        )
    elif previous_good and previous_good.key != newest.key and newest.size < previous_good.size * SHRUNK_BELOW:
        problems.append(
            (BackupState.SHRUNK, f"Newest backup is {newest.size} bytes; the last good one was {previous_good.size}.")
        )
    if expect.encryption_required and not newest.encryption:
        problems.append((BackupState.UNENCRYPTED, "Newest backup has no server-side encryption."))
    figures = {
        "newest_key": newest.key,
        "newest_at": newest.last_modified,
        "size_bytes": newest.size,
        "encryption": newest.encryption,
        "object_count": count,
    }
    if problems:
        return Verdict(problems[0][0], " ".join(text for _, text in problems), **figures)
    sse = f", {newest.encryption}" if newest.encryption else ""
    return Verdict(BackupState.OK, f"{count} object(s); newest {ago(newest.last_modified, now)} old{sse}.", **figures)


@dataclass(frozen=True)
class Ping:
    """A heartbeat ping as judgement needs it."""

    kind: str  # "start", "success" or "fail"
    received_at: datetime
    run_time: timedelta | None = None


def judge_heartbeat(last_finish, last_success, usual_run_time, expect, watched_since, now):
    """The verdict from a heartbeat target's latest finishing ping and latest success, up to `now`.

    `usual_run_time` is the median start→success time of earlier runs (None with too few);
    `watched_since` is when the target was created (a job that never reported is stale after one interval).
    """
    figures = {"newest_key": "", "newest_at": last_success.received_at if last_success else None}
    if last_success:
        figures["newest_key"] = f"success ping {last_success.received_at:%Y-%m-%d %H:%M:%S}"
    if last_finish is not None and last_finish.kind == "fail":
        return Verdict(
            BackupState.FAILED, f"The job reported failure {ago(last_finish.received_at, now)} ago.", **figures
        )
    if last_success is None:
        if now - watched_since > expect.late_after:
            return Verdict(BackupState.STALE, "The job has never reported success.", **figures)
        return Verdict(BackupState.UNKNOWN, "Waiting for the first ping.", **figures)
    if now - last_success.received_at > expect.late_after:
        return Verdict(BackupState.STALE, f"Last success ping {ago(last_success.received_at, now)} ago.", **figures)
    run_time = last_success.run_time
    if usual_run_time and run_time is not None and run_time < usual_run_time * TOO_FAST_BELOW:
        return Verdict(
            BackupState.SHRUNK,
            f"The last run took {_seconds(run_time)}; it usually takes {_seconds(usual_run_time)}.",
            **figures,
        )
    return Verdict(BackupState.OK, f"Last success ping {ago(last_success.received_at, now)} ago.", **figures)


def ago(then, now):
    """How long before `now` `then` was, in words ("3 days, 2 hours", "under a minute")."""
    return timesince(then, now, depth=2) if now - then >= timedelta(minutes=1) else "under a minute"


def _seconds(duration):
    seconds = int(duration.total_seconds())
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"
