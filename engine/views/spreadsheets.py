"""Exports for spreadsheets: CSV as French spreadsheets read it, and XLSX with real dates.

Every export of the dashboard goes through here, so that all of them protect against formulas and open the same
way in Excel and LibreOffice.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

# A cell starting with one of these is a formula to a spreadsheet: exported text must never run as one.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: str | None) -> str:
    """Text for a spreadsheet cell, with a leading quote when a spreadsheet would read it as a formula."""
    text = value or ""
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat() if isinstance(value, date) else value


def csv_lines(headers: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """A CSV export, line by line: UTF-8 with a byte order mark and `;`, as French spreadsheets expect."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    yield "\ufeff" + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_csv_value(value) for value in row])
        yield buffer.getvalue()


def xlsx_bytes(sheet_title: str, headers: Sequence[str], widths: Sequence[int], rows: Iterable[Sequence]) -> bytes:
    """An XLSX export: one sheet, a bold frozen header row, real dates (Excel shows them in the reader's format)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    header = []
    for title in headers:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    # Plain values: openpyxl gives datetimes a date format itself, and a styled cell per value costs tenfold.
    for row in rows:
        sheet.append(list(row))
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
