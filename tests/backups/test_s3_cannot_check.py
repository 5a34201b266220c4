"""Could not check is an error, never ok: wrong keys, a missing bucket, an endpoint that is down."""

import pytest

from backups.models import BackupState

from .conftest import free_port, put


def test_wrong_secret_key_is_an_error(s3, bucket, make_target):
    put(s3, bucket, "wiki/2026-11-20.tar.gpg", 5000)
    target = make_target(bucket, secret_access_key="not-the-right-secret")

    check = target.run_check()

    assert check.state == BackupState.ERROR
    assert check.message == "Could not check: SignatureDoesNotMatch: the secret key is wrong"


def test_unknown_access_key_is_an_error(bucket, make_target):
    target = make_target(bucket, access_key_id="AKIAEXAMPLEUNKNOWN01")

    check = target.run_check()

    assert check.state == BackupState.ERROR
    assert check.message == "Could not check: InvalidAccessKeyId: the access key is not known to the S3 endpoint"


def test_missing_bucket_is_an_error(make_target):
    target = make_target("no-such-bucket-here")

    check = target.run_check()

    assert check.state == BackupState.ERROR
    assert check.message == "Could not check: NoSuchBucket: bucket 'no-such-bucket-here' does not exist"


@pytest.mark.django_db
def test_endpoint_down_is_an_error(make_target):
    target = make_target("wiki-backups", endpoint_url=f"http://127.0.0.1:{free_port()}")

    check = target.run_check()

    assert check.state == BackupState.ERROR
    assert check.message.startswith("Could not check: EndpointConnectionError: Could not connect to the endpoint URL")
    assert target.state == BackupState.ERROR
