"""The demo's alerts, as a newcomer sees them: `make run` sends the demo's email to a local SMTP
sink (`manage.py demo_mail`) that keeps every message in var/demo-mail/, and the "Demo mailbox"
page shows them to members, newest first, with their links clickable. The seeded rota puts the
demo login's person on call and the "Outages" policy alerts them, then Tomas, so stopping xen1
lands an alert with its one-tap acknowledge link in that mailbox."""

import asyncio
import importlib
import re
import threading
from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from celery import current_app
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.core.management import call_command
from django.urls import clear_url_caches
from django.utils import timezone

from alerts.models import Alert, EscalationPolicy, EscalationStep, Rota, check_steps
from demo.mailbox import MailSink, mail_dir, start_server
from demo.management.commands import demo_mail
from demo.seed.oncall import last_monday_handoff
from incidents.models import Incident, TimelineEntry

from . import test_demo_outage as outage

# The seeded demo with its stand-ins answering on free ports, and one round of checks (test_demo_outage.py).
demo = outage.demo
check_all, free_port = outage.check_all, outage.free_port

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db

MAILBOX = "/demo/mailbox/"


def wire_urls(settings, debug):
    """The root URLs as switchboard/urls.py builds them with DEBUG on or off."""
    import switchboard.urls

    settings.DEBUG = debug
    importlib.reload(switchboard.urls)
    clear_url_caches()


@pytest.fixture
def demo_urls(settings):
    """The URLs of `make run` (DEBUG on): the demo mailbox is wired."""
    wire_urls(settings, True)
    yield
    wire_urls(settings, False)


@pytest.fixture
def sink(settings, tmp_path):
    """The demo's SMTP sink on a free port, storing under tmp_path, with Django's mail sent to it as
    `make run` does (EMAIL_URL=smtp://127.0.0.1:<port>). Yields what the command printed."""
    settings.VAR_DIR = tmp_path
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = None  # as env.email_url leaves them
    settings.SITE_URL = "http://127.0.0.1:8000"
    console = StringIO()
    command = demo_mail.Command(stdout=console)
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    server = asyncio.run_coroutine_threadsafe(
        start_server(MailSink(mail_dir(), on_stored=command.summary), "127.0.0.1", port), loop
    ).result(timeout=10)
    yield console
    loop.call_soon_threadsafe(server.close)
    asyncio.run_coroutine_threadsafe(server.wait_closed(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)


@pytest.fixture
def sends_run_at_once():
    """Each notification's task runs in this process as it is queued, as the demo's worker would."""
    before = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = before


def mail(subject, body, to="ines@example.org"):
    return EmailMessage(subject, body, "switchboard@example.org", [to]).send()


def stored():
    return sorted(mail_dir().glob("*.eml"))


def test_an_email_sent_through_djangos_smtp_backend_is_kept_as_a_file_and_summed_up(sink):
    assert mail("Test from the demo", "Hello Ines.\n") == 1

    (path,) = stored()
    assert re.fullmatch(r"\d{8}-\d{6}-\d{3}\.eml", path.name)
    raw = path.read_text()
    assert "X-RcptTo: ines@example.org" in raw and "Subject: Test from the demo" in raw and "Hello Ines." in raw
    assert sink.getvalue() == f"mail to ines@example.org: Test from the demo  ({path.name})\n"


def test_messages_arriving_in_the_same_second_are_all_kept(sink):
    for n in range(3):
        mail(f"Message {n}", "…")

    assert len(stored()) == 3
    assert not list(mail_dir().glob(".incoming-*"))


def test_the_mailbox_lists_messages_newest_first_with_only_web_links_clickable(demo_urls, sink, member_client):
    mail("First", "Old news.\n")
    mail(
        "[Switchboard] DOWN: xen1 is down",
        "I'm on it:\nhttp://127.0.0.1:8000/alerts/ack/abc.def-1/\n\n"
        "Not links: <script>alert(1)</script> javascript:alert(2) example.org mailto:ines@example.org\n"
        "In a sentence: https://switchboard.example.org/incidents/7/.\n",
    )

    page = member_client.get(MAILBOX)

    html = page.content.decode()
    assert page.status_code == 200
    assert html.index("[Switchboard] DOWN: xen1 is down") < html.index("First")
    assert "To ines@example.org" in html
    ack = "http://127.0.0.1:8000/alerts/ack/abc.def-1/"
    assert f'<a href="{ack}">{ack}</a>' in html
    assert '<a href="https://switchboard.example.org/incidents/7/">' in html  # the full stop stays text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert 'href="javascript:' not in html and 'href="mailto:ines' not in html
    assert html.count('<a href="http') == 2
    assert 'hx-trigger="every' not in html  # there is mail: no more polling


def test_an_empty_mailbox_says_how_to_make_an_alert_and_keeps_looking(demo_urls, settings, tmp_path, member_client):
    settings.VAR_DIR = tmp_path  # no var/demo-mail/ at all yet

    page = member_client.get(MAILBOX)

    html = page.content.decode()
    assert page.status_code == 200
    assert "No mail yet" in html and "manage.py demo_hosts --stop xen1" in html
    assert 'hx-get="/demo/mailbox/" hx-trigger="every 5s"' in html
    # htmx's poll gets the list alone, not the whole page.
    part = member_client.get(MAILBOX, headers={"HX-Request": "true"}).content.decode()
    assert 'id="mailbox"' in part and "<html" not in part


def test_the_mailbox_is_for_members_only(demo_urls, sink, client, outsider):
    mail("Private", "Tomas's number is +1 555 0102.\n")

    anonymous = client.get(MAILBOX)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    client.force_login(outsider)
    refused = client.get(MAILBOX)
    assert refused.status_code == 403
    assert "555 0102" not in refused.content.decode()


def test_a_real_installation_has_no_mailbox(settings, member_client):
    wire_urls(settings, False)

    assert member_client.get(MAILBOX).status_code == 404


def seed_demo():
    out = StringIO()
    call_command("seed_demo", "--even-without-debug", stdout=out)
    return out.getvalue()


def test_seed_demo_puts_the_demo_login_on_call_and_makes_the_outage_policy_once():
    seed_demo()
    seed_demo()

    (rota,) = Rota.objects.all()
    demo_person = get_user_model().objects.get(username="demo").person
    assert rota.name == "Core volunteers"
    assert [p.name for p in rota.ordered_people()] == [demo_person.name, "Tomas Reyes", "Wen Liu"]
    assert rota.on_call() == demo_person
    assert rota.starts_on.weekday() == 0 and rota.handoff_time.hour == 9
    assert rota.shift_length == timedelta(days=7)
    (policy,) = EscalationPolicy.objects.all()
    assert (policy.name, policy.is_default, policy.repeat) == ("Outages", True, 1)
    steps = [(s["notify"], s["describe"], s["wait_minutes"]) for s in policy.snapshot()]
    assert steps == [("rota", "the on-call person of Core volunteers", 2), ("person", "Tomas Reyes", 2)]
    check_steps([(s.notify, s.rota, s.person, s.wait_minutes) for s in policy.steps.all()], policy.repeat)
    for person in rota.ordered_people():
        emails = [m for m in person.contact_methods.all() if m.kind == "email"]
        assert emails and all(m.can_alert and m.value.endswith(("@example.org", "@example.net")) for m in emails)


def test_a_second_run_leaves_a_users_changes_to_the_rota_and_policy_alone():
    seed_demo()
    rota = Rota.objects.get()
    rota.members.filter(person__name="Wen Liu").delete()
    EscalationStep.objects.filter(notify="person").update(wait_minutes=15)

    out = seed_demo()

    assert [p.name for p in rota.ordered_people()] == ["Ines Okafor", "Tomas Reyes"]
    assert EscalationStep.objects.get(notify="person").wait_minutes == 15
    assert "0 rows created" in out


def test_a_coop_with_its_own_default_policy_keeps_it():
    EscalationPolicy.objects.create(name="Ours", is_default=True)

    seed_demo()

    assert EscalationPolicy.objects.get(is_default=True).name == "Ours"
    assert EscalationPolicy.objects.filter(name="Outages", is_default=False).exists()


@pytest.mark.parametrize(
    ("local", "monday"),
    [
        ("2026-12-07 09:00", "2026-12-07"),  # Monday at the handoff: this week's shift starts
        ("2026-12-07 08:59", "2026-11-30"),  # Monday just before it: still last week's
        ("2026-12-13 23:00", "2026-12-07"),  # Sunday night
    ],
)
def test_the_rota_starts_on_the_last_monday_handoff(local, monday):
    tz = ZoneInfo("America/Los_Angeles")
    now = datetime.fromisoformat(local).replace(tzinfo=tz).astimezone(UTC)

    assert last_monday_handoff(now, tz).isoformat() == monday


@pytest.mark.usefixtures("sends_run_at_once")
def test_stopping_xen1_lands_an_alert_with_its_acknowledge_link_in_the_mailbox(
    demo, demo_urls, sink, member_client, client, django_capture_on_commit_callbacks
):
    check_all()
    call_command("demo_hosts", "--stop", "xen1", stdout=StringIO())
    demo()
    with django_capture_on_commit_callbacks(execute=True):
        check_all()
        check_all()  # down after two failed checks: the incident opens and the on-call person is emailed

    incident = Incident.objects.exclude(status="resolved").get(cause=Incident.Cause.OUTAGE)
    (path,) = stored()
    assert "mail to ines@example.org: [Switchboard] DOWN: xen1.foghorn.example.net is down" in sink.getvalue()
    html = member_client.get(MAILBOX).content.decode()
    assert "[Switchboard] DOWN: xen1.foghorn.example.net is down" in html
    link = re.search(r'<a href="http://127\.0\.0\.1:8000(/alerts/ack/[^"]+/)">', html).group(1)

    confirm = client.get(link)
    assert "I'm on it: acknowledge" in confirm.content.decode()
    assert Alert.objects.get(incident=incident).status == Alert.Status.ACTIVE
    done = client.post(link)
    assert "Thank you: acknowledged." in done.content.decode()

    kinds = list(incident.timeline.order_by("at", "pk").values_list("kind", flat=True))
    assert kinds.index(TimelineEntry.Kind.ALERT_SENT) < kinds.index(TimelineEntry.Kind.ALERT_ACKNOWLEDGED)
    assert Alert.objects.get(incident=incident).acknowledged_at <= timezone.now()
