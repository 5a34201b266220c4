"""Bundles go to the co-op's off-site bucket, the newest BREAK_GLASS_KEEP stay, and a refusing
bucket leaves the bundles already there alone and says why on the bundle."""

import pytest

from breakglass import store
from breakglass.models import Bundle
from breakglass.tasks import build_bundle, build_bundle_nightly
from tests.scene import NOOR_PHONE

from .conftest import open_bundle

pytestmark = pytest.mark.usefixtures("sends_run_at_once")


def keys_in(s3_server, bucket):
    listing = s3_server.client().list_objects_v2(Bucket=bucket, Prefix="break-glass/")
    return sorted(obj["Key"] for obj in listing.get("Contents", []))


def test_the_nightly_bundle_lands_in_the_bucket_and_opens(scene, bucket, s3_server):
    assert build_bundle_nightly() == Bundle.State.BUILT

    bundle = Bundle.objects.get()
    assert bundle.state == Bundle.State.UPLOADED and bundle.error == "" and bundle.upload_attempts == 1
    assert keys_in(s3_server, bucket) == [f"break-glass/{bundle.filename}"]
    body = s3_server.client().get_object(Bucket=bucket, Key=f"break-glass/{bundle.filename}")["Body"].read()
    assert NOOR_PHONE in open_bundle(body.decode())
    assert bundle.size_bytes == len(body) and bundle.build_seconds > 0


def test_only_the_newest_bundles_are_kept(scene, bucket, s3_server, settings):
    settings.BREAK_GLASS_KEEP = 3

    for _ in range(5):
        build_bundle_nightly()

    newest = list(Bundle.objects.values_list("filename", flat=True)[:3])
    assert keys_in(s3_server, bucket) == sorted(f"break-glass/{name}" for name in newest)
    assert sorted(path.name for path in store.local_dir().iterdir()) == sorted(newest)


def test_a_bucket_refusing_the_key_keeps_the_last_good_bundle_and_says_why(scene, bucket, s3_server, settings):
    build_bundle_nightly()
    good = keys_in(s3_server, bucket)
    settings.BREAK_GLASS_S3_SECRET_ACCESS_KEY = "not-the-secret"

    build_bundle_nightly()

    failed = Bundle.objects.first()
    assert failed.state == Bundle.State.UPLOAD_FAILED
    assert failed.upload_attempts == settings.BREAK_GLASS_UPLOAD_ATTEMPTS  # retried, then it stopped
    assert "SignatureDoesNotMatch" in failed.error and "not-the-secret" not in failed.error
    assert keys_in(s3_server, bucket) == good
    assert store.local_path(failed.filename) is not None  # still downloadable from this server


def test_a_missing_bucket_is_recorded_and_nothing_is_deleted(scene, bucket, s3_server, settings):
    build_bundle_nightly()
    settings.BREAK_GLASS_S3_BUCKET = "no-such-bucket-here"

    build_bundle_nightly()

    failed = Bundle.objects.first()
    assert failed.state == Bundle.State.UPLOAD_FAILED and "NoSuchBucket" in failed.error
    assert len(keys_in(s3_server, bucket)) == 1


def test_a_bundle_is_built_once_however_often_the_task_runs(scene):
    bundle = Bundle.objects.create()

    assert build_bundle(bundle.pk) == Bundle.State.BUILT
    assert build_bundle(bundle.pk) == "busy"
    assert len(list(store.local_dir().iterdir())) == 1


def test_no_passphrase_fails_the_bundle_with_a_reason(scene, settings):
    settings.BREAK_GLASS_PASSPHRASE = ""

    build_bundle_nightly()

    assert "BREAK_GLASS_PASSPHRASE" in Bundle.objects.get(state=Bundle.State.FAILED).error
