"""Model fields shared by the apps: secrets encrypted at rest, hostnames."""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from .forms import SecretFormField
from .validators import validate_hostname


def fernet():
    """The keys of FIELD_ENCRYPTION_KEY: the first encrypts, every one decrypts (rotation)."""
    return MultiFernet([Fernet(key) for key in settings.FIELD_ENCRYPTION_KEY])


class EncryptedSecretField(models.TextField):
    """A secret (password, community, API key) stored Fernet-encrypted.

    The database only ever holds ciphertext made with FIELD_ENCRYPTION_KEY.
    The clear value exists in memory for the driver that needs it; forms and
    the admin treat it as write-only (see core.forms.SecretFormField), and
    change history excludes it. A value that cannot be decrypted (a lost or
    wrong key) raises instead of being passed on as if it were the secret.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs["editable"] = True
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        if not value:
            return ""
        try:
            return fernet().decrypt(value.encode()).decode()
        except InvalidToken:
            raise ImproperlyConfigured(
                f"{self.model.__name__}.{self.name} cannot be decrypted with FIELD_ENCRYPTION_KEY: "
                "the key changed? Put the old key after the new one to rotate."
            ) from None

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return ""
        return fernet().encrypt(value.encode()).decode()

    def save_form_data(self, instance, data):
        # An empty write-only input means "keep what is stored".
        if data is not None:
            super().save_form_data(instance, data)

    def formfield(self, **kwargs):
        # TextField would hand the form field a Textarea: keep the password box.
        return super().formfield(**{**kwargs, "form_class": SecretFormField, "widget": SecretFormField.widget})


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
