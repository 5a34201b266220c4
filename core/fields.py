"""Model fields shared by the apps: secrets encrypted at rest, hostnames."""

import re
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.db.models.query_utils import DeferredAttribute

from .forms import SecretFormField
from .validators import validate_hostname


def fernet():
    """The keys of FIELD_ENCRYPTION_KEY: the first encrypts, every one decrypts (rotation)."""
    return MultiFernet([Fernet(key) for key in settings.FIELD_ENCRYPTION_KEY])


class SecretUnreadable(ImproperlyConfigured):
    """A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEY (a lost or wrong key)."""


class Ciphertext(str):
    """A secret as the database holds it: decrypted only when something reads the field."""


class DecryptOnRead(DeferredAttribute):
    """Reading the field decrypts it (once per instance); loading the row does not."""

    def __get__(self, instance, cls=None):
        value = super().__get__(instance, cls)
        if isinstance(value, Ciphertext):
            value = self.field.decrypt(value)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance, value):
        # A data descriptor, so that reads come through __get__ although the value is in __dict__.
        instance.__dict__[self.field.attname] = value


class EncryptedSecretField(models.TextField):
    """A secret (password, community, API key) stored Fernet-encrypted.

    The database only ever holds ciphertext made with FIELD_ENCRYPTION_KEY.
    The clear value exists in memory for the driver that needs it, and only once
    something reads the attribute: a page that lists controllers never decrypts
    their passwords, so a lost or wrong key breaks only what needs the secret
    (which raises SecretUnreadable rather than passing garbage on as the secret).
    Forms and the admin treat it as write-only (see core.forms.SecretFormField),
    and change history excludes it. A row saved without its secret being set
    keeps the ciphertext it had, readable again once the right key is back.
    """

    descriptor_class = DecryptOnRead

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs["editable"] = True
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        return Ciphertext(value) if value else ""

    def decrypt(self, value):
        try:
            return fernet().decrypt(value.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(
                f"{self.model.__name__}.{self.name} cannot be decrypted with FIELD_ENCRYPTION_KEY: "
                "the key changed? Put the old key after the new one to rotate, or re-enter the secret."
            ) from None

    def pre_save(self, model_instance, add):
        # What the instance holds, not decrypted: saving a row never needs its secret.
        return model_instance.__dict__.get(self.attname, self.get_default())

    def get_prep_value(self, value):
        if isinstance(value, Ciphertext):
            return str(value)  # never decrypted: stored as it was
        value = super().get_prep_value(value)
        if not value:
            return ""
        return fernet().encrypt(value.encode()).decode()

    def _stored(self, instance):
        """The attribute as it is now (ciphertext until something read it), loading it if deferred."""
        if self.attname not in instance.__dict__:
            # Deferred: fetch the ciphertext alone (refresh_from_db would decrypt it).
            rows = type(instance)._base_manager.filter(pk=instance.pk).values_list(self.attname, flat=True)
            instance.__dict__[self.attname] = rows.first() or ""
        return instance.__dict__[self.attname]

    def is_set(self, instance):
        """Whether the instance holds a secret, without decrypting it."""
        return bool(self._stored(instance))

    def is_readable(self, instance):
        """Whether the current keys can decrypt it: checks the ciphertext's signature, decrypts nothing."""
        value = self._stored(instance)
        if not isinstance(value, Ciphertext):
            return True
        try:
            fernet().extract_timestamp(value.encode())
        except InvalidToken:
            return False
        return True

    def value_from_object(self, obj):
        # Forms never show a secret (SecretFormField): an unreadable one must not stop its form opening.
        if not self.is_readable(obj):
            return ""
        return super().value_from_object(obj)

    def save_form_data(self, instance, data):
        # An empty write-only input means "keep what is stored".
        if data is not None:
            super().save_form_data(instance, data)

    def formfield(self, **kwargs):
        # TextField would hand the form field a Textarea: keep the password box.
        return super().formfield(**{**kwargs, "form_class": SecretFormField, "widget": SecretFormField.widget})


class KeepsSecrets:
    """Model mixin: full_clean asks for an undecryptable secret to be re-entered, instead of failing on it."""

    def clean_fields(self, exclude=None):
        secrets = [f for f in self._meta.fields if isinstance(f, EncryptedSecretField)]
        unreadable = [f for f in secrets if not f.is_readable(self)]
        errors = {}
        try:
            super().clean_fields(exclude=set(exclude or ()) | {f.name for f in unreadable})
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for field in unreadable:
            errors.setdefault(field.name, []).append(
                f"The stored {field.verbose_name} cannot be decrypted — re-enter it "
                "(Switchboard's encryption key is not the one it was stored with)."
            )
        if errors:
            raise ValidationError(errors)


class HostnameField(models.CharField):
    """A DNS hostname, stored lower-case without a trailing dot."""

    default_validators = [validate_hostname]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 253)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if isinstance(value, str):
            value = value.strip().rstrip(".").lower()
        return value

    def get_prep_value(self, value):
        return self.to_python(super().get_prep_value(value))


# Posted fields that may hold a secret: any name with "pass" in it (password1, oldpassword), one of these
# words in it (a second-factor "code", "access_key_id", "api_token"), or the name of a secret stored encrypted.
SECRET_WORDS = {"secret", "token", "code", "otp", "key", "credential", "credentials", "community", "signature", "pin"}


def looks_secret(name):
    """True when a form field called `name` may hold a secret: it is never echoed back or kept aside.

    Read by the stale-form page (front.views.errors) and the second-factor detour (core.access).
    """
    base = name.rsplit("-", 1)[-1].lower()  # an admin formset's "contacts-0-alert_url"
    words = re.split(r"[^a-z]+", base)
    return "pass" in base or not SECRET_WORDS.isdisjoint(words) or base in _secret_field_names()


@cache
def _secret_field_names():
    # Secrets kept encrypted (an alert URL, an S3 key) need not have a secret-looking name.
    return frozenset(
        field.name
        for model in apps.get_models()
        for field in model._meta.fields
        if isinstance(field, EncryptedSecretField)
    )
