"""The knowledge-gap report (/gaps/): every gap a member opens it for shows as a row under its rule,
linking to where it is fixed, and goes away once fixed; the dashboard shows how many there are.
The demo's unreachable volunteer and its undocumented Windows containers are on it, and the page
costs the same number of queries for a co-op ten times the size."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backups.models import BackupTarget, RestoreDrill
from coop.models import ContactMethod, Contract, SiteAccess
from front import gaps
from hosts.models import DNSName, IPAddress, Monitor, Runbook

from .factories import make_guest, make_machine, make_org, make_person, make_site

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


def section(html, key):
    """The card of one rule on the report ("" when the rule has no rows)."""
    start = html.find(f'id="{key}"')
    return "" if start < 0 else html[start : html.find("</section>", start)]


def report(client, query=""):
    response = client.get(f"/gaps/{query}")
    assert response.status_code == 200
    return response.content.decode()


def reachable_person(**fields):
    person = make_person(**fields)
    ContactMethod.objects.create(person=person, kind="phone", value="+1 555 0199", verified_at=timezone.now())
    return person


def documented_machine(**fields):
    """A machine with everything the report asks for: no gap of its own."""
    machine = make_machine(owner=make_org(), **fields)
    IPAddress.objects.create(address=f"192.0.2.{machine.pk % 250 + 1}", machine=machine)
    DNSName.objects.create(name=f"dns.{machine.hostname}", machine=machine)
    Runbook.objects.create(title="Reboot", machine=machine, body="Steps.", last_exercised_at=timezone.now())
    BackupTarget.objects.create(
        name=f"etc {machine.hostname}", kind="heartbeat", machine=machine, last_exercised_at=timezone.now()
    )
    Monitor.objects.create(machine=machine, kind="ping", target="192.0.2.1")
    machine.admins.add(reachable_person(), reachable_person())
    return machine


# --- Machines and guests missing something: one rule each ---------------------------------------

FIXES = {
    "address": lambda subject, kind: IPAddress.objects.create(address="198.51.100.7", **{kind: subject}),
    "dns": lambda subject, kind: DNSName.objects.create(name=f"www.{subject}", **{kind: subject}),
    "owner": lambda subject, kind: type(subject).objects.filter(pk=subject.pk).update(owner=make_org()),
    "runbook": lambda subject, kind: Runbook.objects.create(title="Steps", body="1.", **{kind: subject}),
    "backup": lambda subject, kind: BackupTarget.objects.create(name="b", kind="heartbeat", **{kind: subject}),
    "monitor": lambda subject, kind: Monitor.objects.create(kind="ping", target="192.0.2.9", **{kind: subject}),
}


@pytest.mark.parametrize("gap", FIXES)
def test_a_machine_missing_something_is_listed_until_it_is_filled_in(member_client, gap):
    machine = make_machine(hostname="bare1.colo.example.org")
    assert "bare1.<wbr>colo.<wbr>example.<wbr>org" in section(report(member_client), f"machine-{gap}")

    FIXES[gap](machine, "machine")
    assert "bare1" not in section(report(member_client), f"machine-{gap}")


@pytest.mark.parametrize("gap", FIXES)
def test_a_guest_missing_something_is_listed_until_it_is_filled_in(member_client, gap):
    guest = make_guest(name="bare-vps.example.org", machine=documented_machine())
    assert "bare-vps.<wbr>example.<wbr>org" in section(report(member_client), f"guest-{gap}")

    FIXES[gap](guest, "guest")
    assert "bare-vps" not in section(report(member_client), f"guest-{gap}")


def test_a_disabled_monitor_does_not_count_and_decommissioned_machines_are_left_out(member_client):
    machine = make_machine(hostname="quiet1.colo.example.org")
    Monitor.objects.create(machine=machine, kind="ping", target="192.0.2.9", is_enabled=False)
    assert "quiet1" in section(report(member_client), "machine-monitor")

    machine.lifecycle, machine.decommission_date = "decommissioned", timezone.localdate()
    machine.save()
    assert "quiet1" not in report(member_client)


def test_rows_link_members_to_the_page_and_staff_to_the_admin(client, member, admin):
    machine = make_machine(hostname="bare1.colo.example.org")
    client.force_login(member)
    assert f'href="/machines/{machine.hostname}/"' in section(report(client), "machine-runbook")
    client.force_login(admin)
    assert f'href="/admin/hosts/machine/{machine.pk}/change/"' in section(report(client), "machine-runbook")


# --- Who knows a machine, who can get into a site -------------------------------------------------


def test_a_machine_whose_admins_are_unverified_or_unreachable_is_listed_until_one_more_answers(member_client):
    machine = documented_machine(hostname="solo1.colo.example.org")
    machine.admins.clear()
    stale = make_person(name="Sam Stale")
    ContactMethod.objects.create(
        person=stale, kind="phone", value="+1 555 0198", verified_at=timezone.now() - timedelta(days=181)
    )
    away = reachable_person(name="Avi Away", unreachable_reason="Sailing until spring")
    machine.admins.add(stale, away, reachable_person(name="Rae Reachable"))
    card = section(report(member_client), "machine-people")
    assert "solo1" in card
    assert "1 reachable admin" in card
    assert "Sam Stale" in card and "no contact confirmed in 180 days" in card
    assert "Avi Away" in card and "Sailing until spring" in card

    stale.contact_methods.get().mark_verified()
    assert "solo1" not in section(report(member_client), "machine-people")


def test_a_machine_with_no_admin_at_all_is_listed(member_client):
    machine = documented_machine(hostname="orphan1.colo.example.org")
    machine.admins.clear()
    assert "no admin at all" in section(report(member_client), "machine-people")


def test_a_site_fewer_than_two_reachable_people_can_get_into_is_listed_until_a_second_can(member_client):
    site = make_site(name="Tiny Colo")
    today = timezone.localdate()
    SiteAccess.objects.create(person=reachable_person(), site=site)
    SiteAccess.objects.create(person=reachable_person(name="Exa Expired"), site=site, valid_until=today - timedelta(1))
    gone = reachable_person(name="Gus Gone", unreachable_reason="Moved abroad")
    SiteAccess.objects.create(person=gone, site=site)
    card = section(report(member_client), "site-access")
    assert "Tiny Colo" in card and "1 reachable person can get in" in card
    assert "Gus Gone" in card and "Moved abroad" in card
    assert "Exa Expired" in card

    gone.unreachable_reason = ""
    gone.save()
    assert "Tiny Colo" not in section(report(member_client), "site-access")


# --- Contracts, runbooks, backups --------------------------------------------------------------


def test_a_contract_ending_soon_lists_the_guests_and_owners_on_it_until_it_is_renewed(member_client):
    machine = documented_machine(hostname="leased1.colo.example.org")
    tenant = make_org(name="Tenant Press")
    make_guest(name="press.example.org", machine=machine, owner=tenant)
    contract = Contract.objects.create(
        provider=make_org(name="Rackspace Co"), covers="Half rack", ends_on=timezone.localdate() + timedelta(days=40)
    )
    contract.machines.add(machine)
    card = section(report(member_client), "contract-ending")
    assert "Rackspace Co: Half rack" in card
    assert "1 machine, 1 guest" in card
    assert "Tenant Press" in card and machine.owner.name in card
    assert "press.<wbr>example.<wbr>org" in card

    contract.ends_on = timezone.localdate() + timedelta(days=400)
    contract.save()
    assert "Rackspace Co" not in section(report(member_client), "contract-ending")


def test_a_runbook_not_followed_in_a_year_is_listed_until_someone_follows_it(member_client, member):
    machine = documented_machine()
    runbook = Runbook.objects.create(title="Swap the PSU", machine=machine, body="1.")
    old = Runbook.objects.create(
        title="Move the rack", machine=machine, body="1.", last_exercised_at=timezone.now() - timedelta(days=400)
    )
    card = section(report(member_client), "runbook-stale")
    assert "Swap the PSU" in card and "never followed" in card
    assert "Move the rack" in card and "last followed 1\xa0year ago" in card

    runbook.mark_exercised(by=member, note="drill")
    old.mark_exercised(by=member, note="drill")
    assert "runbook-stale" not in report(member_client)


def test_a_backup_with_no_good_restore_drill_lately_is_listed_until_a_drill_works(member_client, member):
    machine = documented_machine()
    target = BackupTarget.objects.create(name="db dumps", kind="heartbeat", machine=machine, drill_every_days=30)
    assert "never restored in a drill" in section(report(member_client), "backup-drill")

    started = timezone.now() - timedelta(days=45)
    drill = dict(target=target, what="db", from_backup="last", onto="vm", duration=timedelta(hours=1))
    RestoreDrill(**drill, started_at=started, succeeded=True).record()
    assert "last good restore 1\xa0month ago" in section(report(member_client), "backup-drill")  # older than 30 days

    RestoreDrill(**drill, started_at=timezone.now(), succeeded=False).record()  # a failed drill is no drill
    assert "db dumps" in section(report(member_client), "backup-drill")
    RestoreDrill(**drill, started_at=timezone.now(), succeeded=True).record()
    assert "db dumps" not in section(report(member_client), "backup-drill")


# --- The whole report, the score, the demo, the cost ---------------------------------------------


def test_one_rule_pages_through_all_its_rows(member_client):
    site = make_site()
    for n in range(gaps_preview() + 2):
        make_machine(hostname=f"many{n:02d}.colo.example.org", site=site)
    html = report(member_client)
    assert '/gaps/?rule=machine-runbook">All 12 →' in html
    one = report(member_client, "?rule=machine-runbook")
    assert one.count('class="row-link"') == 12
    assert member_client.get("/gaps/?rule=no-such-rule").status_code == 404


def gaps_preview():
    from front.views.gaps import PREVIEW_ROWS

    return PREVIEW_ROWS


def test_the_dashboard_shows_the_score_and_links_to_the_report(member_client):
    # Six gaps (no address, DNS name, owner, runbook, backup, monitor), no admin, and nobody can get into its site.
    make_machine()
    assert gaps.score() == 8
    html = member_client.get("/").content.decode()
    assert '<a class="big-link" href="/gaps/">Knowledge gaps: 8</a>' in html
    assert '<h1>Knowledge gaps <span class="count">8</span></h1>' in report(member_client)


def test_a_dns_name_that_drifted_is_listed_with_where_it_points_until_the_check_finds_it_fixed(member_client):
    from monitors.models import DNSNameCheck

    dns = DNSName.objects.create(name="wiki1.example.net", machine=documented_machine())
    note = "wiki1.example.net points at 198.51.100.9, recorded 192.0.2.21"
    # What the hourly check (monitors.dnscheck, tested against a real DNS server in tests/dns) keeps.
    check = DNSNameCheck.objects.create(dns_name=dns, verdict=DNSNameCheck.Verdict.DRIFTED, note=note)
    card = section(report(member_client), "dns-drift")
    assert "wiki1.<wbr>example.<wbr>net" in card and note in card
    assert f'href="{dns.machine.get_absolute_url()}"' in card

    check.verdict, check.note = DNSNameCheck.Verdict.OK, ""
    check.save()
    assert section(report(member_client), "dns-drift") == ""


def test_a_well_documented_co_op_has_no_gaps(member_client):
    site = make_site()
    for person in (reachable_person(), reachable_person()):
        SiteAccess.objects.create(person=person, site=site)
    documented_machine(site=site)
    assert gaps.score() == 0
    assert "No gaps:" in report(member_client)


@pytest.fixture
def demo():
    call_command("seed_demo", "--even-without-debug", stdout=StringIO())


def test_the_demo_lists_its_unreachable_volunteer_and_its_undocumented_containers(member_client, demo):
    html = report(member_client)
    people = section(html, "machine-people")
    assert "vz1.<wbr>lakeshore" in people
    assert "Dmitri Valk" in people and "marked unreachable" in people
    for rule in ("guest-runbook", "guest-backup"):
        card = section(report(member_client, f"?rule={rule}"), rule)
        for ctid in range(101, 111):
            assert f"ct{ctid}.<wbr>lakeshore" in card, (rule, ctid)
    monitors = section(report(member_client, "?rule=guest-monitor"), "guest-monitor")
    assert "ct110.<wbr>lakeshore" in monitors and "ct101.<wbr>lakeshore" not in monitors  # ct101 is watched
    assert "Lakeshore" in section(html, "contract-ending")
    # Lakeshore DC2: an escort-only volunteer and the facility's remote hands; nobody of the co-op gets in alone.
    assert "Lakeshore" in section(html, "site-access")
    assert "wiki1 nightly (S3)" not in section(html, "backup-drill")  # restored 40 days ago, within 90


def test_the_report_costs_the_same_queries_for_a_co_op_ten_times_the_size(member_client, settings):
    settings.PAGE_CACHE_SECONDS = 0  # count what rendering costs, not a stored copy

    def grow(n):
        site = make_site()
        for _ in range(n):
            machine = make_machine(site=site)
            make_guest(machine=machine)
            documented_machine(site=site)
            SiteAccess.objects.create(person=make_person(), site=site)
            contract = Contract.objects.create(provider=make_org(), covers="rack", ends_on=timezone.localdate())
            contract.machines.add(machine)

    def queries(path):
        with CaptureQueriesContext(connection) as captured:
            assert member_client.get(path).status_code == 200
        return len(captured)

    grow(3)
    member_client.get("/search/")  # the first request of a session also writes the session
    paths = ("/gaps/", "/gaps/?rule=machine-people", "/gaps/?rule=site-access", "/gaps/?rule=contract-ending", "/")
    small = {path: queries(path) for path in paths}
    grow(30)
    assert {path: queries(path) for path in paths} == small
