"""APC switched PDUs over SNMP v1/v2c/v3 (PowerNet-MIB sPDUOutletCtl), with pysnmp 7's asyncio API.

pysnmp wants an event loop; Celery workers and runserver are synchronous. Each process keeps
one loop in a daemon thread and one SnmpEngine on it, so only the first call pays for
the engine set-up (~300 ms) and the rest take a few milliseconds.
"""

import asyncio
import ipaddress
import os
import threading

from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    Integer32,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    Udp6TransportTarget,
    UdpTransportTarget,
    UsmUserData,
    get_cmd,
    set_cmd,
    usmAesCfb128Protocol,
    usmHMACSHAAuthProtocol,
)

from power.models import PowerState

from .base import AuthError, ConfigError, Driver, TransportError

OUTLET_CTL = "1.3.6.1.4.1.318.1.1.4.4.2.1.3"
ON, OFF, REBOOT = 1, 2, 3
READ_TRIES = 3

_loop_lock = threading.Lock()
_loop = None
_loop_pid = None
_engine = None


def _run(coro, timeout):
    """Run a coroutine on this process's SNMP loop and wait for it (bounded)."""
    global _loop, _loop_pid, _engine
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid():  # a forked child cannot use its parent's thread
            _loop = asyncio.new_event_loop()
            _loop_pid = os.getpid()
            threading.Thread(target=_loop.run_forever, name="snmp-loop", daemon=True).start()
            _engine = asyncio.run_coroutine_threadsafe(_make_engine(), _loop).result(10)
    return asyncio.run_coroutine_threadsafe(coro(_engine), _loop).result(timeout)


async def _make_engine():
    return SnmpEngine()


def transport_for(host):
    """The pysnmp transport for this address: UdpTransportTarget speaks IPv4 (and names) only."""
    try:
        is_v6 = ipaddress.ip_address(host).version == 6
    except ValueError:
        is_v6 = False
    return Udp6TransportTarget if is_v6 else UdpTransportTarget


class _BadAddress(Exception):
    """pysnmp could not use the controller's address (unresolvable name, wrong family)."""


class APCSNMPDriver(Driver):
    kind = "PDU"

    def _auth(self):
        controller = self.controller
        if controller.snmp_version == "3":
            # One secret for authentication and privacy: the field holds a single password.
            return UsmUserData(
                controller.username,
                authKey=controller.secret,
                privKey=controller.secret,
                authProtocol=usmHMACSHAAuthProtocol,
                privProtocol=usmAesCfb128Protocol,
            )
        if controller.snmp_version in ("1", "2c"):
            return CommunityData(controller.secret, mpModel=0 if controller.snmp_version == "1" else 1)
        raise ConfigError(f"{self.label} has no SNMP version set.")

    def _request(self, command, oid, value, tries):
        auth = self._auth()
        host, port, timeout = self.controller.host, self.controller.port or 161, self.timeout
        var = (
            ObjectType(ObjectIdentity(oid), Integer32(value)) if value is not None else ObjectType(ObjectIdentity(oid))
        )

        async def call(engine):
            try:
                target = await transport_for(host).create((host, port), timeout=timeout, retries=tries - 1)
            except PySnmpError:
                raise _BadAddress from None
            return await command(engine, auth, target, ContextData(), var, lookupMib=False)

        try:
            indication, status, _index, var_binds = _run(call, timeout * tries + 5)
        except _BadAddress:
            raise ConfigError(
                f"{self.label}: the address “{host}” cannot be resolved or used for SNMP. "
                "Check the controller's host name or IP address."
            ) from None
        except PySnmpError:
            # The message may quote the request (and with it the community): say only what kind of failure.
            raise TransportError(f"{self.label} SNMP request failed inside pysnmp; nothing usable came back.") from None
        except OSError as exc:
            raise TransportError(f"{self.label} cannot be reached over SNMP: {exc.strerror or exc}.") from None
        if indication:
            text = str(indication)
            if "timed out" in text.lower() or "timeout" in text.lower():
                tried = f"{tries} tries" if tries > 1 else "1 try: a switch command is never sent twice"
                raise TransportError(
                    f"{self.label} did not answer SNMP within {timeout:g} s, {tried}. "
                    "Check that it is reachable and that its community (or SNMPv3 user) is right."
                )
            if any(word in text.lower() for word in ("digest", "unknown user", "username", "decrypt", "auth")):
                raise AuthError(f"{self.label} refused the SNMPv3 credentials ({text}).")
            raise TransportError(f"{self.label} SNMP error: {text}.")
        if status:
            name = status.prettyPrint()
            if name in ("noAccess", "authorizationError", "notWritable", "readOnly"):
                raise AuthError(f"{self.label} refused the command ({name}): the community or user may not write.")
            if name in ("noSuchName", "wrongValue", "inconsistentName", "noCreation", "badValue"):
                raise ConfigError(f"{self.label} has no outlet {oid.rsplit('.', 1)[-1]} that can be switched ({name}).")
            raise TransportError(f"{self.label} answered with SNMP error {name}.")
        return var_binds

    def state(self, outlet):
        var_binds = self._request(get_cmd, f"{OUTLET_CTL}.{outlet}", None, READ_TRIES)
        value = var_binds[0][1]
        try:
            number = int(value)
        except (TypeError, ValueError):
            # noSuchInstance / noSuchObject come back as values in v2c.
            raise ConfigError(f"{self.label} has no outlet {outlet}.") from None
        return {ON: PowerState.ON, OFF: PowerState.OFF}.get(number, PowerState.UNKNOWN)

    def _set(self, outlet, value, tries):
        self._request(set_cmd, f"{OUTLET_CTL}.{outlet}", value, tries)

    def on(self, outlet):
        # Switching on twice is harmless, so a lost answer may be retried.
        self._set(outlet, ON, READ_TRIES)
        return f"{self.label} accepted immediateOn for outlet {outlet}."

    def off(self, outlet):
        self._set(outlet, OFF, READ_TRIES)
        return f"{self.label} accepted immediateOff for outlet {outlet}."

    def cycle(self, outlet):
        # A reboot sent twice reboots twice: one try only, and a lost answer is read back, not resent.
        self._set(outlet, REBOOT, 1)
        return f"{self.label} accepted immediateReboot for outlet {outlet}."
