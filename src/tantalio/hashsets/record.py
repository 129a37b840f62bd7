"""Records every hash-set reader emits and every writer consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Algorithms a hash entry may carry. PhotoDNA is stored and exported, never computed.
ALGORITHMS = ("md5", "sha1", "sha256", "pdq", "vpdq", "photodna")
# known-bad: the list says "illegal"; alert: watch for it; known-good: ignorable (NSRL);
# reference: the list says "seen" (a case export, a deconfliction list), its categories say
# what is illegal (triage.verdicts).
KINDS = ("known-bad", "known-good", "alert", "reference")


def entry_alerts(kind: str, category: int | None) -> bool:
    """Whether a match to an entry of this set kind and category marks material as known
    (issue 16): category 1-4 alerts in any set but a known-good one; 0 (non-pertinent) never;
    an uncategorized entry only in a known-bad or alert set (a reference set says "seen")."""
    if kind == "known-good" or category == 0:
        return False
    return category is not None or kind in ("known-bad", "alert")


@dataclass(slots=True)
class HashEntry:
    """One known item of a hash set: one or more hash values plus what is known of it.

    `category` is the Project VIC / VICS 2.0 (US) code (0..4, None = uncategorized);
    `source_category` keeps the value as the source wrote it (older numbering, strings).
    """

    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    vpdq: list[str] | None = None
    photodna: str | None = None
    category: int | None = None
    source_category: str | None = None
    series: str | None = None
    victim_identified: bool | None = None
    offender_identified: bool | None = None
    is_distributed: bool | None = None
    comments: str | None = None
    tags: list[str] = field(default_factory=list)
    original_id: str | None = None
    added_at: datetime | None = None
    # Signals of a reference *file* no hash list has a column for (issue 13): the PDQ of
    # the picture inside its frame and its local features (`lf1:` text). Carried by the
    # signed list format (a set made with `hashset create --from DIR`); other formats leave
    # them None.
    pdq_trimmed: str | None = None
    local_features: str | None = None
    # Where the reader found it (`file:line`), for messages about the entry; not a value.
    where: str | None = field(default=None, compare=False, repr=False)

    def hashes(self) -> dict[str, str]:
        """The scalar hash values present, by algorithm (lower-case hex; photodna as given)."""
        return {
            name: value
            for name in ("md5", "sha1", "sha256", "pdq", "photodna")
            if (value := getattr(self, name))
        }


@dataclass(frozen=True, slots=True)
class ParseWarning:
    """A problem in one record of an input file; `where` is `file:line` or `file:record N`
    (hash-set readers: `file:record N (line L)` for JSON). Hash-set warnings end with
    "skipped" when the record was left out (`hashsets.is_skip`), else it was kept."""

    where: str
    field: str | None
    message: str

    def __str__(self) -> str:
        what = f" field {self.field!r}:" if self.field else ""
        return f"{self.where}:{what} {self.message}"
