"""How a table is written: its encoding, delimiter, decimal mark and line ends.

People save tables the way their tools do: Excel adds a UTF-8 byte-order mark (or writes
UTF-16), European locales separate fields with semicolons and write decimal commas, older
tools write cp1252 or latin-1, classic Mac files end lines with a bare CR. The intake reads
each table in its own dialect (sniffed once, from its first bytes), and the run's data view
shows scripts a standard copy of every table that is not plain UTF-8 with the delimiter its
name promises, so every reader downstream (the agent's split and scoring, the offline
engineer, a real model's ``pd.read_csv``) reads it the same way.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

DELIMITERS = (",", ";", "\t", "|")
NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
TAB_SUFFIXES = (".tsv", ".tab")
CONVERTED_FORMATS = ("parquet", "excel")  # always shown to scripts as CSV
SNIFF_LINES = 50
# A number written with a decimal comma: 1,5  -0,25  1.234,5 (dots group thousands)
COMMA_NUMBER = re.compile(r"^[+-]?(\d+|\d{1,3}(\.\d{3})+)(,\d+)?([eE][+-]?\d+)?$")
GROUPED = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
# Control bytes other than tab, LF, CR: text tables have none; random or binary data ~11%.
CONTROL_BYTES = frozenset(range(32)) - {9, 10, 13}
BINARY_SHARE = 0.01


class NotText(ValueError):
    """A file named like a table whose bytes are not text in any encoding."""


@dataclass(frozen=True)
class Dialect:
    """The facts pandas needs to read a delimited table as its writer meant it."""

    encoding: str = "utf-8"  # "utf-8", "utf-8-sig" (a BOM), "utf-16", "cp1252", "latin-1"
    delimiter: str = ","
    decimal: str = "."
    thousands: str | None = None
    line_end: str = "\n"  # "\n", "\r\n" or "\r"
    format: str = "csv"  # "csv" (any delimiter), "parquet" or "excel"
    missing: tuple[str, ...] = ()  # cells meaning "no value" beyond pandas' defaults: UCI's "?"

    @property
    def bom(self) -> bool:
        return self.encoding in ("utf-8-sig", "utf-16")

    def read_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``pandas.read_csv``."""
        kwargs: dict[str, Any] = {"sep": self.delimiter, "encoding": self.encoding, "decimal": self.decimal,
                                  "encoding_errors": "replace"}
        if self.thousands:
            kwargs["thousands"] = self.thousands
        if self.missing:
            kwargs["na_values"] = list(self.missing)
        return kwargs

    def standard(self, name: str) -> bool:
        """Whether scripts can read the file as it is: UTF-8 without a BOM, the delimiter its
        name promises (tab for .tsv, comma otherwise), decimal points, LF or CRLF line ends."""
        if self.format in CONVERTED_FORMATS:
            return False
        expected = "\t" if _tab_named(name) else ","
        return (self.encoding == "utf-8" and self.delimiter == expected and self.decimal == "."
                and self.line_end != "\r" and not self.missing)

    def describe(self) -> str:
        """A few words for people and prompts: 'semicolon-separated, decimal comma, cp1252'."""
        if self.format == "parquet":
            return "Parquet"
        if self.format == "excel":
            return "an Excel workbook (first sheet)"
        parts = [f"{NAMES.get(self.delimiter, repr(self.delimiter))}-separated"]
        if self.decimal == ",":
            parts.append("decimal comma" + (" with '.' grouping thousands" if self.thousands else ""))
        parts.append({"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with a byte-order mark", "utf-16": "UTF-16"}
                     .get(self.encoding, self.encoding))
        if self.line_end != "\n":
            parts.append({"\r\n": "CRLF line ends", "\r": "CR line ends"}[self.line_end])
        if self.missing:
            parts.append(" and ".join(f"'{m}'" for m in self.missing) + " for a missing value")
        return ", ".join(parts)


def _tab_named(name: str) -> bool:
    path = PurePosixPath(name.lower())
    return path.suffix in TAB_SUFFIXES or PurePosixPath(path.stem).suffix in TAB_SUFFIXES


def shown_name(name: str, dialect: Dialect | None) -> str:
    """The name scripts see a table under: compression dropped, non-CSV formats as ``.csv``."""
    low = name.lower()
    for suffix in (".zip", ".gz", ".bz2", ".xz"):
        if low.endswith(suffix):
            name, low = name[: -len(suffix)], low[: -len(suffix)]
            break
    if dialect is not None and dialect.format in CONVERTED_FORMATS:
        return str(PurePosixPath(name).with_suffix(".csv"))
    return name


# -- sniffing ----------------------------------------------------------------------------------

def sniff_encoding(head: bytes) -> str:
    """The encoding of a text file, from its first bytes: a BOM, else UTF-8 if it decodes,
    else cp1252 (Windows' Western default, a superset of latin-1's printable range), else latin-1."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:  # a multi-byte character cut by the end of the sample is not an error
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _line_end(text: str) -> str:
    if "\r\n" in text:
        return "\r\n"
    if "\r" in text and "\n" not in text:
        return "\r"
    return "\n"


def _rows(text: str, delimiter: str, limit: int = SNIFF_LINES) -> list[list[str]]:
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows = []
        for row in reader:
            if row:
                rows.append(row)
            if len(rows) >= limit:
                break
        if len(rows) < limit and rows and not text.endswith(("\n", "\r")):
            rows.pop()  # the last row may be cut by the end of the sample
        return rows
    except csv.Error:
        return []


def sniff_delimiter(text: str, name: str) -> str:
    """The delimiter that splits the first rows into the same number (> 1) of fields; the most
    fields wins. A .tsv/.tab file is tab-separated when its header has a tab."""
    first = text.splitlines()[0] if text.strip() else ""
    if _tab_named(name) and "\t" in first:
        return "\t"
    best, best_fields = None, 1
    for delimiter in DELIMITERS:
        if delimiter not in first:
            continue
        rows = _rows(text, delimiter)
        widths = {len(r) for r in rows}
        if rows and len(widths) == 1 and widths.pop() > best_fields:
            best, best_fields = delimiter, len(rows[0])
    if best is not None:
        return best
    counts = {d: first.count(d) for d in DELIMITERS}  # ragged rows: the header decides
    top = max(counts, key=lambda d: counts[d])
    return top if counts[top] else ("\t" if _tab_named(name) else ",")


def sniff_decimal(text: str, delimiter: str) -> tuple[str, str | None]:
    """(decimal mark, thousands separator): a comma where some column holds only numbers
    written with decimal commas. Only a file not separated by commas can hold them unquoted."""
    if delimiter == ",":
        return ".", None
    rows = _rows(text, delimiter)
    if len(rows) < 2:
        return ".", None
    width = len(rows[0])
    columns = [[r[i].strip() for r in rows[1:] if i < len(r) and r[i].strip()] for i in range(width)]
    comma = grouped = False
    for values in columns:
        if values and all(COMMA_NUMBER.match(v) for v in values):
            has_comma = any("," in v for v in values)
            comma = comma or has_comma
            grouped = grouped or (has_comma and any(GROUPED.match(v) for v in values))
        elif any(re.match(r"^[+-]?\d+\.\d+$", v) for v in values):
            return ".", None  # decimal points elsewhere in the file: commas are not decimals
    return ("," if comma else "."), ("." if comma and grouped else None)


def sniff_missing(text: str, delimiter: str) -> tuple[str, ...]:
    """Missing-value markers pandas does not know: a cell that is only "?" (UCI's convention)."""
    sep = re.escape(delimiter)
    marker = re.compile(rf"(^|{sep})[ \t]*\?[ \t]*(?={sep}|\r?$)", re.M)
    return ("?",) if marker.search(text) else ()


def looks_binary(head: bytes, encoding: str) -> bool:
    """Bytes that no tool saved as text: not UTF-8 (or UTF-16 with its BOM) and full of
    control bytes. A cp1252 or latin-1 file has letters above 0x7f but no control bytes."""
    if encoding in ("utf-8", "utf-8-sig", "utf-16"):
        return False
    sample = head[:65536]
    return b"\0" in sample or sum(b in CONTROL_BYTES for b in sample) > BINARY_SHARE * max(len(sample), 1)


def sniff(head: bytes, name: str) -> Dialect:
    """The dialect of a delimited table from its first bytes (a few MB is plenty); NotText
    when the bytes are binary (a damaged download, a file saved under the wrong name)."""
    encoding = sniff_encoding(head)
    if looks_binary(head, encoding):
        raise NotText("binary data, not a text table (damaged, or not saved as text)")
    codec = "utf-16" if encoding == "utf-16" else encoding
    text = codecs.getincrementaldecoder(codec)(errors="replace").decode(head, final=False)
    text = text.lstrip("\ufeff")
    delimiter = sniff_delimiter(text, name)
    decimal, thousands = sniff_decimal(text, delimiter)
    return Dialect(encoding=encoding, delimiter=delimiter, decimal=decimal, thousands=thousands,
                   line_end=_line_end(text[:65536]), missing=sniff_missing(text, delimiter))
