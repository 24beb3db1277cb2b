"""EventBridge event-pattern matching, for the operators template.yaml's rules use.

Semantics (Amazon EventBridge User Guide, "Event patterns"): every field of the pattern must
match; a nested object matches the event's nested object field by field; a list of values
matches when the event's value (or any element of an array value) equals one of them;
a nested object matches an array of objects when one of its elements matches it;
`{"prefix": ...}`, `{"anything-but": [...]}` and `{"exists": bool}` are the content filters
supported here. Anything else is an error, so a pattern this module cannot judge never
passes silently.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


class UnsupportedPattern(ValueError):
    """The pattern uses an operator this matcher does not implement."""


def _values(event_value: Any) -> list:
    return event_value if isinstance(event_value, list) else [event_value]


def _match_value(condition: Any, event_value: Any) -> bool:
    if isinstance(condition, dict):
        if len(condition) != 1:
            raise UnsupportedPattern(f"content filter with several keys: {condition!r}")
        (op, arg), = condition.items()
        if op == "exists":
            return (event_value is not _MISSING) == bool(arg)
        if event_value is _MISSING:
            return False
        if op == "prefix":
            return any(isinstance(v, str) and v.startswith(arg) for v in _values(event_value))
        if op == "anything-but":
            excluded = arg if isinstance(arg, list) else [arg]
            return all(v not in excluded for v in _values(event_value))
        raise UnsupportedPattern(f"content filter {op!r}")
    if event_value is _MISSING:
        return False
    return condition in _values(event_value)


def matches(pattern: dict, event: Any) -> bool:
    """True if `event` (a JSON object) matches the EventBridge `pattern`."""
    if not isinstance(event, dict):
        return False
    for key, condition in pattern.items():
        value = event.get(key, _MISSING)
        if isinstance(condition, dict):
            if isinstance(value, list):
                # An array of objects: EventBridge matches the pattern against its elements.
                if not any(matches(condition, v) for v in value if isinstance(v, dict)):
                    return False
                continue
            if value is _MISSING or not isinstance(value, dict):
                return False
            if not matches(condition, value):
                return False
        elif isinstance(condition, list):
            if not condition:
                raise UnsupportedPattern(f"empty list for {key!r}")
            if not any(_match_value(c, value) for c in condition):
                return False
        else:
            raise UnsupportedPattern(f"{key!r}: a pattern value must be a list or an object")
    return True
