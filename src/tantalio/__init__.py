"""tantalio: triage seized media against known hash sets, surface new material, link cases,
and match uploads against shared hash lists."""

__version__ = "0.1.0"
