"""The break-glass tests: the scene's co-op, a test passphrase, bundles built into tmp_path, and
the backups' moto S3 server (tests/backups/conftest.py) for the off-site bucket."""

import json
import re
import uuid

import pytest

from breakglass.sealing import unseal
from tests.backups.conftest import REGION, s3_server  # noqa: F401 (the session's S3 server)
from tests.scene import build_scene

PASSPHRASE = "copper otter lantern meadow violin"


@pytest.fixture(autouse=True)
def _break_glass_settings(settings, tmp_path):
    settings.BREAK_GLASS_PASSPHRASE = PASSPHRASE
    settings.BREAK_GLASS_DIR = tmp_path / "breakglass"
    settings.BREAK_GLASS_S3_BUCKET = ""
    settings.BREAK_GLASS_KEEP = 14
    settings.BREAK_GLASS_UPLOAD_ATTEMPTS = 3


@pytest.fixture
def scene(db):
    return build_scene()


@pytest.fixture
def bucket(s3_server, settings):  # noqa: F811 (the fixture imported above)
    """A new bucket on the test S3 server, configured as the co-op's off-site copy."""
    name = f"break-glass-{uuid.uuid4().hex[:10]}"
    s3_server.client().create_bucket(Bucket=name)
    settings.BREAK_GLASS_S3_URL = s3_server.endpoint
    settings.BREAK_GLASS_S3_REGION = REGION
    settings.BREAK_GLASS_S3_BUCKET = name
    settings.BREAK_GLASS_S3_ACCESS_KEY_ID = s3_server.access_key_id
    settings.BREAK_GLASS_S3_SECRET_ACCESS_KEY = s3_server.secret_access_key
    return name


def sealed_part(html):
    """What the file carries, read out of its HTML as anyone without Switchboard would."""
    found = re.search(r'<script id="sealed" type="application/json">(.*?)</script>', html, re.S)
    assert found, "no sealed data in the file"
    return json.loads(found.group(1))


def open_bundle(html, passphrase=PASSPHRASE):
    """The bundle's page, decrypted in Python with the scheme the file's script uses."""
    return unseal(sealed_part(html), passphrase).decode("utf-8")
