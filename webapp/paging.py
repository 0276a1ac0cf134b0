"""Paged lists of the web pages: how many rows a page shows, and the page a request asks for."""
from __future__ import annotations

from flask import request

PAGE_SIZE = 50
# More digits than any list has pages: such a number stands for "the last page" and is never parsed.
MAX_DIGITS = 9


def requested_page() -> int:
    """The page number of `?page=`: 1 when absent, unreadable or below 1.

    A number past the last page is kept (one too long to parse becomes the largest kept): `paginate` brings it
    back to the last page once the list is counted, before any offset reaches the database.
    """
    value = request.args.get("page", "")
    if not (value.isascii() and value.isdigit()):
        return 1
    return max(int(value), 1) if len(value) <= MAX_DIGITS else 10**MAX_DIGITS
