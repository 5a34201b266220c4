"""The encryption key is lost or wrong (a host that made its own, a typo in the environment): every
page still opens, a secret that cannot be decrypted says so where it is used, and only the driver,
the reveal and the S3 client ever try to decrypt — never a page that does not show it."""

import pytest
from cryptography.fernet import Fernet

from backups.models import BackupTarget
from coop.models import ContactMethod
from core.fields import Ciphertext, SecretUnreadable
from power.models import PowerController

from .factories import make_pdu
from .scene import build_scene

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def key_lost(settings):
    """The scene's secrets were written with one key; Switchboard now runs with another."""
    scene = build_scene()
    ContactMethod.objects.create(person=scene.noor, kind="ntfy", value="noor", alert_url="ntfy://secret-topic")
    controller = PowerController.objects.get(name="pdu-sf-1")
    controller.secret = "private-community"
    controller.save()
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    return scene


def test_every_page_a_member_opens_still_renders(member_client, key_lost):
    scene = key_lost
    target = BackupTarget.objects.get(kind="s3", name="wiki-s3")
    for path in [
        "/",
        f"/machines/{scene.machine.hostname}/",
        f"/guests/{scene.wiki.name}/",
        "/backups/",
        f"/backups/{target.pk}/",
        f"/people/{scene.noor.pk}/",
        f"/incidents/{scene.incident.pk}/",
        "/search/?q=wiki",
    ]:
        assert member_client.get(path).status_code == 200, path


def test_the_machine_page_says_the_password_must_be_re_entered(operator_client, key_lost):
    html = operator_client.get(f"/machines/{key_lost.machine.hostname}/").content.decode()
    assert "cannot be decrypted — re-enter it" in html


def test_revealing_it_says_so_instead_of_failing(operator_client, key_lost):
    controller = key_lost.machine.outlets.get().controller
    url = f"/machines/{key_lost.machine.hostname}/power/controllers/{controller.pk}/password/"
    response = operator_client.post(url, {"reason": "on site, PDU console"})
    assert response.status_code == 200
    assert "cannot be decrypted — re-enter it" in response.content.decode()


def test_a_row_saved_without_touching_its_secret_keeps_the_secret(key_lost):
    controller = PowerController.objects.get(pk=key_lost.machine.outlets.get().controller_id)
    controller.name = "renamed"
    controller.save()  # no decryption needed, and the ciphertext is kept as it was
    assert not controller.secret_is_readable
    with pytest.raises(SecretUnreadable, match="cannot be decrypted"):
        controller.secret  # noqa: B018 - only reading it decrypts, and that is refused
    pdu = make_pdu(secret="new community")
    assert PowerController.objects.get(pk=pdu.pk).secret == "new community"


def test_a_power_action_fails_with_the_reason_and_sends_nothing(key_lost):
    from power.drivers import ConfigError, get_driver

    controller = PowerController.objects.get(pk=key_lost.machine.outlets.get().controller_id)
    with pytest.raises(ConfigError, match="cannot be decrypted — re-enter it"):
        get_driver(controller)


def test_the_admin_asks_for_the_secret_again_instead_of_failing(key_lost):
    from django.core.exceptions import ValidationError

    controller = PowerController.objects.get(pk=key_lost.machine.outlets.get().controller_id)
    with pytest.raises(ValidationError, match="cannot be decrypted — re-enter it"):
        controller.full_clean()
    controller.secret = "typed again"
    controller.full_clean()


def test_the_backup_check_says_the_key_must_be_re_entered(key_lost):
    from django.utils import timezone

    target = BackupTarget.objects.get(kind="s3", name="wiki-s3")
    BackupTarget.objects.filter(pk=target.pk).update(secret_access_key=Ciphertext(_encrypted_with_another_key()))
    target = BackupTarget.objects.get(pk=target.pk)
    verdict = target.check_s3(timezone.now())
    assert verdict.state == "error" and "secret access key cannot be decrypted — re-enter it" in verdict.message


def _encrypted_with_another_key():
    """Ciphertext as a key Switchboard no longer has made it (stored as it is: already encrypted)."""
    return Fernet(Fernet.generate_key()).encrypt(b"old secret").decode()
