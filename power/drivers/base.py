"""The interface every power driver implements, and the errors they raise."""

from power.models import PowerController, PowerState


class PowerError(Exception):
    """A power command failed; str() is a message for a volunteer and never contains a secret."""


class TransportError(PowerError):
    """The controller did not answer (or the network failed): worth trying again later."""


class AuthError(PowerError):
    """The controller refused our credentials: retrying cannot help."""


class ConfigError(PowerError):
    """The controller or outlet is set up wrongly (no such outlet, unsupported reset): retrying cannot help."""


class Driver:
    """Switches one controller's outlets; `outlet` is the outlet number (1 for a BMC's single switch)."""

    def __init__(self, controller: PowerController):
        self.controller = controller
        self.timeout = max(controller.timeout.total_seconds(), 0.05)

    @property
    def label(self):
        """How a volunteer recognises the controller in a message: kind and address, never credentials."""
        address = self.controller.host
        if self.controller.port:
            address = f"{address}:{self.controller.port}"
        return f"{self.kind} {address}"

    kind = "controller"
    #: True for the manual driver: nothing is sent, a person on site does it and says so.
    needs_a_person = False

    def state(self, outlet: int) -> PowerState:
        """Read the outlet's power state; UNKNOWN when the answer makes no sense."""
        raise NotImplementedError

    def on(self, outlet: int) -> str:
        """Switch on; returns what the controller answered, in words."""
        raise NotImplementedError

    def off(self, outlet: int) -> str:
        """Switch off; returns what the controller answered, in words."""
        raise NotImplementedError

    def cycle(self, outlet: int) -> str:
        """Switch off and on again as one command; returns what the controller answered."""
        raise NotImplementedError

    def close(self):
        """Release connections; the driver is not used again."""
