"""Forms members and operators fill in: runbooks, restore drills, power actions, password reveals."""

from django import forms

from .models import PowerAction, PowerOutlet, RestoreDrill, Runbook


class RunbookForm(forms.ModelForm):
    """Edit a runbook's text; each save becomes a version, so it says what changed."""

    summary = forms.CharField(
        label="What changed",
        max_length=100,
        required=False,
        help_text="One line for the versions list, e.g. “added the step to mount /srv”.",
    )
    # The updated_at the editor started from (ISO text: a DateTimeField would drop the microseconds).
    based_on = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Runbook
        fields = ["title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 20, "spellcheck": "true"})}
        error_messages = {
            "title": {"required": "Give the runbook a title people will recognise, e.g. “Restore the wiki”."},
            "body": {"required": "Write at least one step: an empty runbook helps nobody at 3 a.m."},
        }

    def clean(self):
        cleaned = super().clean()
        based_on = cleaned.get("based_on")
        # Two volunteers editing during the same outage: the second save must not silently erase the first.
        current = self.instance.updated_at.isoformat() if self.instance.pk else ""
        if based_on and based_on != current:
            self.add_error(
                "body",
                "Someone else saved this runbook while you were editing. Open the versions list to see their "
                "change, merge it into your text below, and save again.",
            )
            self.data = self.data.copy()
            self.data["based_on"] = current
        return cleaned


class ExercisedForm(forms.Form):
    """Record that a runbook was followed (for real or in a drill)."""

    note = forms.CharField(
        max_length=300,
        help_text="What you did and how it went, e.g. “restore drill on a fresh VM, took 40 minutes”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class RestoreDrillForm(forms.ModelForm):
    """Record a restore drill: what was restored, from which backup, onto what, and whether it worked."""

    # A yes/no that must be answered: a checkbox left alone would quietly mean "failed".
    succeeded = forms.TypedChoiceField(
        label="Did the restored copy work?",
        choices=[("yes", "Yes, it worked"), ("no", "No")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )

    class Meta:
        model = RestoreDrill
        fields = ["what", "from_backup", "onto", "started_at", "duration", "succeeded", "notes"]
        widgets = {
            "started_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }
        labels = {"from_backup": "From which backup", "onto": "Restored onto", "what": "What was restored"}
        help_texts = {"duration": "Hours:minutes:seconds, e.g. 1:30:00."}


class PowerRequestForm(forms.Form):
    """What the operator asks for, why, and the hostname typed to prove it is the right machine."""

    outlet = forms.ModelChoiceField(queryset=PowerOutlet.objects.none(), empty_label=None)
    operation = forms.ChoiceField(choices=PowerAction.Operation.choices, initial=PowerAction.Operation.CYCLE)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        help_text="Goes on the incident timeline, e.g. “dom0 frozen, no ping, console dead”.",
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
    reason = forms.CharField(max_length=500, help_text="Recorded on the incident timeline with your name.")

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why.")
        return reason


class RevealForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=500,
        help_text="Recorded on the incident timeline with your name.",
    )
