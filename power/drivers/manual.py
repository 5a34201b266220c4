"""Sites with no remote power: the steps and the people to call; someone marks it done."""

from django.conf import settings

from power.models import PowerController, PowerState

from .base import Driver


class ManualDriver(Driver):
    """Sends nothing; the action waits until a person on site says they did it."""

    kind = "manual"
    needs_a_person = True

    @property
    def label(self):
        return f"manual controller {self.controller.name}"

    def state(self, outlet):
        return PowerState.UNKNOWN

    def steps(self, action):
        """The step list for the person on site."""
        verb = {"cycle": "Switch it off, wait 10 seconds, switch it on", "on": "Switch it on", "off": "Switch it off"}
        site = self.controller.site
        lines = [f"Go to {site.name}" + (f" ({site.address.splitlines()[0]})" if site.address else "") + "."]
        if site.access_procedure:
            lines.append(f"Getting in: {site.access_procedure}")
        where = f"{action.machine}" if action.machine else "the machine"
        lines.append(f"Find {where} on {self.controller.name} outlet {action.outlet.number}.")
        lines.append(f"{verb[action.operation]}.")
        lines.append("Then press “Done” on the machine page, so the timeline records who did it.")
        return lines


def instructions(action):
    """The step list for the person on site, for any action a person must do (one outlet or all of a machine)."""
    if not action.is_whole_machine:
        return ManualDriver(action.controller).steps(action)
    steps = list(action.steps.select_related("outlet__controller__site").order_by("position"))
    controllers = [step.outlet.controller for step in steps]
    site = next(c for c in controllers if c.driver == PowerController.Driver.MANUAL).site
    lines = [f"Go to {site.name}" + (f" ({site.address.splitlines()[0]})" if site.address else "") + "."]
    if site.access_procedure:
        lines.append(f"Getting in: {site.access_procedure}")
    outlets = list(dict.fromkeys(step.outlet_name for step in steps))
    lines.append(f"Find {action.machine or 'the machine'}: it is fed by {' and '.join(outlets)}.")
    offs = [step.outlet_name for step in steps if step.operation == "off"]
    ons = [step.outlet_name for step in steps if step.operation == "on" and not step.undo_only]
    if offs:
        lines.append(f"Switch off {', then '.join(offs)}.")
    if offs and ons:
        lines.append(f"Wait {settings.POWER_ALL_OFF_SECONDS} seconds with all of them off.")
    if ons:
        lines.append(f"Switch on {', then '.join(ons)}.")
    lines.append("Then press “Done” on the machine page, so the timeline records who did it.")
    return lines
