"""The local exchange's admin routes (/_exchange/*), as a test acting as a person in Alpaca's dashboard."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import requests
from alpaca.trading.models import Order


class Admin:
    def __init__(self, url: str, key_id: str) -> None:
        self.base = f"{url}/_exchange/accounts/{key_id}"

    def _call(self, method: str, path: str = "", body: dict[str, Any] | None = None) -> Any:
        response = requests.request(method, self.base + path, json=body, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def state(self) -> dict[str, Any]:
        return dict(self._call("GET"))

    def orders(self) -> list[Order]:
        """The account's orders (none when no request has opened the account yet)."""
        response = requests.get(self.base, timeout=10)
        if response.status_code == 404:
            return []
        assert response.status_code == 200, response.text
        return [Order(**raw) for raw in response.json()["orders"]]

    def fills(self) -> list[dict[str, Any]]:
        return list(self.state()["fills"])

    def position(self, symbol: str) -> Decimal:
        return Decimal(self.state()["positions"].get(symbol, "0"))

    def cash(self) -> Decimal:
        return Decimal(self.state()["account"]["cash"])

    def flags(self, **flags: bool) -> dict[str, Any]:
        return dict(self._call("PATCH", body=flags))

    def set_position(self, symbol: str, qty: int) -> dict[str, Any]:
        return dict(self._call("PUT", f"/positions/{symbol}", {"qty": str(qty)}))

    def cancel(self, client_order_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/orders/{client_order_id}/cancel"))

    def reset(self) -> dict[str, Any]:
        return dict(self._call("POST", "/reset"))
