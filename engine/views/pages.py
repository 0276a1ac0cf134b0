"""Pages of a list: one slice of an ordered statement, and how many rows the whole list has.

Every paged list (instances, notifications, the dashboard) is cut here, so that
a page number out of range is handled once: brought back to the last page
before any offset reaches the database, where a huge one would overflow.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items, its number (from 1), how many items a page holds and how many in all."""

    items: list[T]
    number: int
    size: int
    total: int

    @property
    def last(self) -> int:
        """The number of the last page (1 for an empty list, which still shows one page)."""
        return last_page(self.size, self.total)

    @property
    def has_previous(self) -> bool:
        """Whether a page comes before this one."""
        return self.number > 1

    @property
    def has_next(self) -> bool:
        """Whether a page comes after this one."""
        return self.number * self.size < self.total


def last_page(size: int, total: int) -> int:
    """The number of the last page of `total` items, `size` a page (at least 1)."""
    return max(1, -(-total // size))


def bounded_page(number: int, size: int, total: int) -> int:
    """A page number brought within 1 and the last page."""
    return min(max(number, 1), last_page(size, total))


def paginate(session: Session, statement: Select, number: int, size: int, *, clamp: bool = True) -> Page[Any]:
    """One page of an ordered statement and the count of all its rows.

    With `clamp`, a number out of range is brought back within the pages (pages shown to people); without it,
    the caller vouches for the number and a page past the end is empty (the API, whose clients stop there).
    A statement selecting one entity gives its objects, any other its rows.
    """
    total = session.execute(select(func.count()).select_from(statement.order_by(None).subquery())).scalar_one()
    if clamp:
        number = bounded_page(number, size, total)
    result = session.execute(statement.limit(size).offset((number - 1) * size))
    items = list(result.scalars()) if len(statement.column_descriptions) == 1 else list(result.all())
    return Page(items, number, size, total)
