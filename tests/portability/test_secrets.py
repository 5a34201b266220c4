"""Secrets leave the old server only when the admin asks and gives a key of their own: without it the file
holds no stored password, key, password hash, authenticator or link token; with it they come back on the
new server (encrypted there with its own FIELD_ENCRYPTION_KEY) and the file alone still reveals none."""

import json

import pytest
from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.core.management import CommandError

from alerts.models import Rota
from backups.models import BackupTarget
from coop.models import ContactMethod
from demo.seed import DEMO_PASSWORD
from portability import archive
from power.models import PowerController

from .conftest import co_op_rows, empty_the_database, export, import_file, without_date

pytestmark = pytest.mark.django_db

STORED_SECRETS = ["demo-private", "demo-bmc-password", "demo-wiki-secret-key", "https://hooks.example.org/T0KEN"]


@pytest.fixture
def coop_with_every_kind_of_secret(demo_coop):
    """The demo, its user with an authenticator app and recovery codes, a contact with a secret alert URL."""
    user = get_user_model().objects.get()
    totp_secret = generate_totp_secret()
    TOTP.activate(user, totp_secret)
    RecoveryCodes.activate(user)
    contact = ContactMethod.objects.filter(person__user=user).first() or ContactMethod.objects.first()
    contact.alert_url = STORED_SECRETS[-1]
    contact.save()
    return {
        "user": user,
        "totp": totp_secret,
        "password_hash": user.password,
        "rota_token": Rota.objects.get().calendar_token,
        "heartbeats": sorted(str(target.heartbeat_id) for target in BackupTarget.objects.all()),
    }


def opened(envelope, key_file):
    """The envelope with every secret decrypted with the export key: two exports compare equal."""
    box = Fernet(key_file.read_text().strip())
    envelope = json.loads(json.dumps(envelope))
    del envelope["secrets"]["key_check"]
    for rows in envelope["models"].values():
        for row in rows:
            for name, sealed in row.get("secrets", {}).items():
                row["secrets"][name] = box.decrypt(sealed.encode()).decode()
                if name == "data":  # an authenticator's secret, random salt aside, is its decrypted JSON
                    row["secrets"][name] = json.loads(row["secrets"][name])
    return envelope


def test_without_a_key_the_file_holds_no_secret(coop_with_every_kind_of_secret, tmp_path):
    secrets = coop_with_every_kind_of_secret
    envelope = export(tmp_path / "coop.json")
    text = (tmp_path / "coop.json").read_text()

    for secret in [
        *STORED_SECRETS,
        secrets["totp"],
        secrets["password_hash"],
        secrets["rota_token"],
        *secrets["heartbeats"],
    ]:
        assert secret not in text
    assert "mfa.Authenticator" not in envelope["models"]
    assert not any("secrets" in row for rows in envelope["models"].values() for row in rows)


def test_without_a_key_users_reset_passwords_and_secrets_are_entered_again(coop_with_every_kind_of_secret, tmp_path):
    secrets = coop_with_every_kind_of_secret
    export(tmp_path / "coop.json")
    empty_the_database()

    printed = import_file(tmp_path / "coop.json")

    assert "users reset their passwords" in printed
    user = get_user_model().objects.get()
    assert not user.has_usable_password()
    assert not Authenticator.objects.exists()
    assert [controller.secret for controller in PowerController.objects.all()] == ["", "", ""]
    assert not any(target.secret_access_key for target in BackupTarget.objects.all())
    assert Rota.objects.get().calendar_token not in ("", secrets["rota_token"])  # a new link
    heartbeats = sorted(str(target.heartbeat_id) for target in BackupTarget.objects.all())
    assert not set(heartbeats) & set(secrets["heartbeats"])


def test_with_the_key_every_secret_comes_back_on_a_server_with_another_encryption_key(
    coop_with_every_kind_of_secret, tmp_path, key_file, settings
):
    secrets = coop_with_every_kind_of_secret
    controllers = {controller.pk: controller.secret for controller in PowerController.objects.all()}
    before = export(tmp_path / "coop.json", "--with-secrets", "--key-file", str(key_file))
    text = (tmp_path / "coop.json").read_text()
    for secret in [
        *STORED_SECRETS,
        secrets["totp"],
        secrets["password_hash"],
        secrets["rota_token"],
        *secrets["heartbeats"],
    ]:
        assert secret not in text  # encrypted with the admin's key, not readable from the file alone

    empty_the_database()
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]  # the new server's own key
    printed = import_file(tmp_path / "coop.json", "--key-file", str(key_file))

    assert "with its secrets" in printed
    user = get_user_model().objects.get()
    assert user.check_password(DEMO_PASSWORD)
    totp = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    assert get_adapter().decrypt(totp.data["secret"]) == secrets["totp"]
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists()
    assert {controller.pk: controller.secret for controller in PowerController.objects.all()} == controllers
    assert (
        ContactMethod.objects.filter(alert_url__isnull=False).exclude(alert_url="").get().alert_url
        == STORED_SECRETS[-1]
    )
    assert Rota.objects.get().calendar_token == secrets["rota_token"]
    assert sorted(str(target.heartbeat_id) for target in BackupTarget.objects.all()) == secrets["heartbeats"]
    # And the whole co-op, secrets opened, is the same file again.
    after = export(tmp_path / "again.json", "--with-secrets", "--key-file", str(key_file))
    assert without_date(opened(after, key_file)) == without_date(opened(before, key_file))


def test_an_export_with_secrets_needs_its_key(coop_with_every_kind_of_secret, tmp_path, key_file):
    export(tmp_path / "coop.json", "--with-secrets", "--key-file", str(key_file))
    empty_the_database()
    other_key = tmp_path / "other.key"
    other_key.write_text(Fernet.generate_key().decode())

    with pytest.raises(CommandError, match="give that key with --key-file"):
        import_file(tmp_path / "coop.json")
    with pytest.raises(CommandError, match="not the one this export was made with"):
        import_file(tmp_path / "coop.json", "--key-file", str(other_key))
    assert co_op_rows() == {}


def test_with_secrets_asks_for_a_key_that_is_a_fernet_key(demo_coop, tmp_path):
    not_a_key = tmp_path / "key.txt"
    not_a_key.write_text("hunter2")

    with pytest.raises(CommandError, match="--with-secrets needs --key-file"):
        export(tmp_path / "coop.json", "--with-secrets")
    with pytest.raises(CommandError, match="does not hold a Fernet key"):
        export(tmp_path / "coop.json", "--with-secrets", "--key-file", str(not_a_key))
    assert not (tmp_path / "coop.json").exists()


def test_a_historical_row_keeps_no_secret_either(demo_coop):
    assert archive.secret_fields(BackupTarget.history.model) == ["heartbeat_id"]
    assert archive.secret_fields(BackupTarget) == ["secret_access_key", "heartbeat_id"]
