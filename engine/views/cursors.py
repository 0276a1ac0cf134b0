"""Opaque cursors of the lists cut by keyset (the inbox, the dossier list and its API).

A page ends on a row; the cursor carries that row's key in the list's order, and
the next page starts strictly after it. The key is written as base64url of a
JSON array without padding; reading it back checks every value's type, so an
altered, truncated or foreign cursor is refused (`InvalidCursor`, 400) before
it reaches a query. Cursors carry no secret: a forged one that decodes only
moves the start of a list the caller may read anyway, the scope staying in SQL.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime
from typing import Any

from engine.errors import Refusal

# A cursor longer than this was not written by `encode_key`: it is refused before being decoded.
MAX_CURSOR_LENGTH = 200
# A text value of a key (a task id as the engine writes them, a UUID; the test data's shorter ones fit too).
KEY_TEXT = re.compile(r"^[0-9A-Za-z-]{1,36}$")
# The largest id a key may carry (PostgreSQL's bigint).
MAX_ID = 2**63 - 1


class InvalidCursor(Refusal):
    """A page cursor that this platform did not give out (altered, truncated or from another list)."""

    status = 400
    default_message = ("Le curseur de pagination est invalide : il a été modifié ou tronqué. Revenez à la "
                       "première page de la liste.")


def encode_key(values: list[Any]) -> str:
    """The opaque text of a key: dates in ISO format, then base64url of the JSON array, without padding."""
    key = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_key(text: str, kinds: tuple[str, ...]) -> list[Any]:
    """The key `encode_key` wrote, each value read as its kind says: "date", "date?" (a date or none), "id" (a
    positive integer), "text", or a literal "=name" (the list's own tag). `InvalidCursor` for anything else."""
    if not text or len(text) > MAX_CURSOR_LENGTH or not text.isascii():
        raise InvalidCursor()
    try:
        key = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor() from None
    if not isinstance(key, list) or len(key) != len(kinds):
        raise InvalidCursor()
    return [_value(value, kind) for value, kind in zip(key, kinds, strict=True)]


def _value(value: Any, kind: str) -> Any:
    """One value of a key read as `kind` (see `decode_key`)."""
    if kind.startswith("="):
        if value != kind[1:]:
            raise InvalidCursor()
        return value
    if kind == "date?" and value is None:
        return None
    if kind in ("date", "date?") and isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise InvalidCursor() from None
    # bool is an int to Python: `true` is no id.
    if kind == "id" and isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
        return value
    if kind == "text" and isinstance(value, str) and KEY_TEXT.match(value):
        return value
    raise InvalidCursor()
