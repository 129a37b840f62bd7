"""Where a workspace keeps its exchange connection (docs/decisions/exchange.md).

- The URL and TLS settings go in the workspace config, `DIR/workspace.json`, under
  `"exchange"`: `{"url": ..., "ca_cert": ..., "insecure_http": false}`.
- The agency key is kept apart from the database and the config, in `DIR/exchange.key`,
  created with mode 0600 (owner read/write only). A key file that group or others can read
  is refused, as ssh refuses such a private key. `TANTALIO_EXCHANGE_KEY` overrides the file
  (containers, secrets managers). A database dump or a copied `workspace.json` therefore
  never carries the key.

A workspace opened from a bare database URL has no directory: it can be connected only through
the environment (`TANTALIO_EXCHANGE_URL` and `TANTALIO_EXCHANGE_KEY`).
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tantalio.exchange.client import ExchangeClient, check_url
from tantalio.store.workspace import MARKER, Workspace

KEY_FILE = "exchange.key"
ENV_KEY = "TANTALIO_EXCHANGE_KEY"
ENV_URL = "TANTALIO_EXCHANGE_URL"


class ExchangeConfigError(Exception):
    """The workspace's exchange connection is missing or unsafe; the message says why."""


@dataclass(slots=True)
class Connection:
    url: str
    key: str
    ca_cert: str | None = None
    insecure_http: bool = False

    def client(self, **kwargs: Any) -> ExchangeClient:
        return ExchangeClient(
            self.url,
            self.key,
            ca_cert=self.ca_cert,
            insecure_http=self.insecure_http,
            **kwargs,
        )


def _marker(ws: Workspace) -> Path:
    if ws.dir is None:
        raise ExchangeConfigError(
            "this workspace has no directory (opened from a database URL): set "
            f"{ENV_URL} and {ENV_KEY} instead of `tantalio exchange connect`"
        )
    return ws.dir / MARKER


def key_path(ws: Workspace) -> Path:
    return _marker(ws).parent / KEY_FILE


def save(
    ws: Workspace,
    url: str,
    key: str,
    ca_cert: str | None = None,
    insecure_http: bool = False,
    agency: str | None = None,
) -> tuple[Path, bool]:
    """Record the connection: URL, TLS settings and the agency's name in workspace.json, the
    key in a 0600 file. Returns the key file's path and whether the exchange or the agency
    differs from the one recorded before (then the stored answers are stale)."""
    url = check_url(url, insecure_http=insecure_http)
    marker = _marker(ws)
    data = json.loads(marker.read_text(encoding="utf-8"))
    before = dict(data.get("exchange") or {})
    changed = bool(before) and (before.get("url"), before.get("agency")) != (url, agency)
    data["exchange"] = {
        "url": url,
        "agency": agency,
        "ca_cert": str(Path(ca_cert).resolve()) if ca_cert else None,
        "insecure_http": insecure_http,
    }
    path = key_path(ws)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key.strip() + "\n")
    os.chmod(tmp, 0o600)  # whatever the umask said
    tmp.replace(path)
    mtmp = marker.with_suffix(".tmp")
    mtmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    mtmp.replace(marker)
    return path, changed


def forget(ws: Workspace) -> bool:
    """Remove the connection (config section and key file); True when there was one."""
    marker = _marker(ws)
    data = json.loads(marker.read_text(encoding="utf-8"))
    had = data.pop("exchange", None) is not None
    mtmp = marker.with_suffix(".tmp")
    mtmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    mtmp.replace(marker)
    path = key_path(ws)
    if path.exists():
        path.unlink()
        had = True
    return had


def _read_key(path: Path) -> str:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ExchangeConfigError(
            f"{path}: the exchange key is readable by other users (mode "
            f"{stat.S_IMODE(mode):04o}); run `chmod 600 {path}` or connect again"
        )
    return path.read_text(encoding="utf-8").strip()


def load(ws: Workspace) -> Connection | None:
    """The workspace's connection, or None when it is not connected."""
    env_url, env_key = os.environ.get(ENV_URL), os.environ.get(ENV_KEY)
    config: dict[str, Any] = {}
    if ws.dir is not None and (ws.dir / MARKER).is_file():
        data = json.loads((ws.dir / MARKER).read_text(encoding="utf-8"))
        config = dict(data.get("exchange") or {})
    url = env_url or config.get("url")
    if not url:
        return None
    key = env_key
    if not key:
        if ws.dir is None or not (ws.dir / KEY_FILE).is_file():
            raise ExchangeConfigError(
                f"the workspace names the exchange {url} but holds no key: run "
                f"`tantalio exchange connect {url} --key KEY` (or set {ENV_KEY})"
            )
        key = _read_key(ws.dir / KEY_FILE)
    return Connection(
        url=str(url),
        key=key,
        ca_cert=config.get("ca_cert"),
        insecure_http=bool(config.get("insecure_http")),
    )
