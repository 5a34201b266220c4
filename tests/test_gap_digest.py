"""Once a week the co-op's admins get the knowledge-gap counts by email, with the link to fix them."""

import pytest

from front import gaps
from front.tasks import send_gap_digest
from tests.factories import make_machine, make_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def hal(django_user_model):
    return django_user_model.objects.create_superuser("hal", "hal@example.org", "tangerine-lantern-42")


def test_the_admins_get_the_weeks_gap_counts_and_the_link(mailbox, hal, django_user_model):
    django_user_model.objects.create_user("priya", "priya@example.org")  # a member: no digest
    make_machine(hostname="dom0.harbor.example.org", site=make_site(name="Harbor Colo", slug="harbor"))

    assert send_gap_digest() == 1

    (message,) = mailbox.to("hal@example.org")
    assert message["subject"] == f"[Switchboard] Knowledge gaps this week: {gaps.score()}"
    assert "https://switchboard.example.org/gaps/" in message["body"]
    no_runbook = gaps.RULES_BY_KEY["machine-runbook"]
    assert f"    1  {no_runbook.title}" in message["body"]  # dom0 has none
    assert mailbox.to("priya@example.org") == []


def test_a_mail_server_that_is_down_loses_one_weeks_digest_and_raises_nothing(mailbox, hal):
    mailbox.stop()

    assert send_gap_digest() == 0
