"""More than 1,000 objects: the check reads every page of the listing to find the newest."""

import time
from concurrent.futures import ThreadPoolExecutor

from backups.models import BackupState

from .conftest import put


def test_newest_is_found_past_the_first_thousand_keys(s3, bucket, make_target):
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: put(s3, bucket, f"wiki/wal/{n:08d}", 200), range(1100)))
    time.sleep(1.1)  # S3 keeps LastModified to the second: the last one must be a second newer
    put(s3, bucket, "wiki/base/2026-11-20.tar.gpg", 7000)  # sorts first: on the first page
    put(s3, bucket, "wiki/wal/00001100", 300)  # newest, and on the second page of the listing
    target = make_target(bucket)

    check = target.run_check()

    assert check.object_count == 1102
    assert check.newest_key == "wiki/wal/00001100"
    assert check.size_bytes == 300
    assert check.state == BackupState.OK
