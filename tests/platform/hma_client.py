"""An HMA-style client: the calls a platform integrating Hasher-Matcher-Actioner makes,
written against HMA's documented routes and payloads only (nothing tantalio-specific but the
bearer key). Usable as a script: python hma_client.py BASE_URL KEY IMAGE."""

from __future__ import annotations

import sys
from typing import Any

import httpx


class HMAClient:
    def __init__(self, base_url: str, api_key: str) -> None:
        self.http = httpx.Client(
            base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {api_key}"}
        )

    def status(self) -> str:
        r = self.http.get("/status")
        r.raise_for_status()
        return r.text

    def banks(self) -> list[dict[str, Any]]:
        return self._ok(self.http.get("/c/banks"))

    def create_bank(self, name: str, enabled_ratio: float = 1.0) -> dict[str, Any]:
        return self._ok(
            self.http.post("/c/banks", json={"name": name, "enabled_ratio": enabled_ratio})
        )

    def add_signal(self, bank: str, signal_type: str, signal: str) -> dict[str, Any]:
        return self._ok(self.http.post(f"/c/bank/{bank}/signal", json={signal_type: signal}))

    def add_photo(self, bank: str, data: bytes, metadata: str | None = None) -> dict[str, Any]:
        params = {"metadata": metadata} if metadata else None
        return self._ok(
            self.http.post(
                f"/c/bank/{bank}/content",
                params=params,
                files={"photo": ("upload.png", data, "image/png")},
            )
        )

    def hash_photo(self, data: bytes) -> dict[str, str]:
        return self._ok(
            self.http.post("/h/hash", files={"photo": ("upload.png", data, "image/png")})
        )

    def raw_lookup(self, signal_type: str, signal: str, include_distance: bool = False) -> Any:
        params = {"signal_type": signal_type, "signal": signal}
        if include_distance:
            params["include_distance"] = "true"
        return self._ok(self.http.get("/m/raw_lookup", params=params))["matches"]

    def lookup_signal(self, signal_type: str, signal: str) -> dict[str, list[dict[str, Any]]]:
        return self._ok(
            self.http.get("/m/lookup", params={"signal_type": signal_type, "signal": signal})
        )

    def lookup_photo(self, data: bytes) -> dict[str, dict[str, list[dict[str, Any]]]]:
        return self._ok(
            self.http.post("/m/lookup", files={"photo": ("upload.png", data, "image/png")})
        )

    def delete_content(self, bank: str, content_id: int) -> dict[str, Any]:
        return self._ok(self.http.delete(f"/c/bank/{bank}/content/{content_id}"))

    @staticmethod
    def _ok(r: httpx.Response) -> Any:
        if r.status_code >= 400:
            raise RuntimeError(f"HTTP {r.status_code}: {r.json().get('message')}")
        return r.json()


if __name__ == "__main__":  # pragma: no cover - manual use
    base, key, image = sys.argv[1:4]
    client = HMAClient(base, key)
    with open(image, "rb") as f:
        print(client.lookup_photo(f.read()))
