"""The broker URLs a user may configure: scheme, host and port, plain http only on loopback."""

from __future__ import annotations

from ipaddress import ip_address
from urllib.parse import urlsplit


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL such as https://paper-api.alpaca.markets")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("must be scheme, host and port only (alpaca-py adds /v2 itself)")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError("plain http is allowed only for loopback hosts (127.0.0.1, localhost)")
    return value.rstrip("/")
