"""A newcomer in the demo (DEBUG on) mistypes a hostname: they get the product's "Nothing here" page, not Django's."""

import pytest

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/machines/xen9.foghorn.example.net/", "/this/does/not/exist/"])
def test_a_mistyped_address_in_the_demo_shows_the_products_404_page(member_client, settings, path):
    settings.DEBUG = True

    response = member_client.get(path)

    page = response.content.decode()
    assert response.status_code == 404
    assert "Nothing here" in page and 'action="/search/"' in page
    assert "URLconf" not in page  # Django's technical page lists the URL patterns
