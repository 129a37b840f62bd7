"""Administration from the command line: agencies, keys, revocation — each audited."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tantalio.exchange.auth import DEFAULT_SCOPES, check_scopes, create_key
from tantalio.store.exchange import AgencyRow, ExchangeStore
from tantalio.store.exchange import audit as audit_log

_COUNTRY = re.compile(r"[A-Z]{2}")


def create_agency(
    url: str,
    name: str,
    country: str,
    contact: str | None,
    scopes: Iterable[str] = DEFAULT_SCOPES,
    rate_per_s: float = 20.0,
    burst: int = 40,
) -> tuple[str, AgencyRow, int]:
    """(token, agency, key id) of a new agency and its first key."""
    name = name.strip()
    country = country.strip().upper()
    if not name or len(name) > 128:
        raise ValueError("an agency name is 1-128 characters")
    if not _COUNTRY.fullmatch(country):
        raise ValueError(f"--country must be an ISO 3166 alpha-2 code, got {country!r}")
    if rate_per_s <= 0 or burst < 1:
        raise ValueError("rate must be > 0 and burst >= 1")
    checked = check_scopes(scopes)
    store = ExchangeStore(url)
    try:
        agency = store.create_agency(name, country, contact, rate_per_s, burst)
        token, key_id = create_key(store, agency.id, checked)
        with store.transaction() as s:
            audit_log.append(
                s,
                "agency.create",
                agency=agency.name,
                key_id=key_id,
                object_type="agency",
                object_id=agency.id,
                detail={"country": country, "scopes": sorted(checked)},
            )
        return token, agency, key_id
    finally:
        store.close()


def create_agency_key(url: str, agency_name: str, scopes: Iterable[str]) -> tuple[str, int]:
    checked = check_scopes(scopes)
    store = ExchangeStore(url)
    try:
        agency = store.agency(agency_name)
        if agency is None:
            raise ValueError(f"no agency {agency_name!r} (tantalio exchange agency list)")
        token, key_id = create_key(store, agency.id, checked)
        with store.transaction() as s:
            audit_log.append(
                s,
                "key.create",
                agency=agency.name,
                key_id=key_id,
                object_type="key",
                object_id=key_id,
                detail={"scopes": sorted(checked)},
            )
        return token, key_id
    finally:
        store.close()


def revoke_key(url: str, key_id: int) -> bool:
    store = ExchangeStore(url)
    try:
        with store.transaction() as s:
            done = store.revoke_key(s, key_id)
            if done:
                audit_log.append(
                    s, "key.revoke", key_id=key_id, object_type="key", object_id=key_id
                )
            return done
    finally:
        store.close()
