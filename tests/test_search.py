"""One search box finds anything; an IP address or a domain lands on the guest and who to call."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from front.search import clean_query

from .scene import NOOR_PHONE, WIKI_IPV4, WIKI_IPV6

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


def search(client, q, **headers):
    response = client.get("/search/", {"q": q}, **headers)
    assert response.status_code == 200
    return response.content.decode()


def assert_lands_on_the_wiki(html):
    answer = html[html.index('class="card answer"') :]
    assert 'href="/guests/wiki.example.org/"' in answer
    assert 'href="/machines/dom0.harbor.example.org/"' in answer  # its machine
    assert "Wiki Project" in answer  # its owner
    assert "Noor Example" in answer and 'href="tel:+15550142"' in answer  # who to call


@pytest.mark.parametrize("q", [WIKI_IPV4, f" {WIKI_IPV4} ", WIKI_IPV6, "2001:DB8:0:0::10", f"[{WIKI_IPV6}]"])
def test_searching_the_wikis_ip_address_lands_on_its_guest(member_client, scene, q):
    assert_lands_on_the_wiki(search(member_client, q))


@pytest.mark.parametrize(
    "q", ["wiki.example.org", "www.wiki.example.org", "WWW.Wiki.Example.org.", "https://wiki.example.org/Front_Page"]
)
def test_searching_a_dns_name_or_url_lands_on_the_guest(member_client, scene, q):
    assert_lands_on_the_wiki(search(member_client, q))


def test_part_of_an_address_lists_matching_addresses(member_client, scene):
    html = search(member_client, "192.0.2.")
    assert f"{WIKI_IPV4} → wiki.example.org" in html
    assert 'class="card answer"' not in html  # no single guest named


def test_searching_a_person_by_name_or_number(member_client, scene):
    html = search(member_client, "noor")
    assert f'href="/people/{scene.noor.pk}/"' in html
    assert f'href="/people/{scene.noor.pk}/"' in search(member_client, "555 0142")


def test_searching_a_machine_organisation_site_and_hosted_site(member_client, scene):
    assert 'href="/machines/dom0.harbor.example.org/"' in search(member_client, "dom0")
    assert 'href="/organizations/wiki-project/"' in search(member_client, "wiki project")
    assert 'href="/sites/harbor-colo/"' in search(member_client, "harbor colo")
    assert "Community Wiki" in search(member_client, "community wiki")


def test_the_management_address_finds_the_machine(member_client, scene):
    assert 'href="/machines/dom0.harbor.example.org/"' in search(member_client, "198.51.100.4")


def test_a_dns_name_pointing_at_a_machine_finds_the_machine(member_client, scene):
    from hosts.models import DNSName

    DNSName.objects.create(name="console.harbor.example.org", machine=scene.machine)
    html = search(member_client, "console.harbor.example.org")
    machines = html[html.index('id="h-r-machines"') :]
    assert 'class="row-link" href="/machines/dom0.harbor.example.org/"' in machines


def test_nothing_found_says_so(member_client, scene):
    assert "Nothing matches “no-such-thing”" in search(member_client, "no-such-thing")


def test_htmx_request_gets_only_the_results(member_client, scene):
    html = search(member_client, WIKI_IPV4, HTTP_HX_REQUEST="true")
    assert "<html" not in html and "<form" not in html
    assert_lands_on_the_wiki(html)


def test_without_javascript_the_page_has_a_real_form(member_client, scene):
    html = search(member_client, "")
    assert '<form class="big-search" action="/search/" method="get"' in html
    assert 'hx-get="/search/"' in html


@pytest.mark.parametrize(
    "q",
    [
        "' OR 1=1 --",
        '"; DROP TABLE hosts_machine; --',
        "<script>alert(1)</script>",
        "%_%",
        "\\",
        "\x00nul",
        "🙂 wiki",
        "a" * 10_000,
        "192.0.2.999",
        "::ffff:192.0.2.10",
        "http://[::1",
        "192.0.2.4/24",
        "..",
    ],
)
def test_odd_input_gives_a_clean_page(member_client, scene, q):
    html = search(member_client, q)
    assert "<script>alert(1)</script>" not in html
    assert "Traceback" not in html


def test_a_very_long_query_is_cut_to_something_sensible(member_client, scene):
    html = search(member_client, "b" * 10_000)
    assert "b" * 200 in html and "b" * 201 not in html


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(max_size=300))
def test_any_text_at_all_gives_a_clean_page(member_client, q):
    search(member_client, q)


def test_clean_query_keeps_only_printable_single_spaced_text():
    assert clean_query("  wiki\x00 \t example\n ") == "wiki example"
    assert len(clean_query("x" * 10_000)) == 200


def test_anonymous_visitors_cannot_search(client, scene):
    response = client.get("/search/", {"q": "noor"})
    assert response.status_code == 302
    assert NOOR_PHONE not in response.content.decode()
