"""Category mapping onto the Project VIC / VICS 2.0 (US) codes (DESIGN.md, "Categories").

Codes: 0 non-pertinent, 1 child abuse material, 2 child exploitive (non-CAM) / age difficult,
3 CGI/animation, 4 comparison images; None = uncategorized. Sources use other numberings and
names; every mapping is an explicit table here, and the source's own value is always kept in
`HashEntry.source_category`. When a table is unsure it maps towards "uncategorized" (reviewed
by a person), never towards "non-pertinent" (ignored). docs/decisions/hashsets.md has the
tables and the reasons.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Numeric tables: source code -> VICS 2.0 (US) code (None = uncategorized).
SCHEMES: dict[str, dict[int, int | None]] = {
    # VICS 2.0 (US): the target numbering itself.
    "vics-2.0": {0: 0, 1: 1, 2: 2, 3: 3, 4: 4},
    # VICS 1.x exports: 0 meant "uncategorized" (2.0 moved that to null and gave 0 to
    # non-pertinent); 1..4 kept their meaning.
    "vics-1.x": {0: None, 1: 1, 2: 2, 3: 3, 4: 4},
    # The older three-tier scheme (1 CAM, 2 exploitive/age difficult, 3 non-pertinent,
    # 0 uncategorized). Only on request (`category_scheme="three-tier"`): guessing it would
    # turn CGI (3 in the other tables) into non-pertinent.
    "three-tier": {0: None, 1: 1, 2: 2, 3: 0},
    # UK CAID: categories are letters (A/B/C, all child abuse material in the US scheme; read
    # through NAMES). Numbers in a CAID list are the pre-2014 SAP levels 1-5, which are all
    # indecent images of children too; 0 is not a SAP level, so it stays uncategorized (a
    # person decides) rather than becoming "non-pertinent".
    "caid-uk": {0: None, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1},
}

# Regional profiles a user names on import (`hashset import --categories`): each is a table
# of SCHEMES, so every profile lands on the one internal (VICS 2.0, US) scale.
PROFILES: dict[str, str] = {
    "projectvic-us": "vics-2.0",
    "vics-1.x": "vics-1.x",
    "three-tier": "three-tier",
    "caid-uk": "caid-uk",
}

# Category names as sources spell them, after lower-casing and squeezing separators.
NAMES: dict[str, int | None] = {
    "uncategorized": None,
    "uncategorised": None,
    "none": None,
    "non pertinent": 0,
    "nonpertinent": 0,
    "ignorable": 0,
    "not pertinent": 0,
    "cam": 1,
    "csam": 1,
    "child abuse material": 1,
    "child sexual abuse material": 1,
    "illegal": 1,
    # UK CAID categories A/B/C are all child abuse material in the US scheme.
    "a": 1,
    "b": 1,
    "c": 1,
    "category a": 1,
    "category b": 1,
    "category c": 1,
    "cat a": 1,
    "cat b": 1,
    "cat c": 1,
    "child exploitive": 2,
    "child exploitative": 2,
    "child exploitive non cam": 2,
    "child exploitative non cam": 2,
    "exploitive": 2,
    "age difficult": 2,
    "child exploitive age difficult": 2,
    "cgi": 3,
    "animation": 3,
    "cgi animation": 3,
    "comparison": 4,
    "comparison images": 4,
    "comparison image": 4,
}

_SQUEEZE = re.compile(r"[\s_\-/()]+")


class UnknownCategory(ValueError):
    """The source's category value is not in the table: the entry is kept uncategorized."""


def map_category(
    value: object,
    scheme: str = "vics-2.0",
    overrides: Mapping[str, int | None] | None = None,
) -> tuple[int | None, str | None]:
    """(VICS 2.0 code, source value as text) for a source category value.

    `overrides` maps a source value (as text, e.g. "3" or "Cat A") to a code and wins over
    the tables. Raises `UnknownCategory` (carrying nothing lost: the caller keeps the source
    value) when neither the table nor the names know the value.
    """
    if value is None or value == "":
        return None, None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise UnknownCategory(f"category must be a number or a name, got {value!r}")
    source = str(value).strip()
    if overrides is not None and source in overrides:
        return overrides[source], source
    table = SCHEMES[scheme]
    if isinstance(value, int) or source.lstrip("-").isdigit():
        code = int(source)
        if code in table:
            return table[code], source
        raise UnknownCategory(f"unknown category code {source} in the {scheme} numbering")
    key = _SQUEEZE.sub(" ", source.lower()).strip()
    if key in NAMES:
        return NAMES[key], source
    raise UnknownCategory(f"unknown category name {source!r}")


# What the internal codes mean (VICS 2.0, US), as reports and tiles name them.
CODE_NAMES: dict[int, str] = {
    0: "Non-pertinent",
    1: "Child abuse material",
    2: "Child exploitive / age difficult",
    3: "CGI / animation",
    4: "Comparison images",
}


def category_name(code: int | None) -> str:
    if code is None:
        return "Uncategorized"
    return CODE_NAMES.get(code, f"Category {code}")
