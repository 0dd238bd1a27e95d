"""Strict JSON reading for every input that arrives as JSON (import lines, HTTP bodies):
a field named twice is refused (which value would count?), and so is nesting deeper than
any command needs (a deeply nested document would otherwise exhaust the parser's stack)."""

from __future__ import annotations

import json

#: Deepest nesting of objects and lists accepted; a command needs three or four levels.
MAX_DEPTH = 32


class DuplicateKey(ValueError):
    """A JSON object that names one field twice (which of them would count?)."""


class TooDeep(ValueError):
    """A JSON document nested deeper than :data:`MAX_DEPTH`."""


def no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """``json.loads`` hook refusing objects with a field named twice."""
    seen: dict[str, object] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKey(repr(key))
        seen[key] = value
    return seen


def _depth_exceeds(value: object, limit: int) -> bool:
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def strict_loads(text: str | bytes) -> object:
    """Parse JSON, refusing duplicated fields (:class:`DuplicateKey`) and nesting deeper
    than :data:`MAX_DEPTH` (:class:`TooDeep`); malformed JSON raises
    :class:`json.JSONDecodeError` as usual."""
    try:
        value: object = json.loads(text, object_pairs_hook=no_duplicate_keys)
    except RecursionError:
        raise TooDeep(f"nested more than {MAX_DEPTH} levels deep") from None
    if _depth_exceeds(value, MAX_DEPTH):
        raise TooDeep(f"nested more than {MAX_DEPTH} levels deep")
    return value
