"""Who to call: a volunteer on a phone calls the first person under "Who can get in" on the
machine, guest or site page. That person must be the one most likely to answer and get in:
not someone whose own record says they are away, not a number nobody confirmed for years, not
someone for whom it is 3 a.m. when someone else is awake."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from coop.models import ContactMethod, SiteAccess

from .factories import make_machine, make_person, make_site

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db

BADGE, KEY = SiteAccess.Kind.BADGE, SiteAccess.Kind.KEY
ESCORT, REMOTE_HANDS = SiteAccess.Kind.ESCORT_ONLY, SiteAccess.Kind.REMOTE_HANDS
# 11:00 in London (still on GMT), 04:00 in Los Angeles (on summer time since the 8th).
LONDON_MORNING = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)


@pytest.fixture
def colo():
    return make_site(name="Harbor Colo", slug="harbor")


def volunteer(site, name, kind=BADGE, verified_days_ago=7, tz="America/Los_Angeles", **fields):
    """A volunteer with access to `site` and a phone number confirmed `verified_days_ago` (None: never)."""
    person = make_person(name=name, timezone=tz, is_volunteer=True, **fields)
    verified_at = None if verified_days_ago is None else timezone.now() - timedelta(days=verified_days_ago)
    ContactMethod.objects.create(person=person, kind="phone", value="+1 555 0123", verified_at=verified_at)
    SiteAccess.objects.create(person=person, site=site, kind=kind)
    return person


def names(site, **when):
    return [access.person.name for access in SiteAccess.objects.roster(site, **when)]


def test_sam_whose_record_says_he_is_away_is_listed_last_and_flagged_even_though_he_has_a_badge(colo):
    volunteer(colo, "Sam Away", BADGE, verified_days_ago=1, unreachable_reason="Sailing until the 20th, no phone.")
    volunteer(colo, "Wren Escort", ESCORT, verified_days_ago=300)
    volunteer(colo, "Kit Key", KEY)

    roster = list(SiteAccess.objects.roster(colo))

    assert [access.person.name for access in roster] == ["Kit Key", "Wren Escort", "Sam Away"]
    sam = roster[-1]
    assert sam.unreachable and sam.unreachable_reason == "Sailing until the 20th, no phone."
    assert not roster[0].unreachable and roster[0].unreachable_reason == ""


def test_sam_back_from_sailing_is_listed_by_his_badge_again(colo):
    yesterday = timezone.localdate() - timedelta(days=1)
    volunteer(colo, "Sam Back", BADGE, unreachable_reason="Sailing, no phone.", unreachable_until=yesterday)
    volunteer(colo, "Wren Escort", ESCORT)

    first = SiteAccess.objects.roster(colo).first()

    assert first.person.name == "Sam Back" and not first.unreachable
    assert not first.person.is_marked_unreachable() and first.person.is_reachable()


def test_a_volunteer_verified_last_week_comes_before_one_verified_three_years_ago(colo):
    volunteer(colo, "Ada Stale", BADGE, verified_days_ago=3 * 365)
    volunteer(colo, "Zoe Fresh", BADGE, verified_days_ago=7)
    volunteer(colo, "Bo Never", KEY, verified_days_ago=None)

    roster = list(SiteAccess.objects.roster(colo))

    assert [access.person.name for access in roster] == ["Zoe Fresh", "Ada Stale", "Bo Never"]
    assert [access.contact_verified for access in roster] == [True, False, False]


def test_a_chat_handle_confirmed_yesterday_does_not_count_as_a_number_that_works(colo):
    chat_only = volunteer(colo, "Ada Chat", BADGE, verified_days_ago=None)
    ContactMethod.objects.create(
        person=chat_only, kind="matrix", value="@ada:example.org", verified_at=timezone.now() - timedelta(days=1)
    )
    volunteer(colo, "Zoe Phone", BADGE, verified_days_ago=30)

    assert names(colo) == ["Zoe Phone", "Ada Chat"]


def test_people_who_let_themselves_in_come_before_remote_hands_and_escort_only_volunteers(colo):
    volunteer(colo, "Ada Escort", ESCORT, verified_days_ago=1)
    volunteer(colo, "Bea Desk", REMOTE_HANDS, verified_days_ago=1)
    volunteer(colo, "Zed Key", KEY, verified_days_ago=3 * 365)

    # A stale number of someone who can get in still beats a fresh one of someone who cannot.
    assert names(colo) == ["Zed Key", "Bea Desk", "Ada Escort"]


def test_at_4am_in_los_angeles_the_volunteer_in_london_is_called_first(colo):
    volunteer(colo, "Ada Night", BADGE, tz="America/Los_Angeles")
    volunteer(colo, "Zoe Day", KEY, tz="Europe/London")

    roster = list(SiteAccess.objects.roster(colo, now=LONDON_MORNING))

    assert [access.person.name for access in roster] == ["Zoe Day", "Ada Night"]
    assert [access.calling_hours for access in roster] == [True, False]
    # Twelve hours later it is night in London and the afternoon in Los Angeles.
    assert names(colo, now=LONDON_MORNING + timedelta(hours=12)) == ["Ada Night", "Zoe Day"]


def test_a_confirmed_number_matters_more_than_the_time_of_day(colo):
    volunteer(colo, "Ada Awake", BADGE, tz="Europe/London", verified_days_ago=3 * 365)
    volunteer(colo, "Zoe Asleep", BADGE, tz="America/Los_Angeles", verified_days_ago=7)

    assert names(colo, now=LONDON_MORNING) == ["Zoe Asleep", "Ada Awake"]


def test_expired_access_is_not_listed(colo):
    volunteer(colo, "Ada Current", BADGE)
    former = volunteer(colo, "Zoe Former", BADGE)
    SiteAccess.objects.filter(person=former).update(valid_until=date(2020, 1, 1))

    assert names(colo) == ["Ada Current"]


def test_people_with_access_to_another_site_are_not_listed(colo):
    volunteer(colo, "Ada Here", BADGE)
    volunteer(make_site(), "Zoe Elsewhere", BADGE)

    assert names(colo) == ["Ada Here"]


def test_a_back_date_without_a_reason_is_refused():
    person = make_person(unreachable_until=date(2030, 1, 1))
    with pytest.raises(ValidationError, match="Say why"):
        person.full_clean()


def test_the_list_is_one_query_and_one_for_the_contact_methods(colo, django_assert_num_queries):
    for n in range(5):
        volunteer(colo, f"Volunteer {n}", BADGE if n % 2 else ESCORT, verified_days_ago=n * 200)
    with django_assert_num_queries(2):
        for access in SiteAccess.objects.roster(colo):
            list(access.person.contact_methods.all())


def test_on_the_machine_page_the_first_person_to_call_is_the_one_who_will_answer(member_client, colo):
    volunteer(colo, "Ada Away", BADGE, unreachable_reason="Has not answered for a year.")
    volunteer(colo, "Zoe Reachable", KEY)
    machine = make_machine(hostname="dom0.harbor.example.org", site=colo)

    html = member_client.get(f"/machines/{machine.hostname}/").content.decode()

    access = html[html.index('id="access"') : html.index('id="admins"')]
    assert access.index("Zoe Reachable") < access.index("Ada Away")


def test_the_page_says_out_loud_that_sam_cannot_be_reached(member_client, colo):
    volunteer(colo, "Sam Away", BADGE, unreachable_reason="Sailing until the 20th, no phone.")
    machine = make_machine(hostname="dom0.harbor.example.org", site=colo)

    html = member_client.get(f"/machines/{machine.hostname}/").content.decode()

    # Everyone else is unreachable too, so Sam is the first to call: flagged on the first screen and in the list.
    assert html.count("Cannot be reached:</strong> Sailing until the 20th, no phone.") == 2


def test_ines_looking_at_the_machine_page_is_not_offered_a_button_to_call_herself(client, colo, django_user_model):
    from core.access import MEMBERS
    from tests.cast import make_user

    ines = volunteer(colo, "Ines First", KEY)
    volunteer(colo, "Tomas Second", ESCORT)
    ines.user = make_user(django_user_model, "ines", MEMBERS)
    ines.save()
    client.force_login(ines.user)
    machine = make_machine(hostname="dom0.harbor.example.org", site=colo)

    html = client.get(f"/machines/{machine.hostname}/").content.decode()

    first_screen = html[html.index('id="act"') : html.index('id="access"')]
    assert "Tomas Second" in first_screen and "Ines First" not in first_screen
