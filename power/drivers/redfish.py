"""BMCs over Redfish (HTTPS): ComputerSystem.Reset with a reset type the BMC advertises, and PowerState.

Outlet N is the Nth member of /redfish/v1/Systems (1 for the usual single-system BMC).
Certificates are checked unless the controller's "verify TLS" switch is off.
"""

import ipaddress
from urllib.parse import urlsplit

import requests
import urllib3

from power.models import PowerState

from .base import AuthError, ConfigError, Driver, TransportError

# Best first: a real cycle, else a hard restart (the same effect for a hung machine).
CYCLE_TYPES = ("PowerCycle", "ForceRestart", "GracefulRestart")
ON_TYPES = ("On", "ForceOn")
OFF_TYPES = ("ForceOff", "GracefulShutdown")


def base_url(host, port=None):
    """https://host[:port], with an IPv6 address in brackets as URLs need it."""
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass
    return f"https://{host}" + (f":{port}" if port and port != 443 else "")


class RedfishDriver(Driver):
    kind = "BMC"

    def __init__(self, controller):
        super().__init__(controller)
        self.session = requests.Session()
        self.session.auth = (controller.username, controller.secret)
        self.session.verify = controller.verify_tls
        self.session.headers["Accept"] = "application/json"
        self.base = base_url(controller.host, controller.port)
        self._systems = {}

    def _url(self, link):
        """The URL of a path or link the BMC gave, on the BMC itself; ConfigError for anything else.

        The BMC's answers are not trusted with where the credentials go: "@other-host/…", "//other-host/…"
        and absolute URLs to another host or port are refused, never followed.
        """
        if isinstance(link, str) and link.startswith("/") and not link.startswith("//"):
            url = self.base + link
        elif isinstance(link, str) and link.lower().startswith("https://"):
            url = link
        else:
            url = None
        if url is not None:
            try:
                here, there = urlsplit(self.base), urlsplit(url)
                same = (there.scheme.lower(), there.hostname, there.port or 443, there.username) == (
                    here.scheme,
                    here.hostname,
                    here.port or 443,
                    None,
                )
            except ValueError:  # a port out of range, a malformed host: not a link to follow
                same = False
            if same and "@" not in there.netloc:
                return url
        shown = str(link)[:80]
        raise ConfigError(
            f"{self.label} answered with a link Switchboard does not follow ({shown!r}): not on the BMC itself."
        )

    def _request(self, method, path, **kwargs):
        url = self._url(path)
        try:
            with urllib3.warnings.catch_warnings():
                # verify_tls=False is an explicit choice on the controller; do not log it on every call.
                urllib3.warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
                # verify passed on each call: a Session-level False loses to REQUESTS_CA_BUNDLE in requests.
                response = self.session.request(
                    method,
                    url,
                    timeout=self.timeout,
                    verify=self.controller.verify_tls,
                    allow_redirects=False,
                    **kwargs,
                )
        except requests.exceptions.SSLError:
            raise ConfigError(
                f"{self.label} presented a certificate that cannot be verified. If it is a self-signed "
                "BMC certificate on a management network, an admin can turn off “verify TLS certificate”."
            ) from None
        except requests.exceptions.Timeout:
            raise TransportError(f"{self.label} did not answer Redfish within {self.timeout:g} s.") from None
        except requests.exceptions.ConnectionError:
            raise TransportError(f"{self.label} refused or dropped the Redfish connection.") from None
        if response.status_code in (401, 403):
            raise AuthError(f"{self.label} refused the Redfish user or password (HTTP {response.status_code}).")
        if response.status_code == 404:
            raise ConfigError(f"{self.label} has no Redfish resource {path}.")
        if response.status_code >= 500 and response.status_code not in (501,):
            raise TransportError(f"{self.label} answered HTTP {response.status_code}.")
        if response.status_code >= 400:
            raise ConfigError(f"{self.label} refused the request (HTTP {response.status_code}).")
        return response

    def _json(self, path):
        """GET a Redfish resource as a dict; ConfigError when the answer is not Redfish JSON."""
        try:
            document = self._request("GET", path).json()
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise ConfigError(f"{self.label} answered {path} with something that is not Redfish JSON.")
        return document

    def _system(self, outlet):
        if outlet not in self._systems:
            members = self._json("/redfish/v1/Systems").get("Members")
            if not isinstance(members, list):
                raise ConfigError(f"{self.label} lists no systems at /redfish/v1/Systems.")
            if not 1 <= outlet <= len(members):
                raise ConfigError(f"{self.label} has {len(members)} system(s); there is no number {outlet}.")
            member = members[outlet - 1]
            path = member.get("@odata.id") if isinstance(member, dict) else None
            if not isinstance(path, str):
                raise ConfigError(f"{self.label} lists system {outlet} without an @odata.id link.")
            self._systems[outlet] = path
        return self._json(self._systems[outlet])

    def state(self, outlet):
        power = self._system(outlet).get("PowerState")
        return {"On": PowerState.ON, "Off": PowerState.OFF}.get(power, PowerState.UNKNOWN)

    def _reset(self, outlet, preferred):
        actions = self._system(outlet).get("Actions")
        action = actions.get("#ComputerSystem.Reset") if isinstance(actions, dict) else None
        if not isinstance(action, dict) or not isinstance(action.get("target"), str):
            raise ConfigError(f"{self.label} does not offer ComputerSystem.Reset.")
        allowed = action.get("ResetType@Redfish.AllowableValues") or list(preferred)
        for reset_type in preferred:
            if reset_type in allowed:
                self._request("POST", action["target"], json={"ResetType": reset_type})
                return f"{self.label} accepted ComputerSystem.Reset {reset_type}."
        raise ConfigError(f"{self.label} offers none of the reset types {', '.join(preferred)}.")

    def on(self, outlet):
        return self._reset(outlet, ON_TYPES)

    def off(self, outlet):
        return self._reset(outlet, OFF_TYPES)

    def cycle(self, outlet):
        return self._reset(outlet, CYCLE_TYPES)

    def close(self):
        self.session.close()
