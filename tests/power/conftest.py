"""Power tests: real peers on 127.0.0.1 (an in-process APC PDU agent, ipmi_sim, sushy-emulator),
the dom0-down scene wired to them, and operators with a fresh MFA session.

Peers are session-scoped (started once per xdist worker); a missing peer skips on a laptop and
fails in CI (tests.conftest.service_missing).
"""

import shutil
import socket
import subprocess
import sys
import textwrap
import time
from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from core.access import OPERATORS
from demo.pdu_simulator import PDUSimulator
from power.models import PowerController, PowerOutlet

# The shared cast (tests/cast.py); pytest allows pytest_plugins only in the top conftest.
from tests.cast import admin, member, member_client, operator, outsider  # noqa: E402, F401
from tests.conftest import service_missing
from tests.scene import build_scene

COMMUNITY = "harbor-private-7"  # invented; asserted never to leak
IPMI_USER, IPMI_PASSWORD = "switchboard", "ipmi-secret-42"
REDFISH_USER, REDFISH_PASSWORD = "admin", "redfish-secret-42"
PEER_WAIT = 10  # seconds a peer may take to start


@pytest.fixture(autouse=True)
def _fast_power(settings):
    # Real peers, short waits: the simulator reboots in 0.3 s, so poll often and give up soon.
    settings.POWER_POLL_INTERVAL = 0.02
    settings.POWER_VERIFY_SECONDS = 3
    settings.POWER_CYCLE_SEEN_OFF_SECONDS = 1
    settings.POWER_TRANSPORT_RETRIES = 0
    settings.POWER_LOCK_WAIT_SECONDS = 10


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- The PDU ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pdu_agent():
    agent = PDUSimulator(community=COMMUNITY, outlets=8, reboot_seconds=0.3).start()
    yield agent
    agent.stop()


@pytest.fixture
def pdu(pdu_agent):
    """The APC-like PDU agent, all outlets on and no SETs logged."""
    pdu_agent.reset()
    return pdu_agent


@pytest.fixture
def scene(db, pdu):
    """The dom0-down co-op with its PDU pointed at the simulator; dom0 is on outlet 4, neighbours on 3 and 5."""
    scene = build_scene()
    controller = PowerController.objects.get(name="pdu-sf-1")
    controller.host, controller.port, controller.secret = "127.0.0.1", pdu.port, COMMUNITY
    controller.timeout = timedelta(seconds=0.3)
    controller.save()
    neighbours = scene.machine.__class__.objects.exclude(pk=scene.machine.pk)[:2]
    for number, machine in zip((3, 5), neighbours, strict=False):
        PowerOutlet.objects.create(controller=controller, number=number, machine=machine)
    scene.controller = controller
    scene.outlet = scene.machine.outlets.get()
    return scene


def power_form(scene, **extra):
    """What an operator types on dom0's power page to cycle outlet 4."""
    return {
        "outlet": scene.outlet.pk,
        "operation": "cycle",
        "reason": "dom0 frozen, no ping",
        "confirm_hostname": scene.machine.hostname,
        **extra,
    }


def wait_for(condition, what, *, timeout, every=0.01):
    """Poll `condition` until it returns something true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


# --- Operators with a fresh second factor -------------------------------------------------------


def pass_mfa(client, user, *, ago=0):
    """Log `user` in with a TOTP authenticator and a session that passed a code `ago` seconds ago."""
    if not user.authenticator_set.filter(type="totp").exists():
        TOTP.activate(user, generate_totp_secret())
    client.force_login(user)
    session = client.session
    # What allauth's record_authentication() keeps (read back by core.access.mfa_verified_at).
    session["account_authentication_methods_user"] = str(user.pk)
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time() - ago - 1, "email": user.email},
        {"method": "mfa", "at": time.time() - ago, "type": "totp"},
    ]
    session.save()
    return client


@pytest.fixture
def operator_client(client, operator):  # noqa: F811 - the cast fixture
    return pass_mfa(client, operator)


@pytest.fixture
def admin_mfa_client(client, admin):  # noqa: F811 - the cast fixture
    return pass_mfa(client, admin)


@pytest.fixture
def second_operator(django_user_model):
    from tests.cast import make_user

    return make_user(django_user_model, "oona", OPERATORS, first_name="Oona")


# --- IPMI: Debian's ipmi_sim ------------------------------------------------------------------

CHASSIS_SCRIPT = """#!/bin/sh
# ipmi_sim chassis_control: $1 = mc address, then get/set with names and values.
STATE={state}
shift
op=$1; shift
if [ "$op" = get ]; then
    for name in "$@"; do
        case $name in power) echo "power:$(cat $STATE 2>/dev/null || echo 1)";; *) echo "$name:0";; esac
    done
else
    while [ $# -gt 1 ]; do
        case $1 in power) echo $2 > $STATE; echo "$(date +%s.%N) $2" >> $STATE.log;; esac
        shift 2
    done
fi
"""


@pytest.fixture(scope="session")
def ipmi_bmc(tmp_path_factory):
    """ipmi_sim answering IPMI 2.0 LAN on a free UDP port; yields (port, state_file)."""
    binary = shutil.which("ipmi_sim")
    if not binary:
        service_missing("ipmi_sim not installed (apt-get install openipmi ipmitool)")
    folder = tmp_path_factory.mktemp("ipmi")
    port = free_port(socket.SOCK_DGRAM)
    state = folder / "power"
    state.write_text("1\n")
    script = folder / "chassis.sh"
    script.write_text(CHASSIS_SCRIPT.format(state=state))
    script.chmod(0o755)
    (folder / "lan.conf").write_text(
        textwrap.dedent(f"""\
        name "switchboard-test"
        set_working_mc 0x20
          startlan 1
            addr 127.0.0.1 {port}
            priv_limit admin
            allowed_auths_callback none md2 md5 straight
            allowed_auths_user none md2 md5 straight
            allowed_auths_operator none md2 md5 straight
            allowed_auths_admin none md2 md5 straight
            guid a123456789abcdefa123456789abcdef
          endlan
          chassis_control "{script} 0x20"
          user 1 true  ""        ""              user     10       none md2 md5 straight
          user 2 true  "{IPMI_USER}" "{IPMI_PASSWORD}" admin    10       none md2 md5 straight
        """)
    )
    (folder / "sim.emu").write_text(
        "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n"
    )
    log = folder / "ipmi_sim.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "-c", str(folder / "lan.conf"), "-f", str(folder / "sim.emu"), "-s", str(folder), "-n"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + PEER_WAIT
        while True:
            probe = (
                subprocess.run(
                    [
                        "ipmitool",
                        "-I",
                        "lanplus",
                        "-C",
                        "3",
                        "-H",
                        "127.0.0.1",
                        "-p",
                        str(port),
                        "-U",
                        IPMI_USER,
                        "-P",
                        IPMI_PASSWORD,
                        "-N",
                        "1",
                        "-R",
                        "1",
                        "chassis",
                        "power",
                        "status",
                    ],
                    capture_output=True,
                    text=True,
                )
                if shutil.which("ipmitool")
                else None
            )
            if probe is None or "Chassis Power is" in probe.stdout:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                service_missing(f"ipmi_sim did not start: {log.read_text()[-1500:]} {probe.stderr[-500:]}")
            time.sleep(0.2)
        yield port, state
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()


# --- Redfish: sushy-emulator over HTTPS with a self-signed certificate --------------------------


def _self_signed(folder):
    from datetime import UTC, datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bmc.example.org")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture(scope="session")
def redfish_bmc(tmp_path_factory):
    """sushy-emulator (fake driver) on a free HTTPS port; yields the port."""
    import bcrypt

    emulator = shutil.which("sushy-emulator") or str(
        __import__("pathlib").Path(sys.executable).parent / "sushy-emulator"
    )
    if not shutil.os.path.exists(emulator):
        service_missing("sushy-emulator not installed (pip install sushy-tools)")
    folder = tmp_path_factory.mktemp("redfish")
    port = free_port()
    cert, key = _self_signed(folder)
    hashed = bcrypt.hashpw(REDFISH_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2y$")
    (folder / "htpasswd").write_text(f"{REDFISH_USER}:{hashed}\n")
    (folder / "emulator.conf").write_text(
        textwrap.dedent(f"""\
        SUSHY_EMULATOR_LISTEN_IP = "127.0.0.1"
        SUSHY_EMULATOR_LISTEN_PORT = {port}
        SUSHY_EMULATOR_SSL_CERT = "{cert}"
        SUSHY_EMULATOR_SSL_KEY = "{key}"
        SUSHY_EMULATOR_AUTH_FILE = "{folder / "htpasswd"}"
        SUSHY_EMULATOR_STATE_DIR = "{folder / "state"}"
        SUSHY_EMULATOR_FAKE_DRIVER = True
        SUSHY_EMULATOR_FAKE_SYSTEMS = [
            {{"uuid": "27946b59-9e44-4fa7-8e91-f3527a1ef094", "name": "dom0-bmc", "power_state": "On",
              "nics": [{{"mac": "00:5c:52:31:3a:9c", "ip": "192.0.2.100"}}]}}
        ]
        """)
    )
    log = folder / "sushy.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [emulator, "--config", str(folder / "emulator.conf")],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + PEER_WAIT
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    service_missing(f"sushy-emulator did not start: {log.read_text()[-1500:]}")
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
