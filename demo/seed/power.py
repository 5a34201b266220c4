"""The demo's power controllers and outlets; the PDU and the BMC are simulators on this host."""

from power.models import PowerController, PowerOutlet

# The simulators a later issue starts on this host; the demo's controllers point at them.
SIMULATOR_HOST = "127.0.0.1"
PDU_PORT = 16161
BMC_PORT = 16230


def seed_power(s, sites, machines):
    """The PDU, the BMC and the provider's remote hands, and which outlet feeds which machine."""
    pdu, _ = s.ensure(
        PowerController,
        {"name": "foghorn-pdu1"},
        {
            "site": sites["foghorn"],
            "driver": PowerController.Driver.APC_SNMP,
            "host": SIMULATOR_HOST,
            "port": PDU_PORT,
            "snmp_version": PowerController.SNMPVersion.V2C,
            "secret": "demo-private",
            "notes": "Top of rack R3. In the demo it is a simulator on this host.",
        },
    )
    bmc, _ = s.ensure(
        PowerController,
        {"name": "store1-bmc"},
        {
            "site": sites["foghorn"],
            "driver": PowerController.Driver.IPMI,
            "host": SIMULATOR_HOST,
            "port": BMC_PORT,
            "username": "demo-admin",
            "secret": "demo-bmc-password",
            "notes": "store1's IPMI BMC. In the demo it is a simulator on this host.",
        },
    )
    hands, _ = s.ensure(
        PowerController,
        {"name": "lakeshore-remote-hands"},
        {
            "site": sites["lakeshore"],
            "driver": PowerController.Driver.MANUAL,
            "notes": "No remote power: call Lakeshore Remote Hands (+1 555 0160), account LKS-DEMO-4417.",
        },
    )
    outlets = [
        (pdu, 1, machines["xen1"], "xen1 PSU A"),
        (pdu, 2, machines["xen1"], "xen1 PSU B"),
        (pdu, 3, machines["store1"], "store1"),
        (pdu, 4, None, "Top-of-rack switch: do not cycle"),
        (bmc, 1, machines["store1"], "Chassis power"),
        (hands, 1, machines["vz1"], "Provider's power switch"),
    ]
    for controller, number, machine, label in outlets:
        s.ensure(PowerOutlet, {"controller": controller, "number": number}, {"machine": machine, "label": label})
