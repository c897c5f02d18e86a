"""The API's JSON parser: DRF's, with a nesting limit."""

from collections.abc import Iterable
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# No request the API documents nests deeper than a handful of levels (a campaign's caps list
# of objects is three). The limit keeps every later walk over the data (validation, JSON
# fields, logging) far from Python's recursion limit, which a body nested ~1,000 deep reaches
# inside the json module itself.
JSON_MAX_DEPTH = 32


def json_depth_exceeds(data: Any, limit: int) -> bool:
    """Whether parsed JSON nests lists/objects more than `limit` deep (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a body nested deeper than `JSON_MAX_DEPTH` is a 400 `parse_error`.

    A very deep body would otherwise raise RecursionError inside the json module (an HTML 500).
    """

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        too_deep = ParseError(
            f"JSON parse error - nested deeper than {JSON_MAX_DEPTH} levels.", code="parse_error"
        )
        try:
            data = super().parse(stream, media_type=media_type, parser_context=parser_context)
        except RecursionError:
            raise too_deep from None
        if json_depth_exceeds(data, JSON_MAX_DEPTH):
            raise too_deep
        return data


class CsvParser(parsers.BaseParser):
    """A `text/csv` body, handed to the view as bytes under `csv` (the CSV imports read it)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None) -> dict[str, bytes]:
        return {"csv": stream.read() if stream is not None else b""}
