"""The match-rule options shared by `tantalio platform bank create/config` (a bank's own
rules) and `tantalio config` (the workspace's): one spelling for both."""

from __future__ import annotations

import typer


def rule_keys() -> tuple[str, ...]:
    """Every MatchRules field (what `--reset` knows), from the class itself; imported here,
    not at module level: `tantalio --help` must not load the matching packages."""
    from tantalio.signals.rules import MatchRules

    return tuple(MatchRules.__dataclass_fields__)


def reset_keys(reset: list[str], known: tuple[str, ...] | set[str]) -> set[str]:
    """The rules `--reset` names ('all' for every one of `known`, dashes read as
    underscores); ValueError naming the ones `known` lacks."""
    keys = set(known) if "all" in reset else {k.replace("-", "_") for k in reset}
    unknown = sorted(keys - set(known))
    if unknown:
        raise ValueError(f"--reset: unknown match rule(s) {', '.join(unknown)}")
    return keys


def _share(value: str | None, option: str) -> float | None | str:
    """A vPDQ share option: a number in (0, 1], or 'off' (that side of the rule off)."""
    if value is None:
        return "unset"
    if value.strip().lower() in ("off", "none", "null"):
        return None
    try:
        return float(value)
    except ValueError:
        raise typer.BadParameter(f"{option}: a number in (0, 1] or 'off'") from None


def rule_options(
    quality_min: int | None,
    orientations: bool | None,
    vpdq_frame_distance: int | None,
    vpdq_query_share: str | None,
    vpdq_index_share: str | None,
    frames_vs_images: bool | None,
) -> dict[str, object]:
    """The bank's own match rules given on the command line (unset options left out)."""
    out: dict[str, object] = {
        "min_quality": quality_min,
        "orientations": orientations,
        "vpdq_frame_distance": vpdq_frame_distance,
    }
    out = {k: v for k, v in out.items() if v is not None}
    if frames_vs_images is not None:
        out["frames_vs_images"] = frames_vs_images
    for key, raw, option in (
        ("vpdq_query_share", vpdq_query_share, "--vpdq-query-share"),
        ("vpdq_index_share", vpdq_index_share, "--vpdq-index-share"),
    ):
        share = _share(raw, option)
        if share != "unset":
            out[key] = share
    return out


PdqThresholdOpt = typer.Option(
    None,
    "--pdq-threshold",
    "--threshold",
    help="PDQ distance threshold of this bank (default: the match rules', 31).",
)
QualityOpt = typer.Option(
    None,
    "--quality-min",
    help="PDQ quality gate of this bank: queries and vPDQ frames below it are not matched "
    "(default: the server's, 50).",
)
OrientOpt = typer.Option(
    None,
    "--orientations/--no-orientations",
    help="Match content lookups in their 8 orientations in this bank (default: the server's, on).",
)
FrameDistOpt = typer.Option(
    None, "--vpdq-frame-distance", help="vPDQ frame distance of this bank (default: 31)."
)
QueryShareOpt = typer.Option(
    None,
    "--vpdq-query-share",
    help="vPDQ: share of the query's frames that must match, (0, 1] or 'off' (default: 0.8).",
)
IndexShareOpt = typer.Option(
    None,
    "--vpdq-index-share",
    help="vPDQ: share of the bank video's frames that must match, (0, 1] or 'off' (default: 0.8).",
)
FramesImagesOpt = typer.Option(
    None,
    "--frames-vs-images/--no-frames-vs-images",
    help="Match video frames against pictures and pictures against video frames in this bank "
    "(default: on).",
)


def rules_text(rules: dict[str, object], own: set[str]) -> str:
    """Rules as `key=value` words; `*` marks the keys in `own` (set here, not inherited)."""
    parts = []
    for key, value in rules.items():
        text = {True: "on", False: "off", None: "off"}.get(value, value)  # type: ignore[call-overload]
        parts.append(f"{key}={text}{'*' if key in own else ''}")
    return " ".join(parts)
