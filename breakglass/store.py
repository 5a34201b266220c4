"""Where bundles are kept: a local folder (BREAK_GLASS_DIR) and the co-op's off-site S3 bucket.

The bucket is configured like a backup target's (backups.s3): an endpoint URL (empty for AWS),
a region, path-style addressing, and a key of its own that may put, list, get and delete under
BREAK_GLASS_S3_PREFIX. Keys are dated (`break-glass-2026-12-02T031500Z-000042.html`), so their order is
their age; after an upload succeeds the newest BREAK_GLASS_KEEP stay and older ones go.
"""

import re
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from backups.s3 import explain_refusal

S3_CONFIG = Config(
    connect_timeout=5,
    read_timeout=30,
    retries={"max_attempts": 2, "mode": "standard"},
    s3={"addressing_style": "path"},
    signature_version="s3v4",
)
# What a refusing or unreachable bucket raises: recorded on the bundle and retried (breakglass.tasks).
STORE_ERRORS = (BotoCoreError, ClientError)


# A bundle's name as filename_for makes it: the only keys pruning may delete, whatever else shares the bucket.
BUNDLE_NAME = re.compile(r"break-glass-\d{4}-\d{2}-\d{2}T\d{6}Z-\d{6,}\.html")


def filename_for(when, number):
    """The bundle's name, which is also its key after the prefix: sorts by time (then by bundle number)."""
    return f"break-glass-{when:%Y-%m-%dT%H%M%SZ}-{number:06d}.html"


def local_dir():
    path = Path(settings.BREAK_GLASS_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_locally(filename, content):
    """Write the bundle into BREAK_GLASS_DIR (0600) and keep the newest BREAK_GLASS_KEEP there."""
    folder = local_dir()
    path = folder / filename
    tmp = path.with_suffix(".part")
    tmp.touch(mode=0o600)
    tmp.write_bytes(content)
    tmp.replace(path)
    for old in sorted(folder.glob("break-glass-*.html"), reverse=True)[settings.BREAK_GLASS_KEEP :]:
        old.unlink(missing_ok=True)
    return path


def local_path(filename):
    """The local copy of a bundle, or None once pruned."""
    path = local_dir() / filename
    return path if filename and path.is_file() else None


def is_configured():
    return bool(settings.BREAK_GLASS_S3_BUCKET)


def describe():
    """Where bundles go, as an admin reads it (never the key)."""
    if not is_configured():
        return "No off-site bucket configured (BREAK_GLASS_S3_BUCKET): bundles stay on this server only."
    endpoint = settings.BREAK_GLASS_S3_URL or f"AWS S3 ({settings.BREAK_GLASS_S3_REGION})"
    return f"s3://{settings.BREAK_GLASS_S3_BUCKET}/{settings.BREAK_GLASS_S3_PREFIX} on {endpoint}"


def client():
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.BREAK_GLASS_S3_URL or None,
        region_name=settings.BREAK_GLASS_S3_REGION or "us-east-1",
        aws_access_key_id=settings.BREAK_GLASS_S3_ACCESS_KEY_ID or None,
        aws_secret_access_key=settings.BREAK_GLASS_S3_SECRET_ACCESS_KEY or None,
        config=S3_CONFIG,
    )


def key_for(filename):
    return f"{settings.BREAK_GLASS_S3_PREFIX}{filename}"


def upload(filename, content):
    """Put the bundle in the bucket, then delete all but the newest BREAK_GLASS_KEEP; returns the keys deleted.

    Raises one of STORE_ERRORS; older bundles are only deleted after this one is in.
    """
    s3 = client()
    s3.put_object(
        Bucket=settings.BREAK_GLASS_S3_BUCKET,
        Key=key_for(filename),
        Body=content,
        ContentType="text/html; charset=utf-8",
        ServerSideEncryption="AES256",
    )
    keys = sorted(stored_keys(s3), reverse=True)
    old = keys[settings.BREAK_GLASS_KEEP :]
    for start in range(0, len(old), 1000):
        s3.delete_objects(
            Bucket=settings.BREAK_GLASS_S3_BUCKET,
            Delete={"Objects": [{"Key": key} for key in old[start : start + 1000]], "Quiet": True},
        )
    return old


def stored_keys(s3=None):
    """Every bundle's key in the bucket: named as filename_for names them, right under the prefix.

    Nothing else: the prefix may be empty, or shared with other files (a restore guide, a website),
    which pruning must never delete, nor count among the bundles kept.
    """
    s3 = s3 or client()
    prefix = settings.BREAK_GLASS_S3_PREFIX
    keys = []
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=settings.BREAK_GLASS_S3_BUCKET, Prefix=prefix)
    for page in pages:
        keys += [
            obj["Key"]
            for obj in page.get("Contents", [])
            if obj["Key"].startswith(prefix) and BUNDLE_NAME.fullmatch(obj["Key"][len(prefix) :])
        ]
    return keys


def open_stored(filename):
    """The bundle's body in the bucket, as a stream of chunks; raises one of STORE_ERRORS."""
    body = client().get_object(Bucket=settings.BREAK_GLASS_S3_BUCKET, Key=key_for(filename))["Body"]
    return body.iter_chunks(64 * 1024)


def explain(exc):
    """A failed store call in a line an admin can act on, never a secret."""
    if isinstance(exc, ClientError):
        return explain_refusal(exc, settings.BREAK_GLASS_S3_BUCKET, may_not="write to")
    return f"{type(exc).__name__}: {exc}"
