"""Forms of the power flow: the request (with the hostname typed to confirm), cancel, reveal a password."""

from django import forms

from .models import PowerAction, PowerOutlet


class PowerRequestForm(forms.Form):
    """What the operator asks for, why, and the hostname typed to prove it is the right machine."""

    outlet = forms.ModelChoiceField(queryset=PowerOutlet.objects.none(), empty_label=None)
    operation = forms.ChoiceField(choices=PowerAction.Operation.choices, initial=PowerAction.Operation.CYCLE)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        help_text="Goes on the machine's timeline (and its open incident), e.g. “dom0 frozen, no ping, console dead”.",
    )
    confirm_hostname = forms.CharField(label="Type the machine's hostname to confirm", max_length=253)
    cooldown_override = forms.CharField(
        label="Override the cooldown (admins only): why",
        required=False,
        max_length=500,
        help_text="Leave empty unless the outlet was switched minutes ago and it must happen again now.",
    )

    def __init__(self, *args, machine, **kwargs):
        super().__init__(*args, **kwargs)
        self.machine = machine
        self.fields["outlet"].queryset = machine.outlets.select_related("controller")
        self.fields["outlet"].label_from_instance = lambda outlet: (
            f"{outlet.controller.name} outlet {outlet.number}" + (f" ({outlet.label})" if outlet.label else "")
        )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if len(reason) < 5:
            raise forms.ValidationError("Say why, in a few words: the timeline is how others learn what happened.")
        return reason

    def clean_confirm_hostname(self):
        typed = self.cleaned_data["confirm_hostname"].strip().rstrip(".").lower()
        if typed != self.machine.hostname:
            raise forms.ValidationError(f"That is not this machine's hostname; type “{self.machine.hostname}”.")
        return typed


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=500, help_text="Recorded on the machine's timeline with your name.")

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why.")
        return reason


class RevealForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=500,
        help_text="Recorded on the machine's timeline with your name.",
    )
