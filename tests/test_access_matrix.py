"""Who may open which page: every URL × {anonymous, outsider, member, operator, admin}.

The cases are built from the URL resolver itself, so a new URL pattern without an entry
in PAGES becomes a failing case. The admin (admin/) and allauth (accounts/) have their own
tests. Anonymous visitors must never see a phone number or a private note.
"""

from dataclasses import dataclass, field

import pytest
from django.urls import URLResolver, get_resolver, reverse

from backups.models import BackupTarget

from .conftest import log_in_with_second_factor
from .scene import NOOR_PHONE, PRIVATE_NOTE, WIKI_IPV4, WIKI_IPV6, build_scene

pytest_plugins = ["tests.cast"]

ROLES = ["anonymous", "outsider", "member", "operator", "admin", "operator_with_code"]
LOGIN = "login"  # redirected to the login page

PRIVATE = {"anonymous": LOGIN, "outsider": 403, "member": 200, "operator": 200, "admin": 200, "operator_with_code": 200}
PUBLIC = dict.fromkeys(ROLES, 200)
# Power actions, runbook edits and drills: operators only, and only with an authenticator code this
# session (the cast's operator and admin have no app: sent to set one up; operator_with_code has one).
OPERATOR_MFA = {
    "anonymous": LOGIN,
    "outsider": 403,
    "member": 403,
    "operator": 302,
    "admin": 302,
    "operator_with_code": 200,
}
# A successful POST redirects back to the page.
PRIVATE_POST = {**PRIVATE, "member": 302, "operator": 302, "admin": 302, "operator_with_code": 302}
OPERATOR_MFA_POST = {**OPERATOR_MFA, "operator_with_code": 302}
# A token of someone else's (Tess's): a revoke from anyone else finds nothing there (their own: test_tokens_page.py).
_NOT_YOURS = {**dict.fromkeys(ROLES, 404), "anonymous": LOGIN, "outsider": 403}


@dataclass
class Page:
    path: object  # a function of the scene, returning the path to request
    expect: dict
    method: str = "get"
    data: dict = field(default_factory=dict)
    # What an anonymous visitor may see here although it is personal elsewhere (a secret address's reason).
    anonymous_may_see: tuple = ()


PAGES = {
    "dashboard": Page(lambda s: "/", PRIVATE),
    "search": Page(lambda s: f"/search/?q={WIKI_IPV4}", PRIVATE),
    "gap_report": Page(lambda s: "/gaps/", PRIVATE),
    # Personal API tokens (api/token_views.py): every member has their own page; a revoke of another's is 404.
    "api_tokens": Page(lambda s: "/tokens/", PRIVATE),
    "api_token_revoke": Page(lambda s: f"/tokens/{_token(s).pk}/revoke/", _NOT_YOURS, method="post"),
    "status": Page(lambda s: "/status/", PUBLIC),
    # The rest of the public face (front/views/public.py): no login, nothing personal.
    "status_feed": Page(lambda s: "/status/feed.atom", PUBLIC),
    "status_badge": Page(lambda s: "/status/badge.svg", PUBLIC),
    "status_json": Page(lambda s: "/status/status.json", PUBLIC),
    "public_incident": Page(lambda s: _public_incident(s).get_public_url(), PUBLIC),
    "public_incident_feed": Page(lambda s: f"{_public_incident(s).get_public_url()}feed.atom", PUBLIC),
    "site_list": Page(lambda s: "/sites/", PRIVATE),
    "site_detail": Page(lambda s: f"/sites/{s.site.slug}/", PRIVATE),
    "person_list": Page(lambda s: "/people/", PRIVATE),
    "person_detail": Page(lambda s: f"/people/{s.noor.pk}/", PRIVATE),
    "organization_list": Page(lambda s: "/organizations/", PRIVATE),
    "organization_detail": Page(lambda s: f"/organizations/{s.wiki_owner.slug}/", PRIVATE),
    "machine_list": Page(lambda s: "/machines/", PRIVATE),
    "machine_detail": Page(lambda s: f"/machines/{s.machine.hostname}/", PRIVATE),
    "power_request": Page(lambda s: f"/machines/{s.machine.hostname}/power/", OPERATOR_MFA),
    "power_action": Page(lambda s: f"/machines/{s.machine.hostname}/power/{_power_action(s).pk}/", PRIVATE),
    "power_action_done": Page(
        lambda s: f"/machines/{s.machine.hostname}/power/{_power_action(s).pk}/done/",
        # Only an action on a manual controller can be marked done by hand; the scene's PDU is SNMP.
        {**OPERATOR_MFA, "operator_with_code": 404},
        method="post",
    ),
    "power_action_cancel": Page(
        lambda s: f"/machines/{s.machine.hostname}/power/{_power_action(s).pk}/cancel/",
        OPERATOR_MFA_POST,  # the scene's action has ended: "already finished", back to the page
        method="post",
        data={"reason": "nobody on site"},
    ),
    "power_secret_reveal": Page(
        lambda s: f"/machines/{s.machine.hostname}/power/controllers/{s.machine.outlets.get().controller_id}/password/",
        OPERATOR_MFA,
    ),
    "guest_list": Page(lambda s: "/guests/", PRIVATE),
    "guest_detail": Page(lambda s: f"/guests/{s.wiki.name}/", PRIVATE),
    "backup_list": Page(lambda s: "/backups/", PRIVATE),
    "backup_detail": Page(lambda s: f"/backups/{_backup(s).pk}/", PRIVATE),
    "backup_check_now": Page(lambda s: f"/backups/{_backup(s).pk}/check/", PRIVATE_POST, method="post"),
    "backup_drills": Page(lambda s: f"/backups/{_backup(s).pk}/drills/", PRIVATE),
    "backup_drill_new": Page(
        lambda s: f"/backups/{_backup(s).pk}/drills/new/",
        OPERATOR_MFA_POST,
        method="post",
        data={
            "what": "db",
            "from_backup": "last night",
            "onto": "a VM",
            "started_at": "2026-11-21T10:00",
            "duration": "1:00:00",
            "succeeded": "yes",
        },
    ),
    # Backup jobs call these with no login; the rules are in tests/backups/test_heartbeat_pings.py.
    "heartbeat_ping": Page(lambda s: f"/ping/{_heartbeat(s).heartbeat_id}", PUBLIC),
    "heartbeat_ping_start": Page(lambda s: f"/ping/{_heartbeat(s).heartbeat_id}/start", PUBLIC, method="post"),
    "heartbeat_ping_fail": Page(lambda s: f"/ping/{_heartbeat(s).heartbeat_id}/fail", PUBLIC, method="post"),
    "runbook_list": Page(lambda s: "/runbooks/", PRIVATE),
    "runbook_new": Page(lambda s: f"/runbooks/new/?machine={s.machine.hostname}", OPERATOR_MFA),
    "runbook_detail": Page(lambda s: f"/runbooks/{s.runbook.pk}/", PRIVATE),
    "runbook_edit": Page(lambda s: f"/runbooks/{s.runbook.pk}/edit/", OPERATOR_MFA),
    "runbook_exercised": Page(
        lambda s: f"/runbooks/{s.runbook.pk}/exercised/", PRIVATE_POST, method="post", data={"note": "drill"}
    ),
    "runbook_versions": Page(lambda s: f"/runbooks/{s.runbook.pk}/versions/", PRIVATE),
    "runbook_version": Page(
        lambda s: f"/runbooks/{s.runbook.pk}/versions/{s.runbook.history.earliest().history_id}/", PRIVATE
    ),
    "incident_list": Page(lambda s: "/incidents/", PRIVATE),
    "incident_detail": Page(lambda s: f"/incidents/{s.incident.pk}/", PRIVATE),
    "incident_resolve": Page(lambda s: f"/incidents/{s.incident.pk}/resolve/", OPERATOR_MFA_POST, method="post"),
    # Working an incident: members read, operators (with a code this session) write.
    "incident_new": Page(lambda s: f"/incidents/new/?machine={s.machine.hostname}", OPERATOR_MFA),
    "incident_timeline_new": Page(lambda s: f"/incidents/{s.incident.pk}/timeline/new/?after=0", PRIVATE),
    "incident_postmortem_markdown": Page(lambda s: f"/incidents/{s.incident.pk}/postmortem.md", PRIVATE),
    "incident_update": Page(
        lambda s: f"/incidents/{s.incident.pk}/update/", OPERATOR_MFA_POST, method="post", data={"body": "On it."}
    ),
    "incident_status": Page(
        lambda s: f"/incidents/{s.incident.pk}/status/", OPERATOR_MFA_POST, method="post", data={"status": "identified"}
    ),
    "incident_severity": Page(
        lambda s: f"/incidents/{s.incident.pk}/severity/", OPERATOR_MFA_POST, method="post", data={"severity": "minor"}
    ),
    "incident_lead": Page(lambda s: f"/incidents/{s.incident.pk}/lead/", OPERATOR_MFA_POST, method="post"),
    "incident_affected": Page(
        lambda s: f"/incidents/{s.incident.pk}/affected/",
        OPERATOR_MFA_POST,
        method="post",
        data={"names": "wiki.example.org"},
    ),
    "incident_publish": Page(
        lambda s: f"/incidents/{s.incident.pk}/publish/", OPERATOR_MFA_POST, method="post", data={"title": "Wiki down"}
    ),
    "incident_unpublish": Page(lambda s: f"/incidents/{s.incident.pk}/unpublish/", OPERATOR_MFA_POST, method="post"),
    "action_item_add": Page(
        lambda s: f"/incidents/{s.incident.pk}/actions/", OPERATOR_MFA_POST, method="post", data={"title": "Spare PSU"}
    ),
    "action_item_done": Page(
        lambda s: f"/incidents/{s.incident.pk}/actions/{s.incident.action_items.first().pk}/done/",
        OPERATOR_MFA_POST,
        method="post",
    ),
    "incident_postmortem": Page(
        lambda s: f"/incidents/{s.incident.pk}/postmortem/",
        # The scene's incident is still open: a postmortem is refused (400, the page says why).
        {**OPERATOR_MFA_POST, "operator_with_code": 400},
        method="post",
        data={"postmortem": "What happened"},
    ),
    # The one-tap link works without logging in (it is the key); it shows what is down, nothing personal.
    "alert_ack": Page(lambda s: f"/alerts/ack/{_ack_token(s)}/", PUBLIC),
    "alert_acknowledge": Page(lambda s: f"/alerts/{_alert(s).pk}/acknowledge/", OPERATOR_MFA_POST, method="post"),
    "alert_site_access": Page(lambda s: f"/alerts/{_alert(s).pk}/site-access/", OPERATOR_MFA_POST, method="post"),
    # A secret address: whoever has it may read the shifts (calendar apps cannot log in).
    "oncall_calendar": Page(
        # A calendar app cannot log in: whoever has the rota's secret address sees who is on call when, by
        # name only (never a phone number, address or note).
        lambda s: f"/alerts/calendar/{_rota(s).calendar_token}.ics",
        PUBLIC,
        anonymous_may_see=("Noor Example",),
    ),
    "my_oncall_calendar": Page(lambda s: "/alerts/my-calendar/", PRIVATE),
    "incident_notify_owners": Page(
        lambda s: f"/incidents/{s.incident.pk}/notify-owners/",
        OPERATOR_MFA_POST,  # the scene's incident has no public page: told so, back to the incident
        method="post",
    ),
    # The signed links in an owner email work without logging in (they are the key): the organisation and
    # its guests' names, one button, nothing personal.
    "owner_subscribe": Page(lambda s: f"/notices/subscribe/{_owner_token(s, 'subscribe')}/", PUBLIC),
    "owner_unsubscribe": Page(lambda s: f"/notices/unsubscribe/{_owner_token(s, 'unsubscribe')}/", PUBLIC),
    # For a load balancer or an outside monitor, no login (tests/test_health.py). No worker runs in these
    # tests, so no task has finished lately: it says so with a 503, the same for everyone.
    "health": Page(lambda s: "/health/", dict.fromkeys(ROLES, 503)),
    # Off unless METRICS_TOKEN is set (it is not here), whoever asks (tests/test_metrics.py).
    "metrics": Page(lambda s: "/metrics", dict.fromkeys(ROLES, 404)),
    # The link asking "does this still reach you?" works without logging in (it is the key): the value it
    # confirms and one button (tests/test_contact_verification.py).
    "contact_confirm": Page(
        lambda s: f"/contacts/confirm/{_confirm_token(s)}/", PUBLIC, anonymous_may_see=("noor@example.org",)
    ),
    # Installing Switchboard (front.views.offline): the same manifest and service worker for everyone; the
    # worker keeps copies only of what the member it runs for could already open (tests/test_offline_views.py).
    "web_manifest": Page(lambda s: "/manifest.webmanifest", PUBLIC),
    "service_worker": Page(lambda s: "/sw.js", PUBLIC),
    # The invitation link's own rules are in test_invitations.py; an unknown token is a 404 for everyone.
    "invitation": Page(lambda s: "/invitations/no-such-token/", dict.fromkeys(ROLES, 404)),
}


def _backup(scene):
    return BackupTarget.objects.get(guest=scene.wiki, kind="s3", name="wiki-s3")


def _heartbeat(scene):
    return BackupTarget.objects.get(machine=scene.machine, kind="heartbeat", name="dom0-etc")


# The API (api/) has its own matrix of roles × token scopes: tests/api/test_permission_matrix.py.
OWN_TESTS = ("admin/", "accounts/", "api/")


def _alert(scene):
    from alerts.models import Alert

    return Alert.objects.get_or_create(incident=scene.incident)[0]


def _ack_token(scene):
    from alerts.models import Notification
    from alerts.sending import ack_token

    method = scene.noor.contact_methods.first()
    notification = Notification.objects.create(
        alert=_alert(scene), person=scene.noor, contact_method=method, channel="email"
    )
    return ack_token(notification)


def _public_incident(scene):
    """The scene's incident, published under its title (a person's): it gets its public address."""
    scene.incident.publish(by=None)
    return scene.incident


def _owner_token(scene, kind):
    from notices.links import subscribe_token, unsubscribe_token

    make = subscribe_token if kind == "subscribe" else unsubscribe_token
    return make(scene.wiki_owner, scene.wiki_owner.email)


def _confirm_token(scene):
    """The link sent to Noor's never-confirmed email address, asking whether it still reaches her."""
    from coop.verification import confirm_token

    method = scene.noor.contact_methods.get(kind="email")
    assert method.claim_confirmation_request()
    return confirm_token(method)


def _rota(scene):
    from alerts.models import Rota, RotaMember

    rota = Rota.objects.create(name="Core")
    RotaMember.objects.create(rota=rota, person=scene.noor)
    return rota


def _token(scene):
    from datetime import timedelta

    from django.contrib.auth import get_user_model

    from api.models import ApiToken
    from core.access import MEMBERS

    from .cast import make_user

    tess = make_user(get_user_model(), "tess", MEMBERS)
    return ApiToken.issue(user=tess, name="sync", scope="read", lifetime=timedelta(days=1))[0]


def _power_action(scene):
    """A finished power-cycle of the scene's machine (the progress page needs one)."""
    from power.models import PowerAction

    outlet = scene.machine.outlets.select_related("controller").get()
    return PowerAction.objects.create(
        outlet=outlet,
        controller=outlet.controller,
        machine=scene.machine,
        operation="cycle",
        reason="test",
        state=PowerAction.State.SUCCEEDED,
    )


def url_names(patterns=None, prefix=""):
    """The name (or, lacking one, the route) of every URL pattern outside admin/ and accounts/."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(OWN_TESTS):
            continue
        if isinstance(pattern, URLResolver):
            yield from url_names(pattern.url_patterns, route)
        else:
            yield pattern.name or route


def _cases():
    names = sorted(set(url_names()) | set(PAGES))
    return [pytest.param(name, role, id=f"{name}-{role}") for name in names for role in ROLES]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), _cases())
def test_who_may_open_each_page(name, role, client, request):
    assert name in PAGES, f"URL {name!r} has no entry in the access matrix (tests/test_access_matrix.py)"
    assert name in set(url_names()), f"{name!r} is in the access matrix but no longer a URL"
    page = PAGES[name]
    scene = build_scene()
    if role == "operator_with_code":
        log_in_with_second_factor(client, request.getfixturevalue("operator"))
    elif role != "anonymous":
        client.force_login(request.getfixturevalue(role))  # the cast in tests/cast.py

    response = getattr(client, page.method)(page.path(scene), page.data)

    expected = page.expect[role]
    if expected == LOGIN:
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    else:
        assert response.status_code == expected
    if role == "anonymous":
        html = response.content.decode()
        for secret in (NOOR_PHONE, "555 01", PRIVATE_NOTE, WIKI_IPV4, WIKI_IPV6, "Noor Example", "noor@example.org"):
            if secret in page.anonymous_may_see:
                continue
            assert secret not in html, f"{secret!r} shown to an anonymous visitor on {name}"
