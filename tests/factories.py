"""Small builders for test data: invented names, documentation IP ranges only."""

from itertools import count

from coop.models import Organization, Person, Site
from hosts.models import Guest, Machine
from power.models import PowerController

_n = count(1)


def make_site(**fields):
    n = next(_n)
    fields.setdefault("name", f"Colo {n}")
    fields.setdefault("slug", f"colo-{n}")
    return Site.objects.create(**fields)


def make_org(**fields):
    n = next(_n)
    fields.setdefault("name", f"Project {n}")
    fields.setdefault("slug", f"project-{n}")
    return Organization.objects.create(**fields)


def make_person(**fields):
    fields.setdefault("name", f"Volunteer {next(_n)}")
    return Person.objects.create(**fields)


def make_machine(**fields):
    fields.setdefault("hostname", f"host{next(_n)}.colo.example.org")
    if "site" not in fields:
        fields["site"] = make_site()
    return Machine.objects.create(**fields)


def make_guest(**fields):
    fields.setdefault("name", f"vps{next(_n)}.example.org")
    if "machine" not in fields:
        fields["machine"] = make_machine()
    return Guest.objects.create(**fields)


def make_pdu(**fields):
    fields.setdefault("name", f"pdu{next(_n)}")
    fields.setdefault("driver", PowerController.Driver.APC_SNMP)
    fields.setdefault("snmp_version", PowerController.SNMPVersion.V2C)
    fields.setdefault("host", "192.0.2.10")
    if "site" not in fields:
        fields["site"] = make_site()
    return PowerController.objects.create(**fields)
