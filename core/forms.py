"""Form pieces shared by pages and the admin."""

from django import forms


class SecretFormField(forms.CharField):
    """A write-only secret: never rendered back; left empty, the stored value stays.

    An empty input cleans to None, which EncryptedSecretField.save_form_data
    takes to mean "keep the stored value".
    """

    widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})

    def __init__(self, *args, **kwargs):
        kwargs.pop("max_length", None)
        kwargs["required"] = False
        kwargs.setdefault(
            "help_text",
            "Write-only: the stored value is never shown. Leave empty to keep it.",
        )
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        return ""

    def to_python(self, value):
        value = super().to_python(value)
        return value or None

    def has_changed(self, initial, data):
        # The box is always empty, so only typing something is a change.
        return bool(data)
