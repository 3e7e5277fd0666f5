"""The API's JSON parser: DRF's, with a bound on how deeply a body may nest.

No request of this API nests more than a few levels, while a body of a few kilobytes can nest thousands deep
(``[[[[...``) and exhaust Python's recursion anywhere it is walked: in the JSON decoder, the serializers or
the error format. Such a body is refused here with a 400 before anything reads it.
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from core.documents import too_deep

MAX_DEPTH = 32


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(too_deep_message()) from None
        if too_deep(data, max_depth=MAX_DEPTH):
            raise ParseError(too_deep_message())
        return data


def too_deep_message() -> str:
    return f"JSON parse error - the body nests more than {MAX_DEPTH} levels deep; no request needs that many."
