"""The demo login, the organisations in the stories and the people in them, with how to reach them."""

from django.contrib.auth import get_user_model

from coop.models import ContactMethod, Organization, Person

from .seeder import CHANGE_REASON

DEMO_USERNAME = "demo"
DEMO_EMAIL = "demo@example.org"
DEMO_PASSWORD = "switchboard-demo"  # noqa: S105 - a published demo login, not a secret
DEMO_PERSON_NAME = "Ines Okafor"  # the directory entry the demo login belongs to (PEOPLE["ines"])


def seed_demo_user(s):
    """The demo login (a superuser), created with the published password if missing."""
    User = get_user_model()
    user = User._default_manager.filter(username=DEMO_USERNAME).first()
    if user is not None:
        s.present["users"] += 1
        return user
    # Named as the person it is linked to (seed_people), so every page shows one name for it.
    first_name, last_name = DEMO_PERSON_NAME.split(" ", 1)
    user = User(username=DEMO_USERNAME, email=DEMO_EMAIL, first_name=first_name, last_name=last_name)
    user.is_staff = user.is_superuser = True
    user.set_password(DEMO_PASSWORD)
    user.full_clean()
    user.save()
    s.created["users"] += 1
    s.user_created = True
    return user


ORGANIZATIONS = [
    # slug, name, website, email, is_member, notes
    (
        "tidewater",
        "Tidewater Hosting Co-op",
        "https://tidewater.example.org",
        "ops@tidewater.example.org",
        True,
        "The co-op itself: owns the rack at Foghorn Street and the machines in it.",
    ),
    ("atlas-wiki", "Atlas Wiki", "https://atlas.example.org", "team@atlas.example.org", True, ""),
    ("field-notes", "Field Notes", "https://fieldnotes.example.org", "noor@fieldnotes.example.org", True, "A blog."),
    (
        "quillmark-docs",
        "Quillmark Docs Archive",
        "https://docs.quillmark.example.org",
        "archive@quillmark.example.org",
        True,
        "Keeps the documentation and public history of a discontinued product online. Pays for vz1.",
    ),
    (
        "lakeshore-hosting",
        "Lakeshore Hosting",
        "https://lakeshore.example.net",
        "billing@lakeshore.example.net",
        False,
        "Hosting provider: rents us the dedicated server vz1 at Lakeshore DC2.",
    ),
    (
        "foghorn-facilities",
        "Foghorn Facilities",
        "https://foghorn.example.net",
        "desk@foghorn.example.net",
        False,
        "Runs the Foghorn Street building; our colo contract is with them.",
    ),
]


def seed_organizations(s):
    """The co-op, its member projects and its two providers, by slug."""
    orgs = {}
    for slug, name, website, email, is_member, notes in ORGANIZATIONS:
        orgs[slug], _ = s.ensure(
            Organization,
            {"slug": slug},
            {"name": name, "website": website, "email": email, "is_member": is_member, "notes": notes},
        )
    return orgs


# key: (name, organisation slug, volunteer?, time zone, notes, [(kind, value, verified days ago)])
PEOPLE = {
    "ines": (
        DEMO_PERSON_NAME,
        "tidewater",
        True,
        "America/Los_Angeles",
        "Co-op admin; the demo login.",
        [
            ("sms", "+1 555 0101", 12),
            ("phone", "+1 555 0101", 12),
            ("signal", "+1 555 0101", 30),
            ("matrix", "@ines:example.org", 5),
            ("email", "ines@example.org", 5),
        ],
    ),
    "tomas": (
        "Tomas Reyes",
        "tidewater",
        True,
        "America/Los_Angeles",
        "Lives ten minutes from Foghorn Street; holds a rack key.",
        [
            ("phone", "+1 555 0102", 20),
            ("sms", "+1 555 0102", 20),
            ("email", "tomas@example.org", 41),
            ("matrix", "@tomas:example.org", 41),
        ],
    ),
    "wen": (
        "Wen Liu",
        "tidewater",
        True,
        "America/New_York",
        "Knows Xen; remote most of the time.",
        [
            ("signal", "+1 555 0103", 9),
            ("email", "wen@example.net", 9),
            ("matrix", "@wen:example.net", 60),
            ("phone", "+1 555 0103", 60),
        ],
    ),
    "dmitri": (
        "Dmitri Valk",
        "tidewater",
        True,
        "America/Chicago",
        "Built vz1 and is the only one who knows it.",
        [
            ("phone", "+1 555 0104", 700),
            ("sms", "+1 555 0104", 700),
            ("phone", "+1 555 0105", 640),
            ("email", "dmitri@example.net", 420),
            ("matrix", "@dmitri:example.net", 480),
            ("signal", "+1 555 0104", 610),
        ],
    ),
    "priya": (
        "Priya Raman",
        "atlas-wiki",
        False,
        "America/Los_Angeles",
        "Runs Atlas Wiki; started the spare-VM restore during the dom0 outage.",
        [
            ("sms", "+1 555 0111", 40),
            ("email", "priya@atlas.example.org", 40),
            ("matrix", "@priya:atlas.example.org", 40),
        ],
    ),
    "noor": (
        "Noor Haddad",
        "field-notes",
        False,
        "Europe/London",
        "Writes Field Notes. Prefers email; UK evenings.",
        [("email", "noor@fieldnotes.example.org", 40), ("signal", "+1 555 0112", 90)],
    ),
    "hal": (
        "Hal Becker",
        "quillmark-docs",
        False,
        "America/New_York",
        "Looks after the Quillmark archive in his spare time.",
        [("email", "hal@quillmark.example.org", 25), ("phone", "+1 555 0113", 25), ("sms", "+1 555 0113", 25)],
    ),
    "lakeshore_hands": (
        "Lakeshore Remote Hands",
        "lakeshore-hosting",
        False,
        "America/Chicago",
        "The provider's 24/7 desk. Quote account LKS-DEMO-4417.",
        [("phone", "+1 555 0160", 15), ("email", "remote-hands@lakeshore.example.net", 15)],
    ),
    "foghorn_desk": (
        "Foghorn Security Desk",
        "foghorn-facilities",
        False,
        "America/Los_Angeles",
        "Staffed 07:00–19:00 weekdays; after hours the phone forwards to the guard on duty.",
        [("phone", "+1 555 0150", 15), ("email", "desk@foghorn.example.net", 15)],
    ),
}


# key: what their record says when a call will not reach them (Person.unreachable_reason)
UNREACHABLE = {
    "dmitri": "Has not answered email, phone or chat for over a year.",
}


def seed_people(s, orgs, user):
    """Everyone in the stories with their contact methods, by short key; Ines is the demo login."""
    people = {}
    for key, (name, org, is_volunteer, tz, notes, methods) in PEOPLE.items():
        defaults = {"organization": orgs[org], "is_volunteer": is_volunteer, "timezone": tz, "notes": notes}
        defaults["unreachable_reason"] = UNREACHABLE.get(key, "")
        if key == "ines" and not Person.objects.filter(user=user).exists():
            defaults["user"] = user
        person, _ = s.ensure(Person, {"name": name}, defaults)
        for priority, (kind, value, verified_days_ago) in enumerate(methods, start=1):
            s.ensure(
                ContactMethod,
                {"person": person, "kind": kind, "value": value},
                {"priority": priority, "verified_at": s.days_ago(verified_days_ago)},
            )
        people[key] = person
    _link_demo_user(people["ines"], user)
    return people


def _link_demo_user(person, user):
    """Fill in a missing login link (the demo user was recreated); never move an existing one."""
    if person.user_id is None and not Person.objects.filter(user=user).exists():
        person.user = user
        person._change_reason = CHANGE_REASON
        person.save(update_fields=["user"])
