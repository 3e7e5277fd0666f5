"""Documents from outside (a caught request, a stored body, an API request, a scenario file) read without
surprises: one nested too deeply to show or to walk, or too big once its YAML aliases are followed, is found with
a stack instead of recursion, before anything else walks it (``RecursionError``, or a ``str()`` that never ends).
"""

from __future__ import annotations

import json

# Past this depth a JSON body is shown as text: no payload of ours comes near it.
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
    if too_deep(document, max_depth=JSON_MAX_DEPTH):
        return NOT_JSON
    return document


def too_deep(document: object, *, max_depth: int, max_nodes: int | None = None) -> bool:
    """Whether ``document`` nests lists and mappings more than ``max_depth`` deep, or holds more than
    ``max_nodes`` values (a YAML alias counted each time it is used: a "billion laughs" stops here early)."""
    stack, nodes = [(document, 1)], 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if max_nodes is not None and nodes > max_nodes:
            return True
        if isinstance(node, dict | list):
            if depth > max_depth:
                return True
            children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False
