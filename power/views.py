"""Power actions from the machine page: confirm, request, follow progress, mark manual ones done,
and reveal a BMC password in an outage. Operators with a fresh MFA code only; members may watch."""

from django.contrib import messages
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coop.models import Organization
from core.access import held_form_data, is_operator, member_required, operator_required
from hosts.shortcuts import get_machine_or_404

from .drivers.manual import instructions
from .forms import CancelForm, PowerRequestForm, RevealForm
from .models import PowerAction, PowerActionRefused, PowerController, PowerOutlet, PowerStep, cooldown_notice
from .tasks import queue_power_action

# A power action or a password reveal needs a code from the authenticator app this recent (seconds).
MFA_FRESH = 600
RECENT_ACTIONS = 5


def _who_goes_down(machine):
    """Every guest on the machine and every owner (of the machine, a guest or a site on it)."""
    guests = machine.guests.select_related("owner").order_by("name")
    owners = Organization.objects.filter(
        Q(machines=machine) | Q(guests__machine=machine) | Q(services__guest__machine=machine)
    ).distinct()
    return guests, owners


def _with_steps():
    """The steps of whole-machine actions, fetched in one query for a list of actions."""
    return Prefetch("steps", queryset=PowerStep.objects.select_related("outlet__controller").order_by("position"))


def _recent_actions(machine):
    return (
        PowerAction.objects.filter(machine=machine)
        .select_related("outlet__controller", "requested_by", "performed_by")
        .prefetch_related(_with_steps())
        .order_by("-requested_at", "-pk")[:RECENT_ACTIONS]
    )


@require_http_methods(["GET", "POST"])
@operator_required(mfa_within=MFA_FRESH)
def power_request(request: HttpRequest, hostname):
    machine = get_machine_or_404(hostname)
    if not machine.outlets.exists():
        raise Http404("This machine has no switched outlet or BMC.")
    if request.method == "POST":
        form = PowerRequestForm(request.POST, machine=machine)
    else:
        # What was typed before a second-factor detour comes back, so the detour costs a tap, not the typing.
        form = PowerRequestForm(initial=held_form_data(request), machine=machine)
    if request.method == "POST" and form.is_valid():
        override = form.cleaned_data["cooldown_override"].strip()
        asked = {
            "operation": form.cleaned_data["operation"],
            "reason": form.cleaned_data["reason"],
            "by": request.user,
            "cooldown_override": override if request.user.is_superuser else "",
        }
        outlet = form.cleaned_data["outlet"]
        try:
            if outlet is None:
                action, created = PowerAction.request_all_outlets(machine=machine, **asked)
            else:
                action, created = PowerAction.request(outlet=outlet, **asked)
        except PowerActionRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            if created:
                queue_power_action(action)
            else:
                messages.info(request, "The same action was already under way: you are following it now.")
            return redirect("power_action", hostname=machine.hostname, pk=action.pk)
    guests, owners = _who_goes_down(machine)
    # Said before anything is typed: an outlet switched minutes ago would refuse the request.
    cooling = [notice for outlet in form.outlets.values() if (notice := cooldown_notice(outlet))]
    context = {"machine": machine, "form": form, "guests": guests, "owners": owners, "cooling": cooling}
    return render(request, "power/request.html", context, status=400 if form.errors else 200)


@require_GET
@member_required
def power_action(request: HttpRequest, hostname, pk):
    machine = get_machine_or_404(hostname)
    action = get_object_or_404(
        PowerAction.objects.select_related(
            "outlet__controller__site", "requested_by", "performed_by", "incident"
        ).prefetch_related(_with_steps()),
        pk=pk,
        machine=machine,
    )
    steps = instructions(action) if action.is_manual else []
    context = {"machine": machine, "action": action, "steps": steps, "user_is_operator": is_operator(request.user)}
    if request.htmx and not request.htmx.boosted:
        # The last poll, once the action has ended, also empties the page's controls outside the fragment
        # (the cancel form) with an out-of-band swap: the page then matches what can still be done.
        page = reverse("power_action", args=[machine.hostname, action.pk])
        context["swap_out_controls"] = action.is_finished and request.htmx.current_url_abs_path == page
        return render(request, "power/_action.html", context)
    return render(request, "power/action.html", context)


@require_POST
@operator_required(mfa_within=MFA_FRESH)
def power_action_done(request: HttpRequest, hostname, pk):
    """A person on site says they switched it (manual controllers only)."""
    machine = get_machine_or_404(hostname)
    action = get_object_or_404(PowerAction, pk=pk, machine=machine)
    if not action.is_manual:
        raise Http404("Only an action a person does on site is marked done by hand.")
    if not action.mark_done_on_site(by=request.user):
        messages.info(request, "This action was already finished.")
    return redirect("power_action", hostname=machine.hostname, pk=action.pk)


@require_POST
@operator_required(mfa_within=MFA_FRESH)
def power_action_cancel(request: HttpRequest, hostname, pk):
    """An operator stops an action that will not end by itself (nobody on site, a stuck worker)."""
    machine = get_machine_or_404(hostname)
    action = get_object_or_404(PowerAction, pk=pk, machine=machine)
    form = CancelForm(request.POST)
    if not action.is_active:
        messages.info(request, "This action was already finished.")
    elif not form.is_valid():
        messages.error(request, "Say why you cancel it: the reason goes on the machine's timeline.")
    elif not action.cancel(by=request.user, reason=form.cleaned_data["reason"]):
        messages.info(request, "This action was already finished.")
    return redirect("power_action", hostname=machine.hostname, pk=action.pk)


@require_http_methods(["GET", "POST"])
@operator_required(mfa_within=MFA_FRESH)
def power_secret_reveal(request: HttpRequest, hostname, controller_pk):
    machine = get_machine_or_404(hostname)
    # Exists, not a join: a machine fed by two outlets of one PDU would give the controller twice.
    feeds_machine = Exists(PowerOutlet.objects.filter(controller=OuterRef("pk"), machine=machine))
    controller = get_object_or_404(PowerController.objects.filter(feeds_machine), pk=controller_pk)
    form = RevealForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid() and controller.secret_is_readable:
        secret = controller.reveal_secret(by=request.user, reason=form.cleaned_data["reason"], machine=machine)
    response = render(
        request,
        "power/reveal.html",
        {"machine": machine, "controller": controller, "form": form, "secret": secret},
    )
    response["Cache-Control"] = "no-store"
    return response


def power_panel_context(machine):
    """What the machine page's power panel shows: the last few actions."""
    return {"power_actions": list(_recent_actions(machine))}
