"""The two sites (a colo closing soon, a provider's data centre) and who can get into them."""

from coop.models import Site, SiteAccess

FOGHORN_ACCESS = """\
Call the security desk (+1 555 0150) at least 30 minutes before you go and give the name on the
co-op's access list and account DEMO-COLO-118. Badge holders sign in with photo ID at the
badge desk on the ground floor and go up alone. Everyone else must be met at the desk by a badge or key
holder: the desk will not let an escort-only visitor up by themselves, and the escort signs
them out again. Our half rack is R3 in cage 2 on the 4th floor; the PDU is at the top, the
serial console server at U40."""

LAKESHORE_ACCESS = """\
The co-op has no badges here: it is the provider's building. Open a remote-hands ticket by
phone (+1 555 0160) or email (remote-hands@lakeshore.example.net) quoting account LKS-DEMO-4417.
Remote hands can power-cycle, reseat cables and read the console to you; allow an hour.
A visit by a volunteer needs a ticket a working day ahead and an escort from the provider."""


def seed_sites(s):
    """The closing colo and the provider's data centre, by short key."""
    closing = s.in_days(21)
    foghorn, _ = s.ensure(
        Site,
        {"slug": "foghorn"},
        {
            "name": "Foghorn Street Colo",
            "address": "1200 Foghorn Street, 4th floor, cage 2\nAnytown, CA 94000",
            "access_procedure": FOGHORN_ACCESS,
            "hours": "Badge holders 24/7; security desk staffed 07:00–19:00 weekdays",
            "timezone": "America/Los_Angeles",
            "lifecycle": Site.Lifecycle.DECOMMISSIONING,
            "decommission_date": closing,
            "pinned_warning": (
                f"This colo closes on {closing:%A %d %B}. Everything in rack R3 must be moved or "
                "switched off by then; xen1's guests move to the new site first."
            ),
            "notes": "Rack R3 (half rack). The co-op has been here since its founding.",
        },
    )
    lakeshore, _ = s.ensure(
        Site,
        {"slug": "lakeshore-dc2"},
        {
            "name": "Lakeshore DC2",
            "address": "88 Harbor Road, Hall B\nLakeside, IL 60000",
            "access_procedure": LAKESHORE_ACCESS,
            "hours": "Remote hands 24/7 by ticket; visits 09:00–17:00 weekdays",
            "timezone": "America/Chicago",
            "lifecycle": Site.Lifecycle.ACTIVE,
        },
    )
    return {"foghorn": foghorn, "lakeshore": lakeshore}


SITE_ACCESS = [
    # person, site, kind, valid for days (None: no expiry), notes
    ("tomas", "foghorn", SiteAccess.Kind.KEY, None, "Rack key and building badge; lives ten minutes away."),
    ("ines", "foghorn", SiteAccess.Kind.BADGE, 21, "Badge ends when the colo closes."),
    ("wen", "foghorn", SiteAccess.Kind.ESCORT_ONLY, None, "Must be met at the badge desk by Tomas or Ines."),
    ("foghorn_desk", "foghorn", SiteAccess.Kind.REMOTE_HANDS, None, "Can read a console or press a key; no tools."),
    # The co-op has no badges at Lakeshore (LAKESHORE_ACCESS): a volunteer visits with the provider's escort.
    ("dmitri", "lakeshore", SiteAccess.Kind.ESCORT_ONLY, 35, "Ticket a working day ahead; ends with vz1's contract."),
    ("wen", "lakeshore", SiteAccess.Kind.ESCORT_ONLY, None, "Ticket a working day ahead."),
    ("lakeshore_hands", "lakeshore", SiteAccess.Kind.REMOTE_HANDS, None, "24/7 by ticket; about an hour."),
]


def seed_site_access(s, sites, people):
    """Who can get into which site, and how (key, badge, escort, remote hands)."""
    for person, site, kind, valid_days, notes in SITE_ACCESS:
        s.ensure(
            SiteAccess,
            {"person": people[person], "site": sites[site]},
            {"kind": kind, "valid_until": s.in_days(valid_days) if valid_days else None, "notes": notes},
        )
