"""Which addresses a fetch may connect to.

A page on the web must not become a way into the user's own machine or network: loopback,
private, link-local (where clouds serve instance metadata and credentials), shared and
reserved ranges are refused unless the user named the host in an allow rule. The check is made
on the addresses the name resolves to, at the moment of connecting, so neither a name that
points inwards nor a redirect to one gets through.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass

from glmcode.web.errors import WebError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(WebError):
    """The host resolves only to addresses a fetch may not reach."""


def parse_address(text: str) -> IPAddress:
    """An address as getaddrinfo gives it; an IPv6 scope (`fe80::1%eth0`) is dropped, and an
    IPv4 address written as IPv6 (`::ffff:127.0.0.1`) is read as the IPv4 it is."""
    ip = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_public(ip: IPAddress) -> bool:
    return ip.is_global and not ip.is_multicast


def describe(ip: IPAddress) -> str:
    """Which range refused `ip`, in words."""
    if ip.is_loopback:
        return "a loopback address (this machine)"
    if ip.is_link_local:
        return "a link-local address (where cloud instance metadata lives)"
    if ip.is_private:
        return "a private network address"
    if ip.is_multicast:
        return "a multicast address"
    return "an address that is not on the public internet"


@dataclass(frozen=True)
class AddressGuard:
    """Resolves a host for a connection and keeps only the addresses it may reach.
    `names_host(host)` says whether an allow rule names the host, which opens the
    non-public ranges for it."""

    names_host: Callable[[str], bool]
    resolve: Callable[[str, int], list[str]] | None = None

    def addresses(self, host: str, port: int) -> list[str]:
        found = (self.resolve or resolve)(host, port)
        if not found:
            raise WebError(f"{host} has no address")
        named = self.names_host(host.lower())
        allowed = [a for a in found if named or is_public(parse_address(a))]
        if allowed:
            return allowed
        ip = parse_address(found[0])
        shown = host if host == str(ip) else f"{host} ({ip})"
        raise BlockedAddress(
            f"{shown} is {describe(ip)}; web_fetch does not connect there unless an allow rule "
            f"names the host, such as web_fetch:{host.lower()} in [permissions] allow"
        )


def resolve(host: str, port: int) -> list[str]:
    """The host's addresses, in the order the system prefers, each once."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebError(f"cannot resolve {host}: {exc}") from None
    out: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in out:
            out.append(address)
    return out
