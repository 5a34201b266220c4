"""BMCs over IPMI 2.0 LAN (lanplus) with pyghmi: chassis power status, on, off and cycle."""

import hashlib
import threading

from power.models import PowerState

from .base import AuthError, Driver, TransportError

CHASSIS_NETFN, CHASSIS_CONTROL, POWER_CYCLE = 0x00, 0x02, 0x02

# pyghmi shares one session per BMC and user inside a process, and a second Command() for a BMC
# whose session is still open can hang; so each process keeps its logged-in Command and reuses it.
_commands = {}
_commands_lock = threading.Lock()


def _key(controller):
    digest = hashlib.sha256(controller.secret.encode()).hexdigest()
    return (controller.host, controller.port or 623, controller.username, digest)


class IPMIDriver(Driver):
    kind = "BMC"

    def __init__(self, controller):
        super().__init__(controller)
        self._command = None

    def _connect(self):
        from pyghmi.exceptions import IpmiException
        from pyghmi.ipmi.command import Command

        if self._command is not None:
            return self._command
        controller = self.controller
        with _commands_lock:
            cached = _commands.get(_key(controller))
        if cached is not None:
            self._command = cached
            return cached
        result = {}

        # pyghmi logs in from its own I/O thread and can take a while to give up: bound the wait here.
        def login():
            try:
                result["command"] = Command(
                    bmc=controller.host,
                    userid=controller.username,
                    password=controller.secret,
                    port=controller.port or 623,
                )
            except IpmiException as exc:
                result["error"] = str(exc)
            except Exception as exc:  # noqa: BLE001 - pyghmi raises bare exceptions for network failures
                result["error"] = f"{type(exc).__name__}"

        worker = threading.Thread(target=login, daemon=True)
        worker.start()
        worker.join(max(self.timeout * 3, 5))
        if "command" in result:
            self._command = result["command"]
            with _commands_lock:
                _commands[_key(controller)] = self._command
            return self._command
        error = result.get("error")
        if error is None:
            raise TransportError(f"{self.label} did not answer IPMI within {max(self.timeout * 3, 5):g} s.")
        lowered = error.lower()
        if any(word in lowered for word in ("password", "unauthorized", "incorrect", "privilege", "user")):
            raise AuthError(f"{self.label} refused the IPMI user or password.")
        if "timeout" in lowered or "timed out" in lowered or "unreachable" in lowered:
            raise TransportError(f"{self.label} did not answer IPMI ({error}).")
        raise TransportError(f"{self.label} IPMI login failed ({error}).")

    def _call(self, what, *args, **kwargs):
        from pyghmi.exceptions import IpmiException

        command = self._connect()
        try:
            return getattr(command, what)(*args, **kwargs)
        except IpmiException as exc:
            with _commands_lock:
                _commands.pop(_key(self.controller), None)  # log in afresh next time
            self._command = None
            raise TransportError(f"{self.label} IPMI command failed ({exc}).") from None

    def state(self, outlet):
        answer = self._call("get_power")
        return {"on": PowerState.ON, "off": PowerState.OFF}.get(answer.get("powerstate"), PowerState.UNKNOWN)

    def on(self, outlet):
        self._call("set_power", "on", wait=False)
        return f"{self.label} accepted chassis power on."

    def off(self, outlet):
        self._call("set_power", "off", wait=False)
        return f"{self.label} accepted chassis power off."

    def cycle(self, outlet):
        # pyghmi has no "cycle" state; the raw chassis-control command is one atomic cycle on the BMC.
        answer = self._call("raw_command", netfn=CHASSIS_NETFN, command=CHASSIS_CONTROL, data=(POWER_CYCLE,))
        if answer.get("error"):
            raise TransportError(f"{self.label} refused chassis power cycle ({answer['error']}).")
        return f"{self.label} accepted chassis power cycle."
