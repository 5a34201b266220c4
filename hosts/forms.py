"""Forms members fill in on the inventory pages."""

from django import forms

from .models import RestoreDrill, Runbook


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
