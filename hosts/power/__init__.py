"""Power drivers: one class per protocol behind the small interface in base.py.

Use `get_driver(controller)`; every driver raises only the PowerError family,
with messages a volunteer can act on and never a credential in them.
"""

from .base import AuthError, ConfigError, Driver, PowerError, TransportError, get_driver

__all__ = ["AuthError", "ConfigError", "Driver", "PowerError", "TransportError", "get_driver"]
