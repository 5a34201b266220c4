"""What a break-glass bundle holds once opened, and that nothing opens it without the passphrase."""

import re

import pytest
from cryptography.exceptions import InvalidTag

from breakglass.bundle import build
from breakglass.sealing import MIN_ITERATIONS
from hosts.models import Runbook
from tests.scene import NOOR_PHONE

from .conftest import PASSPHRASE, open_bundle, sealed_part


def test_the_opened_bundle_has_phones_access_procedures_and_the_inventory(scene):
    page = open_bundle(build(PASSPHRASE).html.decode())

    assert NOOR_PHONE in page and "Noor Example" in page
    assert "verified " in page  # each channel says when it was last confirmed
    assert "Call the badge desk at" in page and 'href="tel:' in page  # the access procedure, tappable
    assert "Own badge" in page  # who can get in
    assert scene.machine.hostname in page and scene.wiki.name in page
    assert "outlet <strong>4</strong>" in page and "PSU A" in page  # how to power-cycle it by hand
    assert "Power on, then start xend." in page  # a runbook


def test_the_sealed_file_names_the_scheme_and_keeps_the_data_secret(scene):
    html = build(PASSPHRASE).html.decode()
    sealed = sealed_part(html)

    assert sealed["iterations"] >= MIN_ITERATIONS
    assert sealed["scheme"] == "PBKDF2-SHA256/AES-GCM-256"
    assert NOOR_PHONE not in html and "badge desk" not in html and scene.machine.hostname not in html


def test_a_wrong_passphrase_opens_nothing(scene):
    with pytest.raises(InvalidTag):
        open_bundle(build(PASSPHRASE).html.decode(), "copper otter lantern meadow viola")


def test_the_file_asks_for_nothing_from_the_network(scene):
    html = build(PASSPHRASE).html.decode()
    page = open_bundle(html)

    for text in (html, page):
        assert not re.search(r"<(script|img|link|iframe)[^>]+(src|href)=", text, re.I)
        assert "@import" not in text and "url(" not in text


def test_runbooks_are_rendered_markdown_without_scripts(scene):
    Runbook.objects.create(
        title="Rebuild the array", machine=scene.machine, body="1. **Stop** mdadm\n\n<script>alert(1)</script>"
    )

    page = open_bundle(build(PASSPHRASE).html.decode())

    assert "<strong>Stop</strong>" in page
    assert "<script" not in page


def test_without_a_passphrase_there_is_no_bundle(scene):
    with pytest.raises(ValueError, match="BREAK_GLASS_PASSPHRASE"):
        build("  ")
