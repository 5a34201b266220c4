"""The restore drill form."""

from django import forms

from .models import RestoreDrill


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
