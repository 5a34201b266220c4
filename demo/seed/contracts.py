"""The demo's two contracts, both running out soon: the Foghorn Street colo and vz1's dedicated server."""

from decimal import Decimal

from coop.models import Contract


def seed_contracts(s, sites, orgs, machines):
    """The hosting contract for vz1 and the colo contract, both ending soon."""
    s.ensure(
        Contract,
        {"provider": orgs["lakeshore-hosting"], "reference": "LKS-DEMO-4417"},
        {
            "paid_by": orgs["quillmark-docs"],
            "site": sites["lakeshore"],
            "covers": "Dedicated server vz1 with 16 IPv4 addresses",
            "starts_on": s.in_days(-6 * 365),
            "ends_on": s.in_days(35),
            "notice_days": 30,
            "monthly_cost": Decimal("189.00"),
            "notes": "The payer stops paying on the end date: move or mothball the ten containers, tell every owner.",
        },
        m2m={"machines": [machines["vz1"]]},
    )
    s.ensure(
        Contract,
        {"provider": orgs["foghorn-facilities"], "reference": "FGH-DEMO-118"},
        {
            "paid_by": orgs["tidewater"],
            "site": sites["foghorn"],
            "covers": "Half rack R3, 2 kW, 100 Mbit/s transit",
            "starts_on": s.in_days(-9 * 365),
            "ends_on": s.in_days(21),
            "notice_days": 90,
            "monthly_cost": Decimal("650.00"),
            "notes": "Notice given; ends the day the colo closes.",
        },
        m2m={"machines": [machines["xen1"], machines["store1"]]},
    )
