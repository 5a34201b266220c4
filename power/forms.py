"""Forms of the power flow: the request (with the hostname typed to confirm), cancel, reveal a password."""

from django import forms
from django.conf import settings

from .models import PowerAction

#: The value of the target choice that switches every outlet of the machine as one action.
ALL_OUTLETS = "all"


def outlet_label(outlet):
    """An outlet as the form and the pages name it: "pdu-sf-1 outlet 4 (PSU A)"."""
    return f"{outlet.controller.name} outlet {outlet.number}" + (f" ({outlet.label})" if outlet.label else "")


class PowerRequestForm(forms.Form):
    """What the operator asks for, why, and the hostname typed to prove it is the right machine.

    `outlet` is ALL_OUTLETS (the default for a machine with more than one) or one outlet's pk; clean()
    gives back the PowerOutlet, or None for all of them. A machine with one outlet has nothing to choose.
    """

    outlet = forms.ChoiceField(
        label="What to switch",
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": "Choose all outlets of this machine or one of its own outlets.",
            "required": "Choose what to switch.",
        },
    )
    operation = forms.ChoiceField(
        label="What to do",
        choices=PowerAction.Operation.choices,
        initial=PowerAction.Operation.CYCLE,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose power-cycle, power on or power off.", "required": "Choose one."},
    )
    reason = forms.CharField(
        label="Reason (goes on the timeline)",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "e.g. no ping, console dead"}),
        max_length=1000,
    )
    confirm_hostname = forms.CharField(
        label="Type the machine's name to confirm",
        max_length=253,
        widget=forms.TextInput(attrs={"autocapitalize": "none", "autocorrect": "off", "spellcheck": "false"}),
    )
    cooldown_override = forms.CharField(
        label="Override the cooldown (admins only): why",
        required=False,
        max_length=500,
        help_text="Leave empty unless the outlet was switched minutes ago and it must happen again now.",
    )

    def __init__(self, *args, machine, **kwargs):
        super().__init__(*args, **kwargs)
        self.machine = machine
        self.fields["confirm_hostname"].help_text = f"“{self.short_name}” or its full hostname"
        outlets = sorted(machine.outlets.select_related("controller"), key=lambda o: (o.controller.name, o.number))
        self.outlets = {str(outlet.pk): outlet for outlet in outlets}
        field = self.fields["outlet"]
        if len(outlets) > 1:
            names = ", ".join(outlet.label or f"{outlet.controller.name} outlet {outlet.number}" for outlet in outlets)
            whole = f"All outlets of {machine.hostname} ({names}) — off, wait {settings.POWER_ALL_OFF_SECONDS} s, on"
            singles = [(pk, f"Only {outlet_label(outlet)}") for pk, outlet in self.outlets.items()]
            field.choices = [(ALL_OUTLETS, whole), *singles]
            field.initial = ALL_OUTLETS
        else:
            # Nothing to choose: the one outlet (or BMC) goes with the form, and a missing value means it too.
            field.choices = [(pk, outlet_label(outlet)) for pk, outlet in self.outlets.items()]
            field.initial = next(iter(self.outlets), None)
            field.required = False
            field.widget = forms.HiddenInput()

    @property
    def has_a_choice_of_outlets(self):
        return len(self.outlets) > 1

    @property
    def only_outlet(self):
        """The machine's one outlet when there is nothing to choose, else None (the template names it)."""
        return None if self.has_a_choice_of_outlets else next(iter(self.outlets.values()), None)

    @property
    def wants_other_choices(self):
        """True when the form shows a choice other than the usual one (all outlets, power-cycle): keep it in view."""
        if self["outlet"].errors or self["operation"].errors:
            return True
        outlet, operation = self["outlet"].value(), self["operation"].value()
        usual_outlet = ALL_OUTLETS if self.has_a_choice_of_outlets else None
        return (usual_outlet is not None and outlet not in (None, "", usual_outlet)) or operation not in (
            None,
            "",
            PowerAction.Operation.CYCLE,
        )

    def clean_outlet(self):
        value = self.cleaned_data["outlet"] or (None if self.has_a_choice_of_outlets else next(iter(self.outlets)))
        if value == ALL_OUTLETS:
            return None
        return self.outlets[value]

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if len(reason) < 5:
            raise forms.ValidationError("Say why, in a few words: the timeline is how others learn what happened.")
        return reason

    def clean_confirm_hostname(self):
        # Its first label is enough (24 characters of "xen1.foghorn.example.net" are a lot on a phone): what
        # the check guards against is being on the wrong machine's page, and "xen1" on dom0's form is caught.
        typed = self.cleaned_data["confirm_hostname"].strip().rstrip(".").lower()
        if typed not in (self.machine.hostname, self.short_name):
            raise forms.ValidationError(f"That is not this machine's name; type “{self.short_name}”.")
        return self.machine.hostname

    @property
    def short_name(self):
        """The hostname's first label ("xen1"): what the operator types to confirm."""
        return self.machine.hostname.split(".")[0]


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
