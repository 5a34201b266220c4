"""Which pages the audit opens for each role, read from the demo co-op in the test database.

Every URL is audited once per role that changes what it shows (see the test module's docstring):
- the public (anonymous): the status pages, every public incident, the login page, a 404;
- a member: every list page, every detail page of every object in the demo, the search page with a
  query, their calendar page, a 403 and a 404;
- an operator: the operator-only forms, and the pages whose templates offer operators more
  (OPERATOR_VARIES); every other page renders the same body as the member's.
"""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.utils.text import slugify

ANONYMOUS, MEMBER, OPERATOR = "anonymous", "member", "operator"

# URL names whose templates show operators more than members (grep templates/ for can_operate,
# user_is_operator and can_act): the power button, incident controls, runbook and drill buttons.
OPERATOR_VARIES = {
    "dashboard",  # front/_open_incidents.html
    "machine_detail",  # power/_panel.html, the power button
    "guest_detail",  # the host's power button
    "site_detail",
    "incident_list",  # "New incident"
    "incident_detail",  # every control, the alert and owners panels
    "runbook_detail",  # "Edit"
    "backup_drills",  # the drill form
}


@dataclass(frozen=True)
class Page:
    """One page to audit: `slug` names its screenshot (natural keys: primary keys differ from test to
    test, as flushing the tables does not reset them); `name` is the URL name, for grouping findings."""

    slug: str
    path: str
    name: str
    status: int = 200


def demo_pages(role):
    """The pages `role` can reach in the demo data, in the order a volunteer might open them."""
    from backups.models import BackupTarget
    from coop.models import Organization, Person, Site
    from hosts.models import Guest, Machine, Runbook
    from incidents.models import Incident
    from power.models import PowerController, PowerOutlet

    if role == ANONYMOUS:
        pages = [Page("login", "/accounts/login/", "account_login"), Page("status", "/status/", "status")]
        for incident in Incident.objects.order_by("pk"):
            if url := incident.get_public_url():
                pages.append(Page(f"public-incident--{incident.public_slug}", url, "public_incident"))
        pages.append(Page("404", "/no-such-page/", "404", status=404))
        return pages

    member = [
        Page("dashboard", "/", "dashboard"),
        Page("search", "/search/?q=wiki", "search"),
        Page("machines", "/machines/", "machine_list"),
        Page("incidents", "/incidents/", "incident_list"),
        Page("guests", "/guests/", "guest_list"),
        Page("sites", "/sites/", "site_list"),
        Page("people", "/people/", "person_list"),
        Page("organizations", "/organizations/", "organization_list"),
        Page("runbooks", "/runbooks/", "runbook_list"),
        Page("backups", "/backups/", "backup_list"),
        Page("gaps", "/gaps/", "gap_report"),
        Page("my-calendar", "/alerts/my-calendar/", "my_oncall_calendar"),
    ]
    for machine in Machine.objects.order_by("hostname"):
        member.append(Page(f"machine--{machine.hostname}", f"/machines/{machine.hostname}/", "machine_detail"))
    for guest in Guest.objects.order_by("name"):
        member.append(Page(f"guest--{guest.name}", f"/guests/{guest.name}/", "guest_detail"))
    for site in Site.objects.order_by("slug"):
        member.append(Page(f"site--{site.slug}", f"/sites/{site.slug}/", "site_detail"))
    for person in Person.objects.order_by("pk"):
        member.append(Page(f"person--{slugify(person.name)}", f"/people/{person.pk}/", "person_detail"))
    for org in Organization.objects.order_by("slug"):
        member.append(Page(f"organization--{org.slug}", f"/organizations/{org.slug}/", "organization_detail"))
    for incident in Incident.objects.order_by("pk"):
        key = slugify(incident.title)[:50]
        member.append(Page(f"incident--{key}", f"/incidents/{incident.pk}/", "incident_detail"))
    for runbook in Runbook.objects.order_by("pk"):
        key = slugify(runbook.title)[:50]
        member.append(Page(f"runbook--{key}", f"/runbooks/{runbook.pk}/", "runbook_detail"))
        member.append(Page(f"runbook-versions--{key}", f"/runbooks/{runbook.pk}/versions/", "runbook_versions"))
        for n, version in enumerate(runbook.history.order_by("history_id"), 1):
            member.append(
                Page(
                    f"runbook-version--{key}-{n}",
                    f"/runbooks/{runbook.pk}/versions/{version.history_id}/",
                    "runbook_version",
                )
            )
    for target in BackupTarget.objects.order_by("pk"):
        key = slugify(f"{target.kind}-{target.name}")
        member.append(Page(f"backup--{key}", f"/backups/{target.pk}/", "backup_detail"))
        member.append(Page(f"backup-drills--{key}", f"/backups/{target.pk}/drills/", "backup_drills"))
    member += [
        Page("404", "/machines/no-such-host.example.org/", "404", status=404),
        Page("403", "/incidents/new/", "403", status=403),  # operators only
    ]
    if role == MEMBER:
        return member

    operator = [page for page in member if page.name in OPERATOR_VARIES]
    machines = list(Machine.objects.order_by("hostname"))
    first = machines[0].hostname if machines else ""
    operator += [
        Page("incident-new", f"/incidents/new/?machine={first}", "incident_new"),
        Page("runbook-new", f"/runbooks/new/?machine={first}", "runbook_new"),
    ]
    for runbook in Runbook.objects.order_by("pk"):
        key = slugify(runbook.title)[:50]
        operator.append(Page(f"runbook-edit--{key}", f"/runbooks/{runbook.pk}/edit/", "runbook_edit"))
    for machine in machines:
        if machine.outlets.exists():
            path = f"/machines/{machine.hostname}/power/"
            operator.append(Page(f"power-request--{machine.hostname}", path, "power_request"))
        feeds = Exists(PowerOutlet.objects.filter(controller=OuterRef("pk"), machine=machine))
        for controller in PowerController.objects.filter(feeds).order_by("pk"):
            operator.append(
                Page(
                    f"power-password--{machine.hostname}--{slugify(controller.name)}",
                    f"/machines/{machine.hostname}/power/controllers/{controller.pk}/password/",
                    "power_secret_reveal",
                )
            )
    return operator
