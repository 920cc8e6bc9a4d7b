"""The client's address, as far as it can be trusted.

Behind reverse proxies the peer (REMOTE_ADDR) is the nearest proxy, and X-Forwarded-For lists
the hops, each appended by the next one: only the entries added by our own proxies are true.
So the address is the rightmost entry that is not one of BANKWATCH_TRUSTED_PROXIES, read only
when the peer itself is a trusted proxy. Anything that does not parse as an IP address is
"unknown" (None): it is never stored, so an inet column never sees it. daphne must run
*without* --proxy-headers, which would take the client-chosen leftmost entry as the peer.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_address(value: str | None) -> str | None:
    """The address in canonical form, or None when value is not an IP address."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _trusted(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    peer = parse_address(request.META.get("REMOTE_ADDR"))
    if peer is None or not _trusted(peer):
        return peer
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            return None  # a hop our proxy recorded is garbage: the client is unknown
        if not _trusted(address):
            return address
    return peer
