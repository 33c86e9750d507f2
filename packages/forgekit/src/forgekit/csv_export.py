"""CSV downloads for every product: one cell rule, one response shape.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (CSV injection, OWASP), so text cells starting with one get a leading
``'``, which spreadsheets show as text and importers strip again (see
:data:`FORMULA_PREFIXES`). Numbers are data and are written as they are, negative ones too.
The standard library's :mod:`csv` does the quoting; this module only adds the rule and the
HTTP response around it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi import Response
from fastapi.responses import StreamingResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
#: ``responses=`` for a route that answers CSV: documented, so clients (and schemathesis'
#: content-type check) know the media type.
CSV_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}


def cell(value: object) -> str:
    """One cell's text: ISO 8601 times, empty for None, numbers as they are, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool | int | float | Decimal):
        return str(value)
    text = str(value)
    return "'" + text if text[:1] in FORMULA_PREFIXES else text


def csv_line(values: Iterable[object]) -> str:
    """One CSV line (``\\r\\n``-terminated, as RFC 4180 writes it)."""
    out = io.StringIO()
    csv.writer(out).writerow([cell(v) for v in values])
    return out.getvalue()


def csv_text(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """A whole CSV document: the header line, then one line per row."""
    return csv_line(header) + "".join(csv_line(row) for row in rows)


def csv_response(body: str | AsyncIterator[str], filename: str) -> Response:
    """A CSV attachment named ``filename``; an async iterator of lines is streamed."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if isinstance(body, str):
        return Response(body, media_type=CSV_MEDIA_TYPE, headers=headers)
    return StreamingResponse(body, media_type=CSV_MEDIA_TYPE, headers=headers)
