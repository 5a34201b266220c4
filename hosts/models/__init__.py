"""The inventory app's models, one module per noun; import them from here."""

from .backups import BackupCheck, BackupState, BackupTarget, HeartbeatPing, RestoreDrill
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
from .power import PowerAction, PowerActionRefused, PowerController, PowerOutlet, PowerState

__all__ = [
    "BackupCheck",
    "BackupState",
    "BackupTarget",
    "DNSName",
    "Guest",
    "HeartbeatPing",
    "HostedService",
    "IPAddress",
    "Lifecycle",
    "Machine",
    "Monitor",
    "PowerAction",
    "PowerActionRefused",
    "PowerController",
    "PowerOutlet",
    "PowerState",
    "RestoreDrill",
    "Runbook",
    "SoftwareVersion",
]
