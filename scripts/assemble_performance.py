"""Assemble docs/performance.md: the summary of targets (docs/perf/SUMMARY.md, kept by hand
from the measured tables) followed by every benchmark's measured table in docs/perf/.

Each benchmark writes its own docs/perf/<topic>.md so parallel work never edits one file;
this script is the one place that joins them. Run: python scripts/assemble_performance.py
"""

from __future__ import annotations

from pathlib import Path

ORDER = ("fingerprint", "ingest", "index", "platform", "web", "evidence", "chats")


def _demote_headings(lines: list[str]) -> list[str]:
    out, in_fence = [], False
    for line in lines:
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        out.append("#" + line if line.startswith("#") and not in_fence else line)
    return out


def main() -> None:
    docs = Path(__file__).resolve().parent.parent / "docs"
    perf = docs / "perf"
    parts = [(perf / "SUMMARY.md").read_text().rstrip()]
    names = [n for n in ORDER if (perf / f"{n}.md").exists()]
    names += sorted(
        p.stem for p in perf.glob("*.md") if p.stem not in ORDER and p.stem != "SUMMARY"
    )
    for name in names:
        body = (perf / f"{name}.md").read_text().rstrip()
        # Demote the topic's headings one level so the document has one title.
        body = "\n".join(_demote_headings(body.splitlines()))
        parts.append(f"<!-- from docs/perf/{name}.md -->\n{body}")
    (docs / "performance.md").write_text("\n\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
