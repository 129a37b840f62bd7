"""Project VIC / VICS 2.0 (US) category codes as reviewers see them (DESIGN.md: Categories).

Keyboard shortcuts in the triage grid use the code itself (0-4); `u` clears the category.
"""

from __future__ import annotations

CATEGORIES: dict[int, str] = {
    0: "Non-pertinent",
    1: "Child abuse material",
    2: "Child exploitive / age difficult",
    3: "CGI / animation",
    4: "Comparison images",
}


# Labels short enough for buttons; the full name is their tooltip.
CATEGORY_SHORT: dict[int, str] = {
    0: "Non-pertinent",
    1: "CAM",
    2: "Exploitive / age diff.",
    3: "CGI / anim.",
    4: "Comparison",
}


def category_label(code: int | None) -> str:
    if code is None:
        return "Uncategorized"
    return CATEGORIES.get(code, f"Category {code}")


def parse_category(value: object) -> int | None:
    """A category code from a form or JSON value; None or "" clears it."""
    if value is None or value == "" or value == "null":
        return None
    code = int(value)  # type: ignore[call-overload]
    if code not in CATEGORIES:
        raise ValueError(f"category must be one of {sorted(CATEGORIES)} or empty, not {value!r}")
    return code
