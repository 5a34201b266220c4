"""PDU and BMC credentials and S3 keys are encrypted at rest and never shown back."""

import pytest
from cryptography.fernet import Fernet
from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from power.models import PowerController

from .factories import make_pdu

pytestmark = pytest.mark.django_db


def stored_column(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 (names are ours)
        return cursor.fetchone()[0]


class ControllerForm(forms.ModelForm):
    class Meta:
        model = PowerController
        fields = ["name", "site", "driver", "host", "snmp_version", "username", "secret"]


def test_a_pdu_community_is_stored_only_as_ciphertext():
    pdu = make_pdu(secret="s3cret-community")
    raw = stored_column("power_powercontroller", "secret", pdu.pk)
    assert "s3cret-community" not in raw
    assert raw.startswith("gAAAAA")  # a Fernet token
    assert PowerController.objects.get(pk=pdu.pk).secret == "s3cret-community"


def test_secrets_survive_a_key_rotation(settings):
    pdu = make_pdu(secret="old-community")
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [new_key, *settings.FIELD_ENCRYPTION_KEY]
    assert PowerController.objects.get(pk=pdu.pk).secret == "old-community"
    pdu.secret = "new-community"
    pdu.save()
    # Written with the new key alone: readable once the old key is dropped.
    settings.FIELD_ENCRYPTION_KEY = [new_key]
    assert PowerController.objects.get(pk=pdu.pk).secret == "new-community"


def test_a_lost_key_is_an_error_not_a_password(settings):
    pdu = make_pdu(secret="community")
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    loaded = PowerController.objects.get(pk=pdu.pk)  # loading it is fine: pages list controllers
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY"):
        loaded.secret  # noqa: B018 - reading it is what fails


def test_change_history_never_keeps_a_copy_of_the_secret():
    pdu = make_pdu(secret="first")
    pdu.secret = "second"
    pdu.save()
    historical_fields = {f.name for f in pdu.history.model._meta.get_fields()}
    assert "secret" not in historical_fields
    assert pdu.history.count() == 2


def test_the_secret_box_is_always_empty_and_leaving_it_empty_keeps_the_secret():
    pdu = make_pdu(secret="keep-me")
    form = ControllerForm(instance=pdu)
    assert "keep-me" not in form.as_p()
    assert stored_column("power_powercontroller", "secret", pdu.pk) not in form.as_p()

    data = {f: getattr(pdu, f) for f in ("name", "driver", "host", "snmp_version", "username")}
    form = ControllerForm({**data, "site": pdu.site_id, "secret": ""}, instance=pdu)
    assert form.is_valid(), form.errors
    form.save()
    assert PowerController.objects.get(pk=pdu.pk).secret == "keep-me"

    form = ControllerForm({**data, "site": pdu.site_id, "secret": "replaced"}, instance=pdu)
    assert form.is_valid(), form.errors
    form.save()
    assert PowerController.objects.get(pk=pdu.pk).secret == "replaced"
