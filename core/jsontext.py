"""JSON text from outside (a caught request, a stored body) read without surprises: a document nested too deeply
to show, or to walk, is treated as text instead of raising RecursionError."""

from __future__ import annotations

import json

# Past this depth a document is shown as text: no payload of ours comes near it.
JSON_MAX_DEPTH = 64


class _NotJson:
    def __repr__(self) -> str:
        return "NOT_JSON"


NOT_JSON = _NotJson()


def parse_json(text: str | bytes) -> object:
    """The JSON document ``text`` holds, or ``NOT_JSON`` when it holds none, or one nested too deeply to show."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return NOT_JSON
    if _depth_exceeds(document, JSON_MAX_DEPTH):
        return NOT_JSON
    return document


def _depth_exceeds(document: object, limit: int) -> bool:
    stack = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False
