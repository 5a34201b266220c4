"""Sites with no remote power: the steps and the people to call; someone marks it done."""

from power.models import PowerState

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
