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

# What must not go to the public by accident: an address, a phone number, an IP. (Hostnames and
# people's names are checked against the inventory and the directory in names_private_things.)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_PHONE = re.compile(r"\+?\(?\d[\d ().-]{6,18}\d")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?:/\d{1,3})?(?![\w:])", re.IGNORECASE)
_DATE_OR_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}|^\d{1,2}[.:]\d{2}")
# Words as a hostname is written in a URL, a path, "host:22" or "xen1's".
_WORD = re.compile(r"[^\w.-]+")


def names_private_things(text):
    """What in `text` looks private: email addresses, phone numbers, IP addresses, machine or guest names
    (however they are written: in a URL, with a port, "xen1's") and the names of people in the directory."""
    found = _EMAIL.findall(text) + _IPV4.findall(text)
    found += [m for m in _IPV6.findall(text) if m.count(":") >= 2 and any(c.isalnum() for c in m)]
    found += [m.strip() for m in _PHONE.findall(text) if not _DATE_OR_TIME.match(m.strip()) and m not in found]
    words = {w.lower().strip(".-") for w in _WORD.split(text)} - {""}
    found += [name for word, name in _inventory_names().items() if word in words]
    lowered = text.lower()
    found += [name for name in _people_names() if name.lower() in lowered]
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


def _people_names():
    """The directory's people with a name of two words or more (one word, "Ana", is too common a word)."""
    return [name for name in Person.objects.values_list("name", flat=True) if len(name.split()) >= 2]


class PublicWordsForm(forms.Form):
    """A form some of whose words the public will read: they are checked for private things first.

    `public_fields` name them; `goes_public()` says whether they will be shown this time. When
    something is found the form comes back asking, once, to confirm with names_are_public.
    """

    public_fields = ()
    names_are_public = forms.BooleanField(
        label="Yes, publish the names and addresses in it", required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, incident, **kwargs):
        self.incident = incident
        super().__init__(*args, **kwargs)

    def goes_public(self):
        return self.incident.is_public

    def clean(self):
        data = super().clean()
        if not self.goes_public() or data.get("names_are_public"):
            return data
        for name in self.public_fields:
            private = names_private_things(data.get(name) or "")
            if private:
                self.fields["names_are_public"].widget = forms.CheckboxInput()
                self.add_error(
                    name,
                    "The public will read this, and it names " + ", ".join(private[:5]) + ". "
                    "Reword it, or tick “Yes, publish the names and addresses in it”.",
                )
        return data


class UpdateForm(PublicWordsForm):
    public_fields = ("body",)
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
    field_order = ["body", "public", "names_are_public"]

    def goes_public(self):
        return bool(self.cleaned_data.get("public"))

    def clean(self):
        data = super().clean()
        if data.get("public") and not self.incident.is_public:
            raise forms.ValidationError(
                "The incident is not on the status page yet: give it a public title first (below), then post."
            )
        return data


class StatusForm(PublicWordsForm):
    public_fields = ("note",)
    status = forms.ChoiceField(choices=Incident.Status.choices, label="Status")
    note = forms.CharField(label="Why (optional)", required=False, max_length=500)
    field_order = ["status", "note", "names_are_public"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.incident.is_public:
            self.fields["note"].label = "Why (optional; shown on the status page)"


class SeverityForm(forms.Form):
    severity = forms.ChoiceField(choices=Incident.Severity.choices, label="Severity")


class PublishForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "public_%s")
        super().__init__(*args, **kwargs)

    title = forms.CharField(
        label="Title for the public",
        max_length=200,
        help_text="No internal hostnames or addresses: e.g. “Some member websites are down”.",
        error_messages={"required": "Give the incident a title for the public."},
    )

    def clean_title(self):
        title = " ".join(self.cleaned_data["title"].split())  # one line: it is an email subject too
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
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "item_%s")  # the page has other "title" boxes: labels must find their own
        super().__init__(*args, **kwargs)

    title = forms.CharField(label="Still to do", max_length=300, error_messages={"required": "Say what is to be done."})
    # Volunteers and people who log in: not every contact of every member project.
    owner = forms.ModelChoiceField(
        queryset=Person.objects.filter(Q(is_volunteer=True) | Q(user__isnull=False)).order_by("name"),
        required=False,
        label="Who",
        empty_label="Nobody yet",
    )
    due_on = forms.DateField(label="Due", required=False, widget=forms.DateInput(attrs={"type": "date"}))


class ResolveForm(PublicWordsForm):
    public_fields = ("summary",)
    summary = forms.CharField(
        label="Summary: what happened",
        required=False,
        max_length=UPDATE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown on the public page and in the owners' emails when the incident is public.",
    )


class PostmortemForm(PublicWordsForm):
    public_fields = ("postmortem",)
    postmortem = forms.CharField(
        label="Postmortem (Markdown), for the public",
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 12}),
        error_messages={"required": "Write the postmortem before publishing it."},
        help_text="Started from what the public already read. The Markdown export above is for members: "
        "it names people, hosts and private notes.",
    )

    def goes_public(self):
        return True


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
