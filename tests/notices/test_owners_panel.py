"""The incident page's owners panel ({% load notices %}{% owners_panel incident %}): every affected
owner and what each was sent; for operators the "Notify affected owners" button, which says why it
cannot be pressed yet until the incident is on the status page with a public update."""

import pytest
from django.template import Context, Template

from .conftest import press

pytest_plugins = ["tests.cast"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sends_run_at_once")]

BUTTON = "Notify affected owners</button>"


def panel(incident, user):
    return Template("{% load notices %}{% owners_panel incident %}").render(
        Context({"incident": incident, "user": user, "csrf_token": "a-csrf-token"})
    )


def test_an_operator_sees_the_button_and_every_affected_owner(published, operator):
    html = panel(published, operator)

    assert f'action="/incidents/{published.pk}/notify-owners/"' in html and BUTTON in html
    assert 'name="csrfmiddlewaretoken" value="a-csrf-token"' in html
    assert "disabled" not in html
    for owner in ("Blog Club", "Mail Collective", "Wiki Project"):
        assert owner in html
    assert "Quiet Co." not in html and html.count("not told yet") == 3


def test_the_panel_shows_what_each_owner_was_sent(
    published, operator, operator_client, mailbox, django_capture_on_commit_callbacks
):
    press(operator_client, published, django_capture_on_commit_callbacks)

    html = panel(published, operator)

    assert "ops@wiki.example.org · public update" in html and "Max Example&#x27;s json · public update" in html
    assert html.count('class="badge green">Sent</span>') == 5 and "not told yet" not in html
    assert "post a new public update to tell them more" in html


def test_a_member_sees_who_was_told_but_no_button(published, member):
    html = panel(published, member)

    assert "Wiki Project" in html and "Notify affected owners" not in html


def test_before_the_incident_is_public_the_button_says_why_it_waits(outage, operator):
    html = panel(outage, operator)

    assert "disabled" in html and "<form" not in html
    assert "Put it on the status page first" in html


def test_without_a_public_update_the_button_says_why_it_waits(outage, operator):
    outage.publish(by=operator, title="Hosting outage")

    html = panel(outage, operator)

    assert "disabled" in html and "Post a public update first" in html
