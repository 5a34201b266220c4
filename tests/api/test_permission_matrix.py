"""Who may do what through the API: every endpoint × every caller (a role by session, or a token of a scope).

Built from the API's router, so a new endpoint is in the matrix without anyone remembering to add it.
A write is sent with an empty body: a caller who may write gets past the gate and is told what is
missing (400), one who may not is refused (401/403) before anything is read from the body.
"""

from datetime import timedelta

import pytest

from api.models import ApiToken
from api.urls import router
from incidents import policy
from power.models import PowerAction
from tests.conftest import log_in_with_second_factor
from tests.scene import build_scene

pytest_plugins = ["tests.cast"]
pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
CALLERS = [
    ANONYMOUS,
    "outsider",
    "member",
    "operator",  # logged in with a password only
    "operator_with_code",  # and a code from their authenticator app
    "admin",
    "admin_with_code",
    "member_read_token",
    "member_write_token",
    "operator_read_token",
    "operator_write_token",
    "operator_power_token",
    "admin_read_token",
    "admin_write_token",
    "report_token",
]
ALLOWED, REFUSED, NOT_LOGGED_IN = "allowed", 403, 401


def reads(caller):
    if caller == ANONYMOUS:
        return NOT_LOGGED_IN
    return REFUSED if caller in ("outsider", "report_token") else ALLOWED


def writes(role, caller, power=False):
    """Who may write where the page needs `role` ("operator" or "admin"); `power`: asking for a power action."""
    if caller == ANONYMOUS:
        return NOT_LOGGED_IN
    operators = {"operator_with_code", "admin_with_code", "operator_write_token", "admin_write_token"}
    operators |= {"operator_power_token"}
    if power:
        return ALLOWED if caller in {"operator_with_code", "admin_with_code", "operator_power_token"} else REFUSED
    if role == "admin":
        return ALLOWED if caller in {"admin_with_code", "admin_write_token"} else REFUSED
    return ALLOWED if caller in operators else REFUSED


def endpoints():
    for prefix, viewset, basename in router.registry:
        role = getattr(viewset, "write_role", "admin")
        power = getattr(viewset, "needs_power", False)
        yield f"{basename}-list-get", prefix, None, "get", reads
        yield f"{basename}-detail-get", prefix, viewset, "get", reads
        if "create" in dir(viewset):
            yield f"{basename}-create", prefix, None, "post", lambda c, r=role, p=power: writes(r, c, p)
        if "partial_update" in dir(viewset):
            yield f"{basename}-update", prefix, viewset, "patch", lambda c, r=role: writes(r, c)
        if "destroy" in dir(viewset):
            yield f"{basename}-delete", prefix, viewset, "delete", lambda c, r=role: writes(r, c)
    yield "schema", "schema", None, "get", reads


def _cases():
    return [
        pytest.param(prefix, viewset, method, expect(caller), caller, id=f"{name}-{caller}")
        for name, prefix, viewset, method, expect in endpoints()
        for caller in CALLERS
    ]


def build_world():
    scene = build_scene()
    policy.open_by_person(title="Disk filling up", by=None, machines=[scene.machine])
    outlet = scene.machine.outlets.select_related("controller").first()
    PowerAction.objects.create(
        outlet=outlet,
        controller=outlet.controller,
        machine=scene.machine,
        operation="cycle",
        reason="test",
        state=PowerAction.State.SUCCEEDED,
    )
    return scene


def detail_path(prefix, viewset):
    model = viewset.queryset.model
    lookup = getattr(viewset, "lookup_field", "pk")
    # The last row: deleting it breaks nothing the other cases need (each case has its own database).
    obj = model.objects.order_by("pk").last()
    assert obj is not None, f"the scene has no {model.__name__}"
    return f"/api/v1/{prefix}/{getattr(obj, lookup)}/"


def authenticate(client, caller, request, scene):
    if caller == ANONYMOUS:
        return {}
    if caller.endswith("_with_code"):
        who = request.getfixturevalue(caller.removesuffix("_with_code"))
        log_in_with_second_factor(client, who)
        return {}
    if caller == "report_token":
        who = request.getfixturevalue("admin")
        _, text = ApiToken.issue(
            user=who, name="agent", scope="report", lifetime=timedelta(days=30), machine=scene.machine
        )
        return {"HTTP_AUTHORIZATION": f"Bearer {text}"}
    if caller.endswith("_token"):
        role, scope, _ = caller.split("_")
        who = request.getfixturevalue(role)
        _, text = ApiToken.issue(user=who, name="script", scope=scope, lifetime=timedelta(hours=1))
        return {"HTTP_AUTHORIZATION": f"Bearer {text}"}
    client.force_login(request.getfixturevalue(caller))
    return {}


@pytest.mark.parametrize(("prefix", "viewset", "method", "expected", "caller"), _cases())
def test_who_may_do_what_through_the_api(prefix, viewset, method, expected, caller, client, request):
    scene = build_world()
    headers = authenticate(client, caller, request, scene)
    path = detail_path(prefix, viewset) if viewset is not None else f"/api/v1/{prefix}/"

    response = getattr(client, method)(
        path, data="{}" if method != "get" else None, content_type="application/json", **headers
    )

    if expected == ALLOWED:
        assert response.status_code not in (401, 403), response.content
        assert response.status_code < 500
    else:
        assert response.status_code == expected, response.content
        assert b'"message"' in response.content or b"message:" in response.content
