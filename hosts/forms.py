"""Forms of the inventory's pages: writing a runbook and saying it was exercised."""

from django import forms

from .models import Runbook


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
