"""Ana's phone buzzes at 3 a.m.: she taps the link in the alert, sees what is down and one button, taps it,
and nobody else is woken. A link scanner that opens the link acknowledges nothing; a tampered or
expired link says so plainly and changes nothing."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import signing
from django.test import Client

from alerts.models import Alert, Notification
from alerts.sending import ACK_SALT, ack_token
from incidents import policy
from incidents.models import Incident, TimelineEntry

pytest_plugins = ["tests.cast"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sends_run_at_once")]


@pytest.fixture
def alerted(xen1, outage_policy, mailbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        incident, _ = policy.report(
            Incident.Cause.OUTAGE,
            policy.outage_key(xen1),
            title=f"{xen1} is down",
            note="TCP 127.0.0.1:22 is down: connection refused",
            kind=TimelineEntry.Kind.CHECK_FAILED,
            machines=[xen1],
            at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),  # Tuesday of Ana's week on call
        )
    [mail] = mailbox.wait_for(1)
    link = re.search(r"https://switchboard\.example\.org(/alerts/ack/\S+/)", mail["body"]).group(1)
    return incident, link


def test_opening_the_link_shows_what_is_down_and_one_button_and_acknowledges_nothing(client, alerted):
    incident, link = alerted

    page = client.get(link)

    assert page.status_code == 200 and page["Cache-Control"].startswith("max-age=0")
    html = page.content.decode()
    assert "xen1.harbor.example.org is down" in html and "I'm on it: acknowledge" in html
    assert Alert.objects.get(incident=incident).status == Alert.Status.ACTIVE


def test_tapping_the_button_acknowledges_as_the_person_the_alert_went_to(client, alerted, ana):
    incident, link = alerted
    client.get(link)

    page = client.post(link)

    assert page.status_code == 200
    assert "Thank you: acknowledged." in page.content.decode()
    alert = Alert.objects.get(incident=incident)
    assert alert.status == Alert.Status.ACKNOWLEDGED and alert.acknowledged_by == ana
    entry = incident.timeline.get(kind=TimelineEntry.Kind.ALERT_ACKNOWLEDGED)
    assert entry.body == "Ana Example acknowledged the alert with the link in their email alert: escalation stopped."
    # Tapping again (or Bo tapping his) says who got there first.
    again = client.post(link).content.decode()
    assert "Already acknowledged by <strong>Ana Example</strong>" in again
    assert incident.timeline.filter(kind=TimelineEntry.Kind.ALERT_ACKNOWLEDGED).count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_link_is_refused_and_changes_nothing(client, alerted, method):
    incident, link = alerted
    token = link.rstrip("/").rsplit("/", 1)[-1]
    other = Notification.objects.exclude(pk=signing.loads(token, salt=ACK_SALT)["n"]).first()

    forged = link.replace(token, token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))
    page = getattr(client, method)(forged)
    # A link signed for another purpose (another salt) does not acknowledge either.
    foreign = signing.dumps({"n": other.pk}, compress=True)
    page2 = getattr(client, method)(f"/alerts/ack/{foreign}/")

    for response in (page, page2):
        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
        assert "Nothing was changed." in response.content.decode()
    assert Alert.objects.get(incident=incident).status == Alert.Status.ACTIVE


def test_an_expired_link_says_so_and_changes_nothing(client, alerted, settings, monkeypatch):
    incident, link = alerted
    later = datetime.now(UTC).timestamp() + timedelta(hours=settings.ALERT_ACK_LINK_HOURS, minutes=1).total_seconds()
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)

    page = client.post(link)

    assert page.status_code == 410 and "This link has expired" in page.content.decode()
    assert Alert.objects.get(incident=incident).status == Alert.Status.ACTIVE


def test_the_link_is_only_for_acknowledging(alerted):
    incident, _ = alerted
    notification = Notification.objects.first()
    # The token names a notification and nothing else: no user, no session, no other action.
    assert signing.loads(ack_token(notification), salt=ACK_SALT) == {"n": notification.pk}


def test_operators_acknowledge_from_the_incident_page(operator_client, alerted):
    incident, _ = alerted
    alert = Alert.objects.get(incident=incident)

    page = operator_client.get(incident.get_absolute_url()).content.decode()
    assert "I'm on it: acknowledge" in page and "send someone with site access" in page
    response = operator_client.post(f"/alerts/{alert.pk}/acknowledge/")

    assert response.status_code == 302 and response["Location"] == incident.get_absolute_url()
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACKNOWLEDGED
    assert "Otto acknowledged the alert from the incident page" in incident.timeline.last().body


def test_members_see_the_alert_but_only_operators_get_the_buttons(member_client, alerted):
    incident, _ = alerted
    alert = Alert.objects.get(incident=incident)

    page = member_client.get(incident.get_absolute_url()).content.decode()
    assert 'id="alert-panel"' in page and "I'm on it: acknowledge" not in page
    assert member_client.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 403
    anonymous = Client().post(f"/alerts/{alert.pk}/acknowledge/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert Alert.objects.get(incident=incident).status == Alert.Status.ACTIVE


def test_an_operator_resolves_the_incident_and_the_alert_ends(operator_client, alerted, mailbox):
    incident, _ = alerted

    response = operator_client.post(f"/incidents/{incident.pk}/resolve/")

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    resolved = incident.timeline.filter(kind="status").last()
    assert resolved.body == "Resolved." and resolved.author.first_name == "Otto"  # the name is not public text


def test_the_page_gives_times_in_the_time_zone_of_the_person_alerted(client, alerted, ana):
    ana.timezone = "America/Los_Angeles"
    ana.save()
    incident, link = alerted

    page = client.get(link).content.decode()

    assert "Down since 02:00 PST, Tue 1 Dec" in page  # 10:00 UTC, as their own message said
