"""Signal types (MD5, SHA-1, SHA-256, PDQ, vPDQ, ...), the rules that say when they match,
and the one lookup every matcher uses (triage, the web query, the platform).

    registry.get(name) -> SignalType     normalize / from_fingerprint / distance / index kind
    MatchRules                           thresholds and switches, defaults in rules.py only
    lookup.lookup(query, indexes, rules) -> [SignalMatch]
"""

from tantalio.signals.base import SignalError, SignalType
from tantalio.signals.rules import DEFAULT_RULES, MatchRules, RulesError

__all__ = ["DEFAULT_RULES", "MatchRules", "RulesError", "SignalError", "SignalType"]
