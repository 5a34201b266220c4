"""The forms on the incident page: each one is a single thing an operator does, phone first.

They only read and check what was typed; the change itself, and its timeline entry, is an
Incident or ActionItem method the view calls.
"""

import re

from django import forms
from django.db.models import Q

from coop.models import Person
from hosts.models import Guest, Machine

from .models import UPDATE_MAX_LENGTH, Incident

# What must not go to the public by accident: an address, a phone number, an IP. (Hostnames are
# checked against the inventory in PublicTextCheck.)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_PHONE = re.compile(r"\+?\(?\d[\d ().-]{6,18}\d")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_IPV6 = re.compile(r"\b[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}\b", re.IGNORECASE)
_DATE_OR_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}|^\d{1,2}[.:]\d{2}")


def names_private_things(text):
    """What in `text` looks private: email addresses, phone numbers, IP addresses and machine or guest names."""
    found = _EMAIL.findall(text) + _IPV4.findall(text)
    found += [m for m in _IPV6.findall(text) if m.count(":") >= 2]
    found += [m.strip() for m in _PHONE.findall(text) if not _DATE_OR_TIME.match(m.strip()) and m not in found]
    words = {w.lower().strip(".,;:()!?'\"") for w in text.split()}
    found += [name for word, name in _inventory_names().items() if word in words]
    return list(dict.fromkeys(found))


def _inventory_names():
    """Every machine's hostname and its first label ("xen1"), and every guest's name, lower-cased."""
    # A co-op has tens of machines and hundreds of guests: read them all, match in Python.
    names = {}
    for hostname in Machine.objects.values_list("hostname", flat=True):
        names[hostname.lower()] = names[hostname.split(".")[0].lower()] = hostname
    for name in Guest.objects.values_list("name", flat=True):
        names[name.lower()] = name
    return names


class UpdateForm(forms.Form):
    body = forms.CharField(
        label="Update",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What do you know? What are you doing next?"}),
        max_length=UPDATE_MAX_LENGTH,
        error_messages={
            "required": "Write what you know: the update is empty.",
            "max_length": f"Keep an update under {UPDATE_MAX_LENGTH:,} characters (this one has %(show_value)d).",
        },
        strip=True,
    )
    public = forms.BooleanField(
        label="Public: the status page shows these words", required=False, help_text="Leave unticked for members only."
    )
    names_are_public = forms.BooleanField(
        label="Yes, publish the names and addresses in it", required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, incident, **kwargs):
        self.incident = incident
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if data.get("public") and not self.incident.is_public:
            raise forms.ValidationError(
                "The incident is not on the status page yet: give it a public title first (below), then post."
            )
        if data.get("public") and data.get("body") and not data.get("names_are_public"):
            private = names_private_things(data["body"])
            if private:
                # Asked once: the form comes back with the box to confirm.
                self.fields["names_are_public"].widget = forms.CheckboxInput()
                raise forms.ValidationError(
                    "This public update names " + ", ".join(private[:5]) + ": the public will read it. "
                    "Reword it, or tick “Yes, publish the names and addresses in it”."
                )
        return data


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Incident.Status.choices, label="Status")
    note = forms.CharField(label="Why (optional)", required=False, max_length=500)


class SeverityForm(forms.Form):
    severity = forms.ChoiceField(choices=Incident.Severity.choices, label="Severity")


class PublishForm(forms.Form):
    title = forms.CharField(
        label="Title for the public",
        max_length=200,
        help_text="No internal hostnames or addresses: e.g. “Some member websites are down”.",
        error_messages={"required": "Give the incident a title for the public."},
    )

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        private = names_private_things(title)
        if private:
            raise forms.ValidationError(f"The public title names {', '.join(private[:5])}: write it for the public.")
        return title


class AffectedForm(forms.Form):
    names = forms.CharField(
        label="Machines or guests",
        max_length=2000,
        help_text="Hostnames or guest names, separated by spaces or commas.",
        error_messages={"required": "Name at least one machine or guest."},
    )

    def clean_names(self):
        names = [n for n in re.split(r"[\s,]+", self.cleaned_data["names"]) if n]
        machines = {m.hostname: m for m in Machine.objects.filter(hostname__in=names)}
        guests = {g.name: g for g in Guest.objects.filter(name__in=names)}
        unknown = [n for n in names if n not in machines and n not in guests]
        if unknown:
            raise forms.ValidationError(f"No machine or guest is called {', '.join(unknown[:10])}: nothing was added.")
        self.machines = [machines[n] for n in dict.fromkeys(names) if n in machines]
        self.guests = [guests[n] for n in dict.fromkeys(names) if n in guests and n not in machines]
        return names


class ActionItemForm(forms.Form):
    title = forms.CharField(label="Still to do", max_length=300, error_messages={"required": "Say what is to be done."})
    # Volunteers and people who log in: not every contact of every member project.
    owner = forms.ModelChoiceField(
        queryset=Person.objects.filter(Q(is_volunteer=True) | Q(user__isnull=False)).order_by("name"),
        required=False,
        label="Who",
        empty_label="Nobody yet",
    )
    due_on = forms.DateField(label="Due", required=False, widget=forms.DateInput(attrs={"type": "date"}))


class ResolveForm(forms.Form):
    summary = forms.CharField(
        label="Summary: what happened",
        required=False,
        max_length=UPDATE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown on the public page when the incident is public.",
    )


class PostmortemForm(forms.Form):
    postmortem = forms.CharField(
        label="Postmortem (Markdown)",
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 12}),
        error_messages={"required": "Write the postmortem before publishing it."},
    )


class OpenIncidentForm(forms.Form):
    title = forms.CharField(
        label="What is wrong", max_length=200, error_messages={"required": "Say in a few words what is wrong."}
    )
    severity = forms.ChoiceField(choices=Incident.Severity.choices, initial=Incident.Severity.MAJOR)
    update = forms.CharField(
        label="First note (optional)",
        required=False,
        max_length=UPDATE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For members: what you see, what you will try.",
    )
    affected = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_affected(self):
        names = [n for n in re.split(r"[\s,]+", self.cleaned_data["affected"]) if n]
        self.machines = list(Machine.objects.filter(hostname__in=names))
        found = {m.hostname for m in self.machines}
        self.guests = list(Guest.objects.filter(name__in=[n for n in names if n not in found]))
        found |= {g.name for g in self.guests}
        unknown = [n for n in names if n not in found]
        if unknown:
            raise forms.ValidationError(f"No machine or guest is called {', '.join(unknown[:10])}.")
        return names
