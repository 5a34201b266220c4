"""The inventory app's models, one module per noun; import them from here."""

from .backups import BackupState, BackupTarget
from .inventory import (
    DNSName,
    Guest,
    HostedService,
    IPAddress,
    Lifecycle,
    Machine,
    Monitor,
    Runbook,
    SoftwareVersion,
)
from .power import PowerController, PowerOutlet

__all__ = [
    "BackupState",
    "BackupTarget",
    "DNSName",
    "Guest",
    "HostedService",
    "IPAddress",
    "Lifecycle",
    "Machine",
    "Monitor",
    "PowerController",
    "PowerOutlet",
    "Runbook",
    "SoftwareVersion",
]
