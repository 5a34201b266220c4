"""Power drivers: one class per protocol behind the small interface in base.py.

Use `get_driver(controller)`; every driver raises only the PowerError family,
with messages a volunteer can act on and never a credential in them.
"""

from power.models import PowerController

from .base import AuthError, ConfigError, Driver, PowerError, TransportError
from .ipmi import IPMIDriver
from .manual import ManualDriver
from .redfish import RedfishDriver
from .snmp import APCSNMPDriver


def get_driver(controller: PowerController) -> Driver:
    """The driver for this controller's protocol."""
    drivers = {
        PowerController.Driver.APC_SNMP: APCSNMPDriver,
        PowerController.Driver.IPMI: IPMIDriver,
        PowerController.Driver.REDFISH: RedfishDriver,
        PowerController.Driver.MANUAL: ManualDriver,
    }
    try:
        driver = drivers[controller.driver]
    except KeyError:
        raise ConfigError(f"{controller} has no known driver ({controller.driver!r}).") from None
    if controller.has_secret and not controller.secret_is_readable:
        raise ConfigError(
            f"The stored password of {controller} cannot be decrypted — re-enter it in the admin "
            "(Switchboard's encryption key is not the one it was stored with). Nothing was sent."
        )
    return driver(controller)


__all__ = ["AuthError", "ConfigError", "Driver", "PowerError", "TransportError", "get_driver"]
