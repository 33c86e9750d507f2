"""An invoice as a one-or-more-page A4 PDF (fpdf2), from plain data: no database here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

#: (SKU, description, quantity, unit price, line amount), money in minor units.
Line = tuple[str, str, int, int, int]


@dataclass(frozen=True)
class InvoiceData:
    """What an invoice shows (money in minor units of ``currency``)."""

    number: str
    issued: date
    order_ref: str
    issuer: list[str]
    bill_to: list[str]
    currency: str
    lines: list[Line]
    subtotal: int
    discount: int
    shipping: int
    tax: int
    total: int
    notes: list[str] = field(default_factory=list)


def amount(minor: int, currency: str) -> str:
    """Minor units as ``12.34 EUR`` (the shop's currencies all have cents)."""
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    return f"{sign}{minor // 100}.{minor % 100:02d} {currency.upper()}"


class _Writer:
    """Text in the embedded Unicode font when one is configured and present, else in the
    PDF core Helvetica (Latin-1 only: other characters become ``?``)."""

    def __init__(self, font: Path | None) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.add_page()
        self.unicode = font is not None and font.is_file()
        if self.unicode and font is not None:
            self.pdf.add_font("body", "", str(font))
            self.family = "body"
        else:
            self.family = "Helvetica"

    def text(self, value: str) -> str:
        return value if self.unicode else value.encode("latin-1", "replace").decode("latin-1")

    def line(self, value: str, size: float = 10, height: float = 5) -> None:
        self.pdf.set_font(self.family, size=size)
        self.pdf.cell(0, height, self.text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def row(self, cells: list[tuple[str, float, str]], size: float = 9) -> None:
        """One table row: (text, width in mm, alignment) per cell."""
        self.pdf.set_font(self.family, size=size)
        for value, width, align in cells:
            self.pdf.cell(width, 6, self.text(value), border="B", align=align)
        self.pdf.ln(6)


_COLUMNS = (("SKU", 30.0, "L"), ("Item", 80.0, "L"), ("Qty", 15.0, "R"),
            ("Unit price", 30.0, "R"), ("Amount", 30.0, "R"))  # fmt: skip


def render(data: InvoiceData, font: Path | None = None) -> bytes:
    """The invoice PDF's bytes."""
    out = _Writer(font)
    out.line(f"Invoice {data.number}", size=16, height=9)
    out.line(f"Date: {data.issued.isoformat()}    Order: {data.order_ref}")
    out.pdf.ln(3)
    for heading, block in (("From", data.issuer), ("Bill to", data.bill_to)):
        out.line(heading, size=9)
        for text in block:
            out.line(text)
        out.pdf.ln(2)
    out.row([(name, width, align) for name, width, align in _COLUMNS])
    for sku, name, quantity, unit, line_total in data.lines:
        values = (sku, name[:60], str(quantity), amount(unit, data.currency),
                  amount(line_total, data.currency))  # fmt: skip
        out.row([(v, w, a) for v, (_, w, a) in zip(values, _COLUMNS, strict=True)])
    out.pdf.ln(2)
    for label, value in _totals(data):
        out.row([(label, 155.0, "R"), (amount(value, data.currency), 30.0, "R")], size=10)
    for note in data.notes:
        out.line(note, size=8)
    return bytes(out.pdf.output())


def _totals(data: InvoiceData) -> list[tuple[str, int]]:
    rows = [("Subtotal", data.subtotal)]
    if data.discount:
        rows.append(("Discount", -data.discount))
    rows += [("Shipping", data.shipping), ("Tax", data.tax), ("Total", data.total)]
    return rows
