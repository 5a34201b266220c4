"""A small SNMP agent that behaves like an APC switched PDU's outlet table.

Used by the demo (`manage.py pdu_simulator --port 16161`), the tests and the benchmark.
It answers GET, GETNEXT and SET on sPDUOutletCtl (1.3.6.1.4.1.318.1.1.4.4.2.1.3.N) for
SNMP v1 and v2c, checks the community (a wrong one gets no answer, like a real PDU),
switches an outlet off for `reboot_seconds` on immediateReboot(3), and keeps a log of
every SET it accepted so tests can assert exactly what arrived.
"""

import asyncio
import logging
import threading
import time
from dataclasses import dataclass

from pyasn1.codec.ber import decoder, encoder
from pyasn1.type.univ import ObjectIdentifier
from pysnmp.proto import api
from pysnmp.proto.rfc1902 import Integer32

from power.drivers.snmp import OUTLET_CTL, REBOOT

log = logging.getLogger(__name__)
BASE = ObjectIdentifier(OUTLET_CTL)
ON, OFF = 1, 2


@dataclass(frozen=True)
class SetRecord:
    outlet: int
    value: int
    at: float  # time.time() when the SET arrived


class PDUSimulator:
    """An APC-like PDU with `outlets` outlets, all on, answering on 127.0.0.1:`port` (0: a free port)."""

    def __init__(self, *, community="private", outlets=8, port=0, host="127.0.0.1", reboot_seconds=1.0):
        self.community = community
        self.host = host
        self.port = port
        self.reboot_seconds = reboot_seconds
        self.outlets = {number: ON for number in range(1, outlets + 1)}
        self.sets: list[SetRecord] = []
        self.silent = False  # True: drop every request, like a PDU that is unplugged
        self._loop = None
        self._transport = None
        self._thread = None
        self._lock = threading.Lock()

    # --- what tests look at -----------------------------------------------------------------
    def state(self, outlet):
        with self._lock:
            return self.outlets[outlet]

    def sets_for(self, outlet):
        with self._lock:
            return [record for record in self.sets if record.outlet == outlet]

    def reset(self):
        """All outlets on, no SETs logged, answering again."""
        with self._lock:
            self.outlets = dict.fromkeys(self.outlets, ON)
            self.sets.clear()
            self.silent = False

    # --- running ------------------------------------------------------------------------------
    async def serve(self):
        """Bind the UDP port on the running loop; returns when bound (self.port is then the real port)."""
        self._loop = asyncio.get_running_loop()
        self._transport, _ = await self._loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=(self.host, self.port)
        )
        self.port = self._transport.get_extra_info("sockname")[1]

    def start(self):
        """Serve from a daemon thread (for tests and the benchmark); returns once the port is bound."""
        ready = threading.Event()

        def run():
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.serve())
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="pdu-simulator", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("PDU simulator did not start within 10 s")
        return self

    def stop(self):
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._transport.close)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    # --- the agent ----------------------------------------------------------------------------
    def _value(self, oid):
        if len(oid) == len(BASE) + 1 and oid[: len(BASE)] == BASE:
            with self._lock:
                return self.outlets.get(oid[-1])
        return None

    def _next_oid(self, oid):
        for number in sorted(self.outlets):
            candidate = BASE + (number,)
            if candidate > oid:
                return candidate
        return None

    def _set(self, oid, value):
        """Apply a SET; returns an SNMP error status name or None."""
        if not (len(oid) == len(BASE) + 1 and oid[: len(BASE)] == BASE):
            return "notWritable"
        number = oid[-1]
        if number not in self.outlets:
            return "noCreation"
        if value not in (ON, OFF, REBOOT):
            return "wrongValue"
        with self._lock:
            self.sets.append(SetRecord(number, value, time.time()))
            self.outlets[number] = ON if value == ON else OFF
        log.info("PDU simulator: outlet %s set to %s", number, {ON: "on", OFF: "off", REBOOT: "reboot"}[value])
        if value == REBOOT:
            self._loop.call_later(self.reboot_seconds, self._back_on, number)
        return None

    def _back_on(self, number):
        with self._lock:
            self.outlets[number] = ON

    def handle(self, whole_msg):
        """Answer one datagram; returns the bytes to send back, or None to stay silent."""
        if self.silent:
            return None
        try:
            version = int(api.decodeMessageVersion(whole_msg))
            module = api.PROTOCOL_MODULES[version]
            request, _ = decoder.decode(whole_msg, asn1Spec=module.Message())
        except Exception:  # noqa: BLE001 - garbage on the port (or SNMPv3, which we do not speak) is ignored
            return None
        if str(module.apiMessage.get_community(request)) != self.community:
            return None  # a real PDU ignores a wrong community; the manager times out
        pdu = module.apiMessage.get_pdu(request)
        response = module.apiMessage.get_response(request)
        response_pdu = module.apiMessage.get_pdu(response)
        var_binds = []
        error = None
        for index, (oid, value) in enumerate(module.apiPDU.get_varbinds(pdu), start=1):
            if pdu.isSameTypeWith(module.GetRequestPDU()):
                current = self._value(oid)
                if current is None:
                    error = error or ("noSuchName", index)
                    var_binds.append((oid, module.Null("")))
                else:
                    var_binds.append((oid, Integer32(current)))
            elif pdu.isSameTypeWith(module.GetNextRequestPDU()):
                following = self._next_oid(oid)
                if following is None:
                    error = error or ("noSuchName", index)
                    var_binds.append((oid, module.Null("")))
                else:
                    var_binds.append((following, Integer32(self._value(following))))
            elif pdu.isSameTypeWith(module.SetRequestPDU()):
                status = self._set(oid, int(value) if value.isValue else None)
                if status:
                    error = error or (status, index)
                var_binds.append((oid, value))
            else:
                return None
        module.apiPDU.set_varbinds(response_pdu, var_binds)
        if error:
            module.apiPDU.set_error_status(response_pdu, error[0])
            module.apiPDU.set_error_index(response_pdu, error[1])
        return encoder.encode(response)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, simulator):
        self.simulator = simulator

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        answer = self.simulator.handle(data)
        if answer is not None:
            self.transport.sendto(answer, addr)
