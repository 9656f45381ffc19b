"""CloudWatch Logs filter patterns on unstructured log events, as far as the project's patterns use
them: a documented subset, for tests. tests/test_logfilter.py has one test per rule.

Why not moto's: moto 5.2 evaluates one bare or one quoted term, but any pattern that starts with
`?` is "unsupported" there and matches every event, and it has no TestMetricFilter
(test_moto_matches_every_event_for_or_terms). Where moto does cover a pattern (one quoted term),
the tests check this agrees with it.

The rules, from "Filter pattern syntax for metric filters, subscription filters, filter log events,
and Live Tail" (matching terms in unstructured log events):
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
- A term in double quotes matches an event that contains exactly that text, spaces and
  punctuation included ("include non-alphanumeric characters in double quotation marks").
- Terms each with a leading `?` match an event that contains any of them (OR).
- Terms without `?`, separated by spaces, match an event that contains all of them (AND).
- Matching is case sensitive.
Anything else (bare words, `-term` exclusions, `%regex%`, JSON `{ }` and space-delimited `[ ]`
patterns, a mix of `?` and plain terms) is refused, not guessed at.
"""

from __future__ import annotations

import re

_TERM = re.compile(r'\s*(\??)"([^"\\]*)"\s*')


class UnsupportedPattern(ValueError):
    pass


def terms(pattern: str) -> tuple[str, list[str]]:
    """("any" or "all", the quoted terms) of a pattern in the subset."""
    found, position = [], 0
    while position < len(pattern):
        match = _TERM.match(pattern, position)
        if not match or not match.group(2):
            raise UnsupportedPattern(f"not a quoted term at {position}: {pattern[position:position + 40]!r}")
        found.append(match.groups())
        position = match.end()
    if not found:
        raise UnsupportedPattern("an empty pattern (it matches every event) is outside the subset")
    marks = {mark for mark, _ in found}
    if len(marks) > 1:
        raise UnsupportedPattern("a mix of ?term and term is outside the subset")
    return ("any" if marks == {"?"} else "all"), [term for _, term in found]


def matches(pattern: str, event: str) -> bool:
    """Whether CloudWatch Logs counts this unstructured event for the pattern."""
    mode, wanted = terms(pattern)
    found = (term in event for term in wanted)  # substring, case-sensitive
    return any(found) if mode == "any" else all(found)
