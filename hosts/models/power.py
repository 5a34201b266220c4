"""Power controllers (switched PDUs, BMCs) and the outlets that feed machines."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_ipv46_address
from django.db import models
from simple_history.models import HistoricalRecords

from coop.fields import EncryptedSecretField
from coop.models import Site
from coop.validators import validate_hostname

from .inventory import Machine


class PowerController(models.Model):
    """A switched PDU or a BMC that can turn machines off and on."""

    class Driver(models.TextChoices):
        APC_SNMP = "apc_snmp", "APC PDU (SNMP)"
        IPMI = "ipmi", "IPMI BMC"
        REDFISH = "redfish", "Redfish BMC"
        MANUAL = "manual", "Manual (someone on site)"

    class SNMPVersion(models.TextChoices):
        V1 = "1", "v1"
        V2C = "2c", "v2c"
        V3 = "3", "v3"

    name = models.CharField(max_length=100, unique=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="power_controllers")
    driver = models.CharField(max_length=20, choices=Driver.choices)
    host = models.CharField(max_length=253, blank=True, help_text="IP address or hostname the controller answers on.")
    port = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(65535)],
        help_text="Leave empty for the protocol's default (SNMP 161, IPMI 623, HTTPS 443).",
    )
    snmp_version = models.CharField(max_length=2, choices=SNMPVersion.choices, blank=True)
    username = models.CharField(max_length=100, blank=True, help_text="BMC user or SNMPv3 user.")
    secret = EncryptedSecretField(
        help_text="Password, or the SNMP community for v1/v2c. Stored encrypted; never shown again."
    )
    verify_tls = models.BooleanField(
        "verify TLS certificate",
        default=True,
        help_text="Turn off only for a BMC with a self-signed certificate on a management network.",
    )
    notes = models.TextField(blank=True)

    history = HistoricalRecords(excluded_fields=["secret"])

    class Meta:
        ordering = ["site", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.driver != self.Driver.MANUAL and not self.host:
            errors["host"] = "A remote power controller needs the address it answers on."
        if self.host:
            try:
                validate_ipv46_address(self.host)
            except ValidationError:
                try:
                    validate_hostname(self.host)
                except ValidationError:
                    errors["host"] = f"“{self.host}” is neither an IP address nor a hostname."
        if self.driver == self.Driver.APC_SNMP and not self.snmp_version:
            errors["snmp_version"] = "Choose the SNMP version the PDU speaks."
        if self.driver != self.Driver.APC_SNMP and self.snmp_version:
            errors["snmp_version"] = "Only SNMP PDUs have an SNMP version."
        if errors:
            raise ValidationError(errors)

    @property
    def has_secret(self):
        return bool(self.secret)


class PowerOutlet(models.Model):
    """Outlet N of a PDU (or the single power switch of a BMC) and the machine it feeds."""

    controller = models.ForeignKey(PowerController, on_delete=models.CASCADE, related_name="outlets")
    number = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    machine = models.ForeignKey(Machine, on_delete=models.SET_NULL, null=True, blank=True, related_name="outlets")
    label = models.CharField(max_length=100, blank=True, help_text="What is written on the cable, e.g. PSU A")

    history = HistoricalRecords()

    class Meta:
        ordering = ["controller", "number"]
        constraints = [
            models.UniqueConstraint(fields=["controller", "number"], name="poweroutlet_one_number_per_controller"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="poweroutlet_number_positive"),
        ]

    def __str__(self):
        return f"{self.controller} outlet {self.number}"
