"""A PDU's SNMP community and an S3 secret key go into the admin and never come back out.

Ada types a secret once. Nobody reading any admin page later (or the database
dump) can see it; leaving the password box empty keeps it.
"""

import pytest
from cryptography.fernet import MultiFernet
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.db import connection

from backups.models import BackupTarget
from coop.models import Site
from hosts.models import Machine
from power.models import PowerController, PowerOutlet
from tests.test_admin import admin_url, open_form

COMMUNITY = "pdu-community-7f3a9"
S3_KEY = "s3-secret-key-b41c2"


@pytest.fixture
def site():
    return Site.objects.create(name="Fremont colo", slug="fremont")


@pytest.fixture
def pdu(site):
    return PowerController.objects.create(
        name="pdu-a.fremont",
        site=site,
        driver="apc_snmp",
        host="192.0.2.20",
        snmp_version="2c",
        secret=COMMUNITY,
    )


@pytest.fixture
def backup(site):
    machine = Machine.objects.create(hostname="xen1.fremont.example.org", site=site)
    return BackupTarget.objects.create(
        name="xen1 nightly",
        kind="s3",
        machine=machine,
        bucket="coop-backups",
        access_key_id="AKIAEXAMPLE",
        secret_access_key=S3_KEY,
    )


def _stored(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - names are ours
        return cursor.fetchone()[0]


def _decrypt(ciphertext):
    from cryptography.fernet import Fernet

    return MultiFernet([Fernet(key) for key in settings.FIELD_ENCRYPTION_KEY]).decrypt(ciphertext.encode()).decode()


SECRETS = [
    pytest.param("pdu", COMMUNITY, "power_powercontroller", "secret", id="pdu-community"),
    pytest.param("backup", S3_KEY, "backups_backuptarget", "secret_access_key", id="s3-secret-key"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("fixture", "clear", "table", "column"), SECRETS)
def test_database_holds_only_ciphertext_of_the_secret(request, fixture, clear, table, column):
    obj = request.getfixturevalue(fixture)

    stored = _stored(table, column, obj.pk)

    assert clear not in stored
    assert _decrypt(stored) == clear


@pytest.mark.django_db
@pytest.mark.parametrize(("fixture", "clear", "table", "column"), SECRETS)
def test_no_admin_page_shows_the_secret_in_clear_or_encrypted(admin_client, request, fixture, clear, table, column):
    obj = request.getfixturevalue(fixture)
    model = type(obj)
    ciphertext = _stored(table, column, obj.pk)
    open_form(admin_client, model, obj).type(notes="Moved to rack 4").submit(admin_client)
    version = obj.history.earliest()
    pages = [
        admin_url(model, "changelist"),
        admin_url(model, "changelist") + "?q=fremont",
        admin_url(model, "change", obj.pk),
        admin_url(model, "history", obj.pk),
        admin_url(model, "simple_history", obj.pk, version.history_id),
        admin_url(model, "delete", obj.pk),
    ]

    for url in pages:
        page = admin_client.get(url).content.decode()
        assert clear not in page, url
        assert ciphertext not in page, url
        assert ciphertext[:20] not in page, url


@pytest.mark.django_db
def test_pdu_page_says_a_secret_is_set_without_showing_it(admin_client, pdu):
    response = admin_client.get(admin_url(PowerController, "change", pdu.pk))

    page = response.content.decode()
    assert 'type="password"' in page
    assert 'name="secret"' in page
    assert "Secret set" in page
    assert 'alt="True"' in page


@pytest.mark.django_db
def test_pdu_list_says_which_controllers_have_a_secret(admin_client, pdu, site):
    PowerController.objects.create(name="bmc-xen2", site=site, driver="ipmi", host="192.0.2.21")

    response = admin_client.get(admin_url(PowerController, "changelist"))

    rows = {controller.name: controller.secret_is_set for controller in response.context["cl"].result_list}
    assert rows == {"pdu-a.fremont": True, "bmc-xen2": False}


@pytest.mark.django_db
def test_saving_the_pdu_with_the_password_box_empty_keeps_the_secret(admin_client, pdu):
    response = open_form(admin_client, PowerController, pdu).type(secret="", notes="Label fixed").submit(admin_client)

    assert response.status_code == 302
    pdu.refresh_from_db()
    assert pdu.notes == "Label fixed"
    assert pdu.secret == COMMUNITY


@pytest.mark.django_db
def test_admin_log_mentions_the_secret_only_when_a_new_one_was_typed(admin_client, pdu):
    open_form(admin_client, PowerController, pdu).type(notes="Label fixed").submit(admin_client)
    kept = LogEntry.objects.latest("action_time").get_change_message()
    open_form(admin_client, PowerController, pdu).type(secret="new-community-c0ffee").submit(admin_client)
    replaced = LogEntry.objects.latest("action_time").get_change_message()

    assert "Secret" not in kept
    assert "Notes" in kept
    assert "Secret" in replaced
    assert "new-community-c0ffee" not in replaced


@pytest.mark.django_db
def test_typing_a_new_secret_replaces_the_old_one(admin_client, pdu):
    response = open_form(admin_client, PowerController, pdu).type(secret="new-community-c0ffee").submit(admin_client)

    assert response.status_code == 302
    pdu.refresh_from_db()
    assert pdu.secret == "new-community-c0ffee"
    stored = _stored("power_powercontroller", "secret", pdu.pk)
    assert "new-community-c0ffee" not in stored
    assert _decrypt(stored) == "new-community-c0ffee"


@pytest.mark.django_db
def test_adding_a_pdu_with_its_outlets_stores_the_secret_encrypted(admin_client, site):
    machine = Machine.objects.create(hostname="xen3.fremont.example.org", site=site)
    form = open_form(admin_client, PowerController).type(
        name="pdu-b.fremont", site=site.pk, driver="apc_snmp", host="192.0.2.22", snmp_version="2c", secret=COMMUNITY
    )
    form.add_row(PowerOutlet, number=4, machine=machine.pk, label="PSU A")

    response = form.submit(admin_client)

    assert response.status_code == 302
    pdu = PowerController.objects.get(name="pdu-b.fremont")
    assert pdu.secret == COMMUNITY
    assert COMMUNITY not in _stored("power_powercontroller", "secret", pdu.pk)
    assert pdu.outlets.get().machine == machine


@pytest.mark.django_db
def test_pdu_history_never_records_the_secret(admin_client, pdu):
    open_form(admin_client, PowerController, pdu).type(secret="new-community-c0ffee").submit(admin_client)

    historical_fields = {field.name for field in PowerController.history.model._meta.get_fields()}

    assert "secret" not in historical_fields
    assert pdu.history.count() == 2


@pytest.mark.django_db
def test_saving_the_backup_target_with_the_key_box_empty_keeps_the_key(admin_client, backup):
    response = open_form(admin_client, BackupTarget, backup).type(prefix="xen1/").submit(admin_client)

    assert response.status_code == 302
    backup.refresh_from_db()
    assert backup.prefix == "xen1/"
    assert backup.secret_access_key == S3_KEY
