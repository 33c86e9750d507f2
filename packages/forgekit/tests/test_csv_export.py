"""CSV downloads: formula cells neutralised, numbers and times as data, one response shape."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal

from fastapi.responses import StreamingResponse

from forgekit.csv_export import cell, csv_line, csv_response, csv_text


def test_cells_a_spreadsheet_would_run_are_text_and_numbers_stay_numbers() -> None:
    assert [cell(v) for v in ("=1+1", "+33 1", "-x", "@SUM(A1)", "\tx", "\rx")] == [
        "'=1+1", "'+33 1", "'-x", "'@SUM(A1)", "'\tx", "'\rx"
    ]
    assert [cell(v) for v in (-5, -0.5, Decimal("-1.10"), True, None, "plain")] == [
        "-5", "-0.5", "-1.10", "True", "", "plain"
    ]
    when = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    assert cell(when) == "2026-12-03T13:00:00+00:00" and cell(date(2026, 1, 2)) == "2026-01-02"


def test_text_round_trips_through_the_csv_reader() -> None:
    text = csv_text(["name", "note"], [["a,b", 'say "hi"\nthen go'], ["=cmd", 3]])
    assert text.endswith("\r\n") and csv_line(["x"]) == "x\r\n"
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["name", "note"], ["a,b", 'say "hi"\nthen go'], ["'=cmd", "3"]]


async def test_responses_are_attachments_and_iterators_stream() -> None:
    plain = csv_response("a\r\n", "report.csv")
    assert plain.media_type == "text/csv; charset=utf-8" and plain.body == b"a\r\n"
    assert plain.headers["content-disposition"] == 'attachment; filename="report.csv"'

    async def lines() -> AsyncIterator[str]:
        yield "a\r\n"
        yield "b\r\n"

    streamed = csv_response(lines(), "big.csv")
    assert isinstance(streamed, StreamingResponse)
    assert [chunk async for chunk in streamed.body_iterator] == ["a\r\n", "b\r\n"]
