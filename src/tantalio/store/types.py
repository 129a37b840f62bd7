"""Column types shared by the case store's models."""

from __future__ import annotations

from sqlalchemy import JSON

# None is stored as SQL NULL (not the JSON text `null`), so `IS NULL` filters work.
Json = JSON(none_as_null=True)
