"""The knowledge-gap report (/gaps/, issue 14): what the co-op does not know about itself yet.

Each Rule names one gap (a machine with no runbook, a site only one reachable person can get into,
a backup nobody has restored lately) as a condition over one model's rows, written with EXISTS and
counting subqueries so that the database does the work for the whole co-op at once:

- the counts of every rule are one aggregate query per model (seven in all), whatever the size of
  the co-op (`counts`);
- a rule's rows are one query for the rows shown, plus a fixed few for what those rows list
  (the admins of the machines shown, the people with access to the sites shown, the guests and
  owners on the contracts shown) (`rows`).

It reads coop, hosts, backups and monitors (the DNS drift verdicts), so it lives here with the
other cross-app pages. What is judged and with which limits (RUNBOOK_EXERCISED_WITHIN, CONTRACT_WARNING_DAYS,
CONTACT_VERIFICATION_MAX_AGE_DAYS, the target's drill_every_days) is in each rule's condition.
The score on the dashboard is the number of rows of the report (`score`).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    Window,
)
from django.db.models.functions import RowNumber
from django.db.models.lookups import LessThan
from django.urls import reverse
from django.utils import timezone

from backups.models import BackupTarget
from coop.models import ENDED_CONTRACTS_SHOWN_DAYS, ContactMethod, Contract, Site, SiteAccess, marked_unreachable
from core.db import count_of
from hosts.models import DNSName, Guest, Lifecycle, Machine, Runbook
from monitors import dnscheck

# A runbook nobody followed for this long may no longer describe the machine.
RUNBOOK_EXERCISED_WITHIN = timedelta(days=365)
# Fewer than this many reachable people who know a machine, or can get into a site, is a gap.
ENOUGH_PEOPLE = 2
# Guests listed under a contract ending soon (the count says how many in all).
GUESTS_PER_CONTRACT = 5


@dataclass
class Rule:
    """One kind of gap: which rows of `model` have it, in what order, and where each is fixed."""

    key: str  # in the address: /gaps/?rule=machine-runbook
    title: str
    why: str  # one line under the title: what goes wrong at 3 a.m. without it
    model: type
    condition: object  # function(today, now) -> a Q over `model`'s rows (on top of `scope`)
    order_by: tuple
    admin_url: str  # the admin's change page, for staff
    page_url: object  # function(obj) -> the object's own page, for everyone else
    related: tuple = ()  # select_related for the rows shown
    scope: Q = field(default_factory=Q)  # rows the rule looks at at all (not decommissioned ones)


@dataclass
class Row:
    """One gap as the page lists it."""

    obj: object
    url: str
    text: str
    is_host: bool = False  # shown with the `hostname` filter
    note: str = ""
    about: str = ""  # what it belongs to: "for <about>"
    about_is_host: bool = False
    since: datetime | None = None  # shown with the `ago` filter after since_label, or `never`
    since_label: str = ""
    never: str = ""
    people: list = field(default_factory=list)  # (person, a few words about them, is it why they do not count)
    names: list = field(default_factory=list)  # (text, url, is_host): the guests on a contract


@dataclass
class Section:
    rule: Rule
    count: int
    rows: list


# --- The rules ---------------------------------------------------------------------------------


def _contact_cutoff(now):
    return now - timedelta(days=settings.CONTACT_VERIFICATION_MAX_AGE_DAYS)


def _admins_who_answer(today, now):
    """A count, per machine, of its admins with a contact confirmed lately and not marked unreachable."""
    confirmed = ContactMethod.objects.filter(person=OuterRef("person_id"), verified_at__gte=_contact_cutoff(now))
    return count_of(
        Machine.admins.through,
        "machine",
        **{
            "pk__in": Machine.admins.through.objects.filter(Exists(confirmed))
            .exclude(marked_unreachable(today, prefix="person__"))
            .values("pk")
        },
    )


def _people_who_get_in(today):
    """A count, per site, of the people with current access there who are not marked unreachable.

    Escort-only volunteers do not count: they cannot get in without one of the others.
    """
    current = (
        SiteAccess.objects.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .exclude(kind=SiteAccess.Kind.ESCORT_ONLY)
        .exclude(marked_unreachable(today, prefix="person__"))
    )
    return count_of(SiteAccess, "site", pk__in=current.values("pk"))


def _none_of(model, relation, **conditions):
    """A rule condition: no row of `relation` (e.g. "runbooks") points at this machine or guest."""
    related = model._meta.get_field(relation).related_model
    rows = related.objects.filter(**{model._meta.model_name: OuterRef("pk")}, **conditions)
    return lambda today, now: ~Q(Exists(rows))


def _no_owner(today, now):
    return Q(owner__isnull=True)


def _inventory_rules(model, noun, page_url, admin_url):
    """The six "missing" rules for machines or guests."""
    gaps = [
        (
            "address",
            "no IP address",
            "Nobody can tell which address to ping or to point DNS at.",
            _none_of(model, "addresses"),
        ),
        (
            "dns",
            "no DNS name",
            "An outage report names a domain: nothing here leads to it.",
            _none_of(model, "dns_names"),
        ),
        ("owner", "no owner", "Nobody to tell when it is down, or to ask before it is switched off.", _no_owner),
        ("runbook", "no runbook", "Whoever is on call has no steps to follow.", _none_of(model, "runbooks")),
        (
            "backup",
            "no backup target",
            "Nothing checks that it is backed up at all.",
            _none_of(model, "backup_targets"),
        ),
        (
            "monitor",
            "no enabled monitor",
            "Nobody finds out it is down until a user says so.",
            _none_of(model, "monitors", is_enabled=True),
        ),
    ]
    return [
        Rule(
            key=f"{model._meta.model_name}-{key}",
            title=f"{noun} with {missing}",
            why=why,
            model=model,
            condition=condition,
            order_by=("hostname",) if model is Machine else ("name",),
            admin_url=admin_url,
            page_url=page_url,
            scope=~Q(lifecycle=Lifecycle.DECOMMISSIONED),
        )
        for key, missing, why, condition in gaps
    ]


def _bus_factor(today, now):
    return LessThan(_admins_who_answer(today, now), ENOUGH_PEOPLE)


def _site_access(today, now):
    return LessThan(_people_who_get_in(today), ENOUGH_PEOPLE)


def _contract_ending(today, now):
    return Q(
        ends_on__lte=today + timedelta(days=settings.CONTRACT_WARNING_DAYS),
        ends_on__gte=today - timedelta(days=ENDED_CONTRACTS_SHOWN_DAYS),
    )


def _runbook_stale(today, now):
    return Q(last_exercised_at__isnull=True) | Q(last_exercised_at__lt=now - RUNBOOK_EXERCISED_WITHIN)


def _no_good_drill(today, now):
    # BackupTarget.drill_due in SQL. last_exercised_at is the start of the latest drill that worked;
    # "older than drill_every_days" per row is date arithmetic SQLite cannot do, so one term per
    # interval in use (a handful: 90 unless someone changed it) from one small query.
    due = Q(last_exercised_at__isnull=True)
    for days in BackupTarget.objects.order_by().values_list("drill_every_days", flat=True).distinct():
        due |= Q(drill_every_days=days, last_exercised_at__lt=now - timedelta(days=days))
    return due


def _dns_drifted(today, now):
    # The verdicts of the hourly check (monitors.dnscheck), kept per name: drifted or not resolving.
    return dnscheck.flagged()


def _contract_page(contract):
    if contract.site_id:
        return reverse("site_detail", args=[contract.site.slug])
    return reverse("organization_detail", args=[contract.provider.slug])


def _subject_live(prefix=""):
    """Not attached to a decommissioned machine or guest (a closed site's runbook neither)."""
    return ~Q(**{f"{prefix}machine__lifecycle": Lifecycle.DECOMMISSIONED}) & ~Q(
        **{f"{prefix}guest__lifecycle": Lifecycle.DECOMMISSIONED}
    )


RULES = [
    *_inventory_rules(
        Machine, "Machines", lambda m: reverse("machine_detail", args=[m.hostname]), "admin:hosts_machine_change"
    ),
    *_inventory_rules(Guest, "Guests", lambda g: reverse("guest_detail", args=[g.name]), "admin:hosts_guest_change"),
    Rule(
        key="machine-people",
        title="Machines fewer than two reachable people know",
        why=f"Admins with no contact confirmed in {settings.CONTACT_VERIFICATION_MAX_AGE_DAYS} days, "
        "or marked unreachable, do not count: when they are gone, so is how it is built.",
        model=Machine,
        condition=_bus_factor,
        order_by=("answering_admins", "hostname"),
        admin_url="admin:hosts_machine_change",
        page_url=lambda m: reverse("machine_detail", args=[m.hostname]),
        scope=~Q(lifecycle=Lifecycle.DECOMMISSIONED),
    ),
    Rule(
        key="site-access",
        title="Sites fewer than two reachable people can get into",
        why="Current access only, and nobody marked unreachable: one holiday and nobody can press the button.",
        model=Site,
        condition=_site_access,
        order_by=("people_who_get_in", "name"),
        admin_url="admin:coop_site_change",
        page_url=lambda s: reverse("site_detail", args=[s.slug]),
        scope=~Q(lifecycle=Site.Lifecycle.CLOSED),
    ),
    Rule(
        key="contract-ending",
        title=f"Contracts ending within {settings.CONTRACT_WARNING_DAYS} days",
        why="The guests on these machines and their owners need a plan, and the owners a notice.",
        model=Contract,
        condition=_contract_ending,
        order_by=("ends_on", "pk"),
        admin_url="admin:coop_contract_change",
        page_url=_contract_page,
        related=("provider", "site"),
    ),
    Rule(
        key="runbook-stale",
        title="Runbooks nobody followed in a year",
        why="Steps nobody has tried since the machine changed are a guess: follow them once in daylight.",
        model=Runbook,
        condition=_runbook_stale,
        order_by=(F("last_exercised_at").asc(nulls_first=True), "title", "pk"),
        admin_url="admin:hosts_runbook_change",
        page_url=lambda r: reverse("runbook_detail", args=[r.pk]),
        related=("machine", "guest", "site"),
        scope=_subject_live(),
    ),
    Rule(
        key="backup-drill",
        title="Backups with no good restore drill lately",
        why="A backup nobody has restored within its drill interval is a hope, not a backup.",
        model=BackupTarget,
        condition=_no_good_drill,
        order_by=(F("last_exercised_at").asc(nulls_first=True), "name"),
        admin_url="admin:backups_backuptarget_change",
        page_url=lambda t: reverse("backup_drills", args=[t.pk]),
        related=("machine", "guest"),
        scope=_subject_live(),
    ),
    Rule(
        key="dns-drift",
        title="DNS names that drifted",
        why="The hourly DNS check found them pointing at addresses not recorded for their machine or guest, "
        "or not resolving: either DNS or this inventory is wrong.",
        model=DNSName,
        condition=_dns_drifted,
        order_by=("name",),
        admin_url="admin:hosts_dnsname_change",
        page_url=lambda d: (d.machine or d.guest).get_absolute_url(),
        related=("machine", "guest", "dns_check"),
        scope=_subject_live(),
    ),
]
RULES_BY_KEY = {rule.key: rule for rule in RULES}


# --- Counting and listing ----------------------------------------------------------------------


def _now(now):
    now = now or timezone.now()
    return timezone.localdate(now), now


def counts(now=None):
    """{rule key: how many rows it has}: one aggregate query per model."""
    today, now = _now(now)
    found = {}
    for model in dict.fromkeys(rule.model for rule in RULES):
        rules = [rule for rule in RULES if rule.model is model]
        aggregates = {
            rule.key.replace("-", "_"): Count("pk", filter=rule.scope & Q(rule.condition(today, now))) for rule in rules
        }
        totals = model.objects.order_by().aggregate(**aggregates)
        found.update({rule.key: totals[rule.key.replace("-", "_")] for rule in rules})
    return found


def score(now=None):
    """The dashboard's "Knowledge gaps: N": how many rows the report lists, each one thing to fix."""
    return sum(counts(now).values())


def queryset(rule, now=None):
    """The rows of `rule`, in its order, ready to slice or paginate."""
    today, now = _now(now)
    rows = rule.model.objects.filter(rule.scope).filter(rule.condition(today, now))
    if rule.key == "machine-people":
        rows = rows.annotate(answering_admins=_admins_who_answer(today, now))
    elif rule.key == "site-access":
        rows = rows.annotate(people_who_get_in=_people_who_get_in(today))
    elif rule.key == "contract-ending":
        rows = rows.annotate(
            machine_count=count_of(Machine.contracts.through, "contract"),
            guest_count=count_of(Guest, "machine__contracts"),
        )
    return rows.select_related(*rule.related).order_by(*rule.order_by)


def rows(rule, shown, viewer, now=None):
    """The Rows for `shown` (a slice of `queryset(rule)`), with a fixed few queries more, rows or none."""
    today, now = _now(now)
    objects = list(shown)
    # What the rows list is fetched for the same slice, as a subquery: as many queries with no rows as with some.
    shown = shown.values("pk")

    def url(obj):
        if viewer.is_staff:
            return reverse(rule.admin_url, args=[obj.pk])
        return rule.page_url(obj)

    if rule.model in (Machine, Guest) and rule.key != "machine-people":
        return [Row(obj, url(obj), str(obj), is_host=True) for obj in objects]
    if rule.key == "dns-drift":
        return [
            Row(
                obj,
                url(obj),
                obj.name,
                is_host=True,
                note=obj.dns_check.note,
                about=str(obj.machine or obj.guest),
                about_is_host=True,
            )
            for obj in objects
        ]
    if rule.key == "machine-people":
        return _machine_people_rows(objects, shown, url, today, now)
    if rule.key == "site-access":
        return _site_rows(objects, shown, url, today)
    if rule.key == "contract-ending":
        return _contract_rows(objects, shown, url, today)
    if rule.key == "runbook-stale":
        labels = ("last followed", "never followed")
    else:
        labels = ("last good restore", "never restored in a drill")
    return [
        Row(
            obj,
            url(obj),
            obj.title if rule.key == "runbook-stale" else obj.name,
            about=str(obj.subject),
            about_is_host=not isinstance(obj.subject, Site),
            since=obj.last_exercised_at,
            since_label=labels[0],
            never=labels[1],
        )
        for obj in objects
    ]


def _machine_people_rows(machines, shown, url, today, now):
    confirmed = ContactMethod.objects.filter(person=OuterRef("person_id"), verified_at__gte=_contact_cutoff(now))
    links = (
        Machine.admins.through.objects.filter(machine__in=shown)
        .select_related("person")
        .annotate(confirmed=Exists(confirmed))
        .order_by("person__name", "pk")
    )
    people = {}
    for link in links:
        person = link.person
        if person.is_marked_unreachable(today):
            problem = f"marked unreachable: {person.unreachable_reason}"
        elif not link.confirmed:
            problem = f"no contact confirmed in {settings.CONTACT_VERIFICATION_MAX_AGE_DAYS} days"
        else:
            problem = ""
        people.setdefault(link.machine_id, []).append((person, problem or "reachable", bool(problem)))
    result = []
    for machine in machines:
        n = machine.answering_admins
        note = "no admin at all" if machine.pk not in people else f"{n} reachable admin{'' if n == 1 else 's'}"
        result.append(
            Row(machine, url(machine), machine.hostname, is_host=True, note=note, people=people.get(machine.pk, []))
        )
    return result


def _site_rows(sites, shown, url, today):
    grants = SiteAccess.objects.filter(site__in=shown).select_related("person").order_by("person__name", "pk")
    people = {}
    for grant in grants:
        person = grant.person
        if person.is_marked_unreachable(today):
            about, counts_here = f"marked unreachable: {person.unreachable_reason}", False
        elif not grant.is_current(today):
            about, counts_here = f"access ended {grant.valid_until}", False
        else:
            about, counts_here = grant.get_kind_display().lower(), True
        people.setdefault(grant.site_id, []).append((person, about, not counts_here))
    result = []
    for site in sites:
        n = site.people_who_get_in
        note = f"{n} reachable {'person' if n == 1 else 'people'} can get in"
        result.append(Row(site, url(site), site.name, note=note, people=people.get(site.pk, [])))
    return result


def _contract_rows(contracts, ids, url, today):
    guests = (
        Guest.objects.filter(machine__contracts__in=ids)
        .annotate(
            contract_id=F("machine__contracts"),
            n=Window(RowNumber(), partition_by=F("machine__contracts"), order_by=F("name").asc()),
        )
        .filter(n__lte=GUESTS_PER_CONTRACT)
        .values_list("contract_id", "name")
    )
    names = {}
    for contract_id, name in guests:
        names.setdefault(contract_id, []).append((name, reverse("guest_detail", args=[name]), True))
    owners = {}
    machine_owners = Machine.contracts.through.objects.filter(
        contract__in=ids, machine__owner__isnull=False
    ).values_list("contract_id", "machine__owner__name")
    guest_owners = (
        Guest.objects.filter(machine__contracts__in=ids, owner__isnull=False)
        .order_by()
        .values_list("machine__contracts", "owner__name")
    )
    for contract_id, name in {*machine_owners.distinct(), *guest_owners.distinct()}:
        owners.setdefault(contract_id, set()).add(name)
    result = []
    for contract in contracts:
        days = contract.days_left(today)
        when = (
            f"ended {contract.ends_on}"
            if days < 0
            else f"ends {contract.ends_on} ({days} day{'' if days == 1 else 's'})"
        )
        on_it = f"{contract.machine_count} machine{'' if contract.machine_count == 1 else 's'}, "
        on_it += f"{contract.guest_count} guest{'' if contract.guest_count == 1 else 's'}"
        if owners.get(contract.pk):
            on_it += " · owners: " + ", ".join(sorted(owners[contract.pk]))
        result.append(
            Row(
                contract,
                url(contract),
                f"{contract.provider.name}: {contract.covers}",
                note=f"{when} · {on_it}",
                names=names.get(contract.pk, []),
            )
        )
    return result


def sections(viewer, rows_per_rule, now=None):
    """Every rule with its count and its first `rows_per_rule` rows (an empty list when it has none)."""
    now = now or timezone.now()
    found = counts(now)
    return [
        Section(rule, found[rule.key], rows(rule, queryset(rule, now)[:rows_per_rule], viewer, now)) for rule in RULES
    ]
