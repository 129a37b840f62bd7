"""Inline SVG bar charts for the HTML report: no scripts, no external assets."""

from __future__ import annotations

from html import escape

from tantalio.web.i18n import _

# One colour per verdict, readable in print and for common colour-vision deficiencies.
VERDICT_COLOURS = {
    "known": "#b2182b",
    "near-known": "#ef8a62",
    "known-good": "#67a9cf",
    "known-non-pertinent": "#92c5de",
    "seen-elsewhere": "#8073ac",
    "unreadable": "#999999",
    "non-media": "#d9d9d9",
    "new": "#1b7837",
}


def stacked_bars(counts: dict[str, dict[str, int]], width: int = 720, bar: int = 22) -> str:
    """One horizontal bar per row label (exhibit), stacked by verdict, with a legend."""
    if not counts:
        return ""
    label_w = min(220, 8 * max(len(k) for k in counts) + 16)
    biggest = max(sum(v.values()) for v in counts.values()) or 1
    scale = (width - label_w - 60) / biggest
    rows = []
    y = 0
    for label, per in counts.items():
        x = float(label_w)
        rows.append(
            f'<text x="{label_w - 6}" y="{y + bar * 0.7:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        for verdict, n in per.items():
            w = n * scale
            colour = VERDICT_COLOURS.get(verdict, "#444")
            rows.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="{colour}">'
                f"<title>{escape(label)}: {escape(_(verdict))} {n}</title></rect>"
            )
            x += w
        rows.append(f'<text x="{x + 4:.1f}" y="{y + bar * 0.7:.1f}">{sum(per.values())}</text>')
        y += bar + 8
    legend_x = 0
    for verdict, colour in VERDICT_COLOURS.items():
        name = _(verdict)  # the verdict in the report's language
        step = 16 + 7 * len(name) + 12
        if legend_x and legend_x + step > width:  # wrap the legend, never widen the chart
            legend_x, y = 0, y + 18
        rows.append(f'<rect x="{legend_x}" y="{y + 4}" width="12" height="12" fill="{colour}"/>')
        rows.append(f'<text x="{legend_x + 16}" y="{y + 14}">{escape(name)}</text>')
        legend_x += step
    height = y + 24
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12" role="img" '
        f'aria-label="{escape(_("Files per exhibit and verdict"))}">{"".join(rows)}</svg>'
    )


def simple_bars(counts: dict[str, int], width: int = 720, bar: int = 20) -> str:
    """Horizontal bars, one per label (categories)."""
    if not counts:
        return ""
    label_w = min(260, 7 * max(len(k) for k in counts) + 16)
    biggest = max(counts.values()) or 1
    scale = (width - label_w - 60) / biggest
    parts = []
    for i, (label, n) in enumerate(counts.items()):
        y = i * (bar + 6)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar * 0.7:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y}" width="{n * scale:.1f}" height="{bar}" fill="#5e3c99"/>'
            f'<text x="{label_w + n * scale + 4:.1f}" y="{y + bar * 0.7:.1f}">{n}</text>'
        )
    height = len(counts) * (bar + 6)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12" role="img" '
        f'aria-label="{escape(_("Files per category"))}">'
        f"{''.join(parts)}</svg>"
    )
