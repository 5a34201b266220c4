"""Looking at an S3 prefix over boto3: the one place Switchboard talks to a backup store.

`check(location, expect, previous_good, now)` lists the prefix (every page), reads the
newest object's encryption, and hands what it saw to the pure judgement in
backups.verdicts. It never raises for a broken endpoint: "could not check" is a verdict
(error), and an endpoint that does not answer at all is named in `Verdict.unreachable`.
"""

import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as S3ConnectionError

from .verdicts import BackupState, Newest, Verdict, judge_s3

S3_CONFIG = Config(
    connect_timeout=5,
    read_timeout=15,
    retries={"max_attempts": 2, "mode": "standard"},
    s3={"addressing_style": "path"},
    signature_version="s3v4",
)


@dataclass(frozen=True)
class Location:
    """Where a target's backups land and the key that may read them."""

    endpoint_url: str
    region: str
    bucket: str
    prefix: str
    access_key_id: str
    secret_access_key: str

    @property
    def where(self):
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def endpoint(self):
        """The endpoint as people name it, the same however its URL was typed: scheme://host[:port], or AWS's."""
        if not self.endpoint_url:
            return f"AWS S3 ({self.region or 'us-east-1'})"
        url = urlsplit(self.endpoint_url.strip())
        scheme = (url.scheme or "https").lower()
        host = (url.hostname or "").lower()
        if ":" in host:
            host = f"[{host}]"
        try:
            port = url.port
        except ValueError:  # a port out of range: the check will say it cannot connect
            return self.endpoint_url.strip().lower().rstrip("/")
        port = f":{port}" if port and port != {"https": 443, "http": 80}.get(scheme) else ""
        return f"{scheme}://{host}{port}{url.path.rstrip('/')}"

    def __repr__(self):
        # Never the secret, whoever prints this.
        return f"Location({self.endpoint!r}, {self.where!r})"


_clients = {}
_clients_lock = threading.Lock()


def _client(location):
    # Making a client costs ~20 ms (it loads the service model); a worker checking hundreds of
    # targets on one endpoint reuses it. Clients are thread-safe; making them is not.
    key = (location.endpoint_url, location.region, location.access_key_id, location.secret_access_key)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            if len(_clients) > 256:
                _clients.clear()
            client = _clients[key] = boto3.session.Session().client(
                "s3",
                endpoint_url=location.endpoint_url or None,
                region_name=location.region or "us-east-1",
                aws_access_key_id=location.access_key_id or None,
                aws_secret_access_key=location.secret_access_key or None,
                config=S3_CONFIG,
            )
    return client


def explain_refusal(exc, bucket, may_not="list or read"):
    """An S3 endpoint's refusal (a botocore ClientError) in a line an admin can act on; never a secret.

    Read by the backup checks and the break-glass upload, which talk to buckets alike.
    """
    error = exc.response.get("Error", {})
    code = error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
    why = {
        "NoSuchBucket": f"bucket {bucket!r} does not exist",
        "InvalidAccessKeyId": "the access key is not known to the S3 endpoint",
        "SignatureDoesNotMatch": "the secret key is wrong",
        "AccessDenied": f"the key may not {may_not} this bucket",
        "403": "access denied",
        "404": "not found",
    }.get(str(code), error.get("Message", ""))
    return f"{code}: {why}"


def check(location, expect, previous_good, now):
    """The verdict on `location` at `now`; never raises for a broken S3 endpoint."""
    try:
        newest, count = _newest(location)
    except ClientError as exc:
        return Verdict(BackupState.ERROR, f"Could not check: {explain_refusal(exc, location.bucket, 'list or read')}")
    except (S3ConnectionError, HTTPClientError) as exc:
        # The endpoint did not answer: every target on it fails alike. botocore names the URL, never the secret.
        return Verdict(
            BackupState.ERROR, f"Could not check: {type(exc).__name__}: {exc}", unreachable=location.endpoint
        )
    except BotoCoreError as exc:
        # No credentials, a malformed endpoint and the like.
        return Verdict(BackupState.ERROR, f"Could not check: {type(exc).__name__}: {exc}")
    return judge_s3(newest, count, expect, previous_good, now, location.where)


def _newest(location):
    client = _client(location)
    newest = None
    count = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=location.bucket, Prefix=location.prefix):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith("/") and obj["Size"] == 0:
                continue  # a "folder" made by a console, not a backup
            count += 1
            if newest is None or (obj["LastModified"], obj["Key"]) > (newest["LastModified"], newest["Key"]):
                newest = obj
    if newest is None:
        return None, 0
    encryption = client.head_object(Bucket=location.bucket, Key=newest["Key"]).get("ServerSideEncryption", "")
    return Newest(newest["Key"], newest["LastModified"], newest["Size"], encryption), count
