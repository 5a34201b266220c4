"""Words a volunteer reads at 3 a.m.: "just now", not "0 minutes"; host names that wrap at their
dots; access procedures as the paragraphs and lists their writer meant, phone numbers whole."""

from datetime import UTC, datetime, timedelta

import pytest

from core.templatetags.switchboard import ago, clause, duration, from_to, hostname, local_clock, procedure, tel_links

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def before(**delta):
    return NOW - timedelta(**delta)


@pytest.mark.parametrize(
    ("then", "words"),
    [
        (before(seconds=0), "less than a minute"),
        (before(seconds=59), "less than a minute"),
        (before(minutes=1), "1\xa0minute"),
        (before(minutes=3, seconds=40), "3\xa0minutes"),
        (before(minutes=59), "59\xa0minutes"),
        (before(hours=1), "1\xa0hour"),
        (before(hours=2, minutes=50), "2\xa0hours"),
        (before(days=1), "1\xa0day"),
        (before(days=3, hours=5), "3\xa0days"),
        (before(days=45), "1\xa0month"),
        (before(days=800), "2\xa0years"),
    ],
)
def test_a_duration_is_one_whole_unit_and_never_zero(then, words):
    assert duration(then, NOW) == words


def test_ago_says_just_now_for_the_first_minute():
    assert ago(before(seconds=5), NOW) == "just now"
    assert ago(before(minutes=1), NOW) == "1\xa0minute ago"
    assert ago(before(days=3), NOW) == "3\xa0days ago"


def test_a_time_a_little_in_the_future_is_just_now():
    # A worker's clock a few seconds ahead of the web server's.
    assert ago(NOW + timedelta(seconds=20), NOW) == "just now"
    assert duration(NOW + timedelta(seconds=20), NOW) == "less than a minute"


def test_no_time_gives_no_words():
    assert ago(None) == "" and duration(None) == ""


def test_a_stored_message_loses_its_full_stop_inside_a_line():
    assert clause("Newest backup is 3 days old.") == "Newest backup is 3 days old"
    assert clause("Could not check") == "Could not check"
    assert clause(None) == ""


def test_a_hostname_may_wrap_after_each_dot_only():
    html = hostname("xen1.foghorn.example.net")
    assert html == '<span class="hostname">xen1.<wbr>foghorn.<wbr>example.<wbr>net</span>'


def test_a_hostname_is_escaped_before_the_breaks_go_in():
    assert hostname("<b>x.example</b>") == '<span class="hostname">&lt;b&gt;x.<wbr>example&lt;/b&gt;</span>'


def test_a_procedure_joins_the_lines_of_a_paragraph_and_keeps_the_number_whole():
    html = procedure("Call Sam on\n555-0123 when\nyou arrive")
    assert html == '<p>Call Sam on <a class="tel" href="tel:5550123">555-0123</a> when you arrive</p>'


def test_a_number_split_over_two_lines_is_joined_into_one_link():
    html = procedure("Ring the desk at +1 555\n0100 first.")
    assert '<a class="tel" href="tel:+15550100">+1 555 0100</a>' in html


def test_blank_lines_separate_paragraphs():
    html = procedure("Park at the back.\n\nRing the bell.")
    assert html == "<p>Park at the back.</p>\n<p>Ring the bell.</p>"


def test_lines_starting_with_a_dash_or_a_number_are_lists_even_without_a_blank_line():
    html = procedure("To get in:\n- Ring the bell\n- Show your badge\nThen take the lift.\n1. Rack 4\n2. Unit 12")
    assert "<p>To get in:</p>\n<ul>\n<li>Ring the bell</li>\n<li>Show your badge</li>\n</ul>" in html
    assert "<p>Then take the lift.</p>" in html
    assert "<ol>\n<li>Rack 4</li>\n<li>Unit 12</li>\n</ol>" in html


def test_an_indented_line_continues_its_list_item():
    html = procedure("- Call the desk\n  at +1 555 0100\n- Wait")
    assert '<li>Call the desk at <a class="tel" href="tel:+15550100">+1 555 0100</a></li>' in html


def test_windows_line_endings_are_the_same_text():
    assert procedure("Call Sam on\r\n555-0123") == procedure("Call Sam on\n555-0123")


def test_a_script_in_a_procedure_is_removed():
    text = 'Ring twice.\n\n<script>alert("hi")</script>\n\n<img src=x onerror=alert(1)> <b onclick="x()">Go</b>'
    html = procedure(text)
    assert "<script" not in html and "alert" not in html
    assert "<img" not in html and "onclick" not in html and "onerror" not in html
    assert "<b>Go</b>" in html


def test_a_number_inside_a_link_or_an_attribute_is_left_alone():
    html = procedure("[the desk](tel:+15550100) or [the wiki](https://wiki.example.org/5550100123)")
    assert html.count("<a ") == 2  # no link inside a link, no link inside an href
    assert 'href="https://wiki.example.org/5550100123"' in html


def test_ampersands_are_escaped_once():
    assert procedure("Tom & Jerry: 555 0100 123") == (
        '<p>Tom &amp; Jerry: <a class="tel" href="tel:5550100123">555 0100 123</a></p>'
    )


def test_tel_links_on_plain_text_still_escapes_it():
    html = tel_links("<b>desk</b> +1 555 0100")
    assert html == '&lt;b&gt;desk&lt;/b&gt; <a class="tel" href="tel:+15550100">+1 555 0100</a>'


def test_a_date_is_not_a_phone_number():
    assert "tel:" not in procedure("Badges renew on 2026-12-01.")


def test_a_start_and_an_end_on_one_line_name_their_zone_once():
    from django.utils import timezone

    with timezone.override("America/Los_Angeles"):
        started = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # 04:00 PST
        assert from_to(started) == ["2026-11-20 04:00 PST", ""]
        assert from_to(started, started + timedelta(hours=2)) == ["2026-11-20 04:00", "06:00 PST"]
        assert from_to(started, started + timedelta(days=1)) == ["2026-11-20 04:00", "2026-11-21 04:00 PST"]
        # Across the change to summer time each time carries its own zone.
        spring = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)  # 01:00 PST; clocks go forward at 02:00
        assert from_to(spring, spring + timedelta(hours=3)) == ["2026-03-08 01:00 PST", "2026-03-08 05:00 PDT"]


def test_a_persons_clock_names_their_zone_short(monkeypatch):
    from coop.models import Person

    person = Person(name="Noor", timezone="America/Los_Angeles")
    monkeypatch.setattr(
        Person, "local_time", lambda self: datetime(2026, 11, 20, 11, 12, tzinfo=UTC).astimezone(self.timezone)
    )
    assert local_clock(person) == "03:12 PST, night"


def test_an_incident_title_wraps_after_the_dots_of_its_names_and_stays_escaped():
    from core.templatetags.switchboard import wrap_names

    assert wrap_names("xen1.foghorn.example.net down. <b>") == "xen1.<wbr>foghorn.<wbr>example.<wbr>net down. &lt;b&gt;"
