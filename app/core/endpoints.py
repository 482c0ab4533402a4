"""Data-centre endpoints as the policy names them: parsed, checked (TLS required except on loopback) and shown.

Pure: no network. `parse_endpoint(url, purpose)` raises `RemoteConfigError` with a German message for anything the
product will not connect to; the result's `display` is what the offline indicator and the audit log show (scheme,
host, port and path – never credentials, query or fragment).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.core.errors import RemoteConfigError

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


@dataclass(frozen=True, slots=True)
class Endpoint:
    purpose: str  # "Sprachmodell" | "Fachbereichswissen" – German, for messages
    scheme: str  # "https" or "http" (loopback only)
    host: str
    port: int
    path: str  # "" or e.g. "/v1", without trailing slash

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"

    @property
    def display(self) -> str:
        """"llm.rz.example.de:443" style: what a person needs to recognise the server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_endpoint(url: str | None, purpose: str) -> Endpoint:
    """Check a policy URL. https everywhere; plain http only to this computer (127.0.0.0/8, ::1, localhost)."""
    text = (url or "").strip()
    if not text:
        raise RemoteConfigError(f"Für „{purpose}“ ist in der Richtlinie keine Adresse eingetragen.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise RemoteConfigError(f"Die Adresse für „{purpose}“ ist ungültig: {text}", str(exc)) from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("https", "http") or not host:
        raise RemoteConfigError(
            f"Die Adresse für „{purpose}“ muss mit https:// beginnen und einen Servernamen enthalten: {text}")
    if parts.username or parts.password:
        raise RemoteConfigError(
            f"Die Adresse für „{purpose}“ enthält Zugangsdaten. Zugangsdaten gehören in die Anmeldeinformationen "
            "des Betriebssystems (aktenlotse remote token set), nicht in die Richtlinie.")
    if parts.query or parts.fragment:
        raise RemoteConfigError(f"Die Adresse für „{purpose}“ darf keine Parameter (?…, #…) enthalten: {text}")
    if scheme == "http" and not is_loopback_host(host):
        raise RemoteConfigError(
            f"Die Verbindung zu „{purpose}“ ({host}) muss verschlüsselt sein (https://). Unverschlüsselt ist nur "
            "eine Gegenstelle auf diesem Rechner erlaubt (127.0.0.1).")
    path = parts.path.rstrip("/")
    return Endpoint(purpose, scheme, host, port or (443 if scheme == "https" else 80), path)
