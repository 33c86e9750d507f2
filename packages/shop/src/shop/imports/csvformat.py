"""The catalogue CSV: one row per variant; rows sharing a ``slug`` make one product.

Columns (header row required, any order): ``slug``, ``name``, ``sku`` are required;
``description``, ``category`` (a category slug), ``attributes`` and ``variant_attributes``
(``key=value;key=value``, whole numbers read as numbers), ``variant_name``, ``weight_grams``,
``published`` (``true``/``false``) and one ``price_<channel>`` column per sales channel (minor
units; empty: not sold there) are optional. The product's fields come from its first row;
later rows of the same product leave them empty or repeat them.

This module is pure (no database): :func:`parse` turns text into checked product groups and
rejected lines, each line either in one accepted group or in the rejects with its reason.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from forgekit.csv_export import FORMULA_PREFIXES
from forgekit.errors import Unprocessable
from shop.catalogue.schemas import ProductCreate, VariantCreate

REQUIRED = ("slug", "name", "sku")
PRODUCT_FIELDS = ("name", "description", "category", "attributes", "published")
VARIANT_FIELDS = ("sku", "variant_name", "weight_grams", "variant_attributes")
OPTIONAL = ("description", "category", "attributes", "variant_name", "weight_grams",
            "variant_attributes", "published")  # fmt: skip
PRICE_PREFIX = "price_"
COLUMNS = ("slug", "name", "description", "category", "attributes", "published", "sku",
           "variant_name", "weight_grams", "variant_attributes")  # fmt: skip
#: Longest cell: a description may be long, nothing else needs more.
MAX_CELL = 20_000
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}
#: First characters that make a spreadsheet run a cell as a formula.
_FORMULA = FORMULA_PREFIXES


class RowError(ValueError):
    """A row that cannot be imported, with the reason shown in the report."""


@dataclass
class Group:
    """One product to create: its first line, its fields and its variants' lines."""

    line: int
    product: ProductCreate
    category: str | None
    published: bool
    lines: list[int] = field(default_factory=list)


@dataclass
class Parsed:
    """What a file holds: products to create and rejected lines (``line`` counts the header
    as line 1, as a spreadsheet shows it)."""

    groups: list[Group]
    rejects: dict[int, str]
    total: int
    channels: list[str]


def check_header(header: list[str] | None) -> list[str]:
    """The file's channel codes; 422 for a header that lacks a column or names an unknown
    one (nothing is queued then)."""
    if not header:
        raise Unprocessable("The CSV file is empty (a header row is required).")
    names = [h.strip() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise Unprocessable(f"The header lacks the column(s): {', '.join(missing)}.")
    if len(set(names)) != len(names):
        raise Unprocessable("A column appears twice in the header.")
    unknown = [n for n in names if n not in (*REQUIRED, *OPTIONAL)
               and not n.startswith(PRICE_PREFIX)]  # fmt: skip
    if unknown:
        raise Unprocessable(f"Unknown column(s): {', '.join(unknown)}.")
    return [n[len(PRICE_PREFIX) :] for n in names if n.startswith(PRICE_PREFIX)]


def decode(data: bytes) -> str:
    """The file as text (UTF-8, with or without BOM); 422 otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unprocessable("The CSV file is not UTF-8 text.") from None


def read_header(text: str) -> list[str]:
    """The channel codes named by the header of ``text`` (see :func:`check_header`)."""
    try:
        return check_header(next(csv.reader(io.StringIO(text)), None))
    except csv.Error as exc:
        raise Unprocessable(f"The CSV header is malformed: {exc}.") from None


def _pairs(cell: str, column: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in cell.split(";"))):
        key, sep, value = part.partition("=")
        if not sep:
            raise RowError(f"{column}: {part!r} is not key=value")
        value = value.strip()
        out[key.strip()] = int(value) if value.isdigit() and len(value) < 16 else value
    return out


def _flag(cell: str) -> bool:
    value = cell.strip().lower()
    if value not in _TRUE | _FALSE:
        raise RowError(f"published: {cell!r} is not true or false")
    return value in _TRUE


def _prices(row: dict[str, str], channels: list[str]) -> dict[str, int]:
    prices = {}
    for code in channels:
        cell = row.get(PRICE_PREFIX + code, "").strip()
        if cell:
            if not cell.isdigit() or len(cell) > 13:
                raise RowError(f"price_{code}: {cell!r} is not a whole number of minor units")
            prices[code] = int(cell)
    return prices


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "row"
    return f"{where}: {err['msg']}"


def _variant(row: dict[str, str], channels: list[str]) -> VariantCreate:
    weight = row.get("weight_grams", "").strip() or "0"
    if not weight.isdigit() or len(weight) > 9:
        raise RowError(f"weight_grams: {weight!r} is not a whole number")
    try:
        return VariantCreate(
            sku=row["sku"].strip(), name=row.get("variant_name", "").strip(),
            attributes=_pairs(row.get("variant_attributes", ""), "variant_attributes"),
            weight_grams=int(weight), prices=_prices(row, channels),
        )  # fmt: skip
    except ValidationError as exc:
        raise RowError(_first_error(exc)) from None


def _product(row: dict[str, str]) -> ProductCreate:
    try:
        return ProductCreate(
            slug=row["slug"].strip(), name=row["name"],
            description=row.get("description", ""),
            attributes=_pairs(row.get("attributes", ""), "attributes"),
        )  # fmt: skip
    except ValidationError as exc:
        raise RowError(_first_error(exc)) from None


def _row_cells(row: dict[str | Any, Any]) -> dict[str, str]:
    """The row's cells; a row with more cells than the header, or a huge cell, is refused."""
    if None in row:
        raise RowError("more cells than columns")
    # A quote before a formula character is the export's neutralisation: undo it.
    cells = {k: (v[1:] if v[:1] == "'" and v[1:2] in _FORMULA else v) if isinstance(v, str)
             else "" for k, v in row.items()}  # fmt: skip
    if any(len(v) > MAX_CELL for v in cells.values()):
        raise RowError(f"a cell is longer than {MAX_CELL} characters")
    if "\x00" in "".join(cells.values()):
        raise RowError("a cell holds a NUL character")
    return cells


class _Collector:
    def __init__(self, channels: list[str]) -> None:
        self.channels = channels
        self.groups: dict[str, Group] = {}
        self.rejects: dict[int, str] = {}
        self.skus: dict[str, int] = {}
        #: slug -> first rejected line of that product.
        self.bad: dict[str, int] = {}

    def add(self, line: int, raw: dict[str | Any, Any]) -> None:
        try:
            self._add(line, _row_cells(raw))
        except RowError as exc:
            self.rejects[line] = str(exc)
            slug = raw.get("slug")
            if isinstance(slug, str):
                self.bad.setdefault(slug.strip(), line)

    def _add(self, line: int, row: dict[str, str]) -> None:
        variant = _variant(row, self.channels)
        if variant.sku in self.skus:
            raise RowError(f"SKU {variant.sku!r} is already on line {self.skus[variant.sku]}")
        slug = row["slug"].strip()
        group = self.groups.get(slug)
        if group is None:
            product = _product(row)
            category = row.get("category", "").strip() or None
            group = Group(line, product, category, _flag(row.get("published", "")))
            self.groups[slug] = group
        elif any(row.get(f, "").strip() and row.get(f, "").strip() != self._first(group, f)
                 for f in ("name", "category")):  # fmt: skip
            raise RowError(f"product fields differ from line {group.line} of {slug!r}")
        group.product.variants.append(variant)
        group.lines.append(line)
        self.skus[variant.sku] = line

    @staticmethod
    def _first(group: Group, column: str) -> str:
        return group.product.name if column == "name" else (group.category or "")


def reject_group(parsed: Parsed, group: Group, reason: str) -> None:
    """Reject every line of ``group``: a product is imported whole or not at all."""
    for line in group.lines:
        parsed.rejects.setdefault(line, reason)
    parsed.groups.remove(group)


def parse(text: str, max_rows: int) -> Parsed:
    """Check every row of ``text`` (header already accepted by :func:`read_header`)."""
    channels = read_header(text)
    reader = csv.DictReader(io.StringIO(text), restkey=None)
    reader.fieldnames = [f.strip() for f in (reader.fieldnames or [])]
    collector = _Collector(channels)
    total = 0
    try:
        for raw in reader:
            total += 1
            if total > max_rows:
                raise Unprocessable(f"A file may hold at most {max_rows} rows.")
            # The reader's line number counts physical lines (quoted newlines included).
            collector.add(reader.line_num, raw)
    except csv.Error as exc:
        raise Unprocessable(f"The CSV is malformed near line {reader.line_num}: {exc}.") from None
    parsed = Parsed(list(collector.groups.values()), collector.rejects, total, channels)
    for group in list(parsed.groups):
        slug = group.product.slug
        if slug in collector.bad:
            reject_group(parsed, group, f"line {collector.bad[slug]} of product {slug!r} "
                                        "was rejected")  # fmt: skip
    return parsed


def count_rows(text: str, max_rows: int) -> int:
    """Data rows of ``text`` after a valid header; 422 when malformed or past ``max_rows``
    (the upload's quick check, before a job is queued)."""
    read_header(text)
    reader = csv.reader(io.StringIO(text))
    try:
        rows = sum(1 for _ in reader) - 1
    except csv.Error as exc:
        raise Unprocessable(f"The CSV is malformed near line {reader.line_num}: {exc}.") from None
    if rows > max_rows:
        raise Unprocessable(f"A file may hold at most {max_rows} rows; this one has {rows}.")
    return rows


