"""A way out: the whole workspace as one readable workbook, and back.

``export_all`` writes every table (products, KPIs with their definitions,
measurements, targets, goals, check-ins, annotations, reviews, imports, ...)
as a sheet whose first row holds the column names, plus an *About* sheet
with the schema version, the row count and a per-table checksum.
``import_all`` loads such a workbook into an empty workspace; the result is
identical to the exported database by per-table checksums
(``integrity.table_checksums``: every row, id, value and SQLite type).

Cells stay readable (numbers are numbers, yes/no columns are TRUE/FALSE,
dates and times are ISO text). The few values a spreadsheet cell cannot carry
exactly — floats needing 17 significant digits, integers beyond 2^53, an
empty string where NULL is also allowed, text with control characters or
carriage returns — keep a readable cell and are also listed on the hidden
``_exact`` sheet (table, row, column, type, exact text), which import
prefers. Nothing else is hidden: a person can read, filter and reuse every
sheet with any spreadsheet program.

GUI: File → Export everything… calls ``export_all(workspace.db, path,
progress)`` in a worker; File → Import everything… (into a new workspace)
calls ``import_all``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpidesk.errors import DatabaseError, ValidationError
from kpidesk.progress import Progress, check_cancelled
from kpidesk.storage.atomic import atomic_path
from kpidesk.storage.db import Database
from kpidesk.storage.integrity import read_only_connection, table_checksums

ABOUT_SHEET = "About"
EXACT_SHEET = "_exact"
MAX_ROWS_PER_SHEET = 1_048_575  # Excel's limit minus the header row
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_OOXML_ESCAPE = re.compile(r"_x[0-9A-Fa-f]{4}_")
_MAX_EXACT_INT = 2**53


@dataclass(frozen=True)
class Column:
    name: str
    declared: str
    not_null: bool

    @property
    def affinity(self) -> str:
        """SQLite's column affinity from the declared type (https://sqlite.org/datatype3.html §3.1)."""
        t = self.declared.upper()
        if "INT" in t:
            return "INTEGER"
        if any(k in t for k in ("CHAR", "CLOB", "TEXT")):
            return "TEXT"
        if not t or "BLOB" in t:
            return "BLOB"
        if any(k in t for k in ("REAL", "FLOA", "DOUB")):
            return "REAL"
        return "NUMERIC"

    @property
    def boolean(self) -> bool:
        return self.declared.upper() == "BOOLEAN"


@dataclass
class ExportSummary:
    path: Path
    rows: dict[str, int]
    checksums: dict[str, str]

    @property
    def message(self) -> str:
        total = sum(self.rows.values())
        return f"Exported {total:,} rows from {len(self.rows)} tables to {self.path.name}."


@dataclass
class ImportSummary:
    rows: dict[str, int]
    mismatched: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.mismatched

    @property
    def message(self) -> str:
        total = sum(self.rows.values())
        check = ("identical to the exported workspace (per-table checksums match)" if self.identical else
                 f"different from the export in: {', '.join(self.mismatched)}")
        return f"Imported {total:,} rows into {len(self.rows)} tables; the result is {check}."


# -- schema helpers ---------------------------------------------------------------
def _tables(conn: sqlite3.Connection) -> list[str]:
    """User tables, parents before children (foreign keys), then by name."""
    names = sorted(r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
    parents = {t: {str(r[2]) for r in conn.execute(f'PRAGMA foreign_key_list("{t}")')} - {t} for t in names}
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [t for t in names if t not in ordered and parents[t] <= set(ordered)]
        if not ready:  # a cycle: the rest in name order (foreign keys are checked at commit anyway)
            ready = [t for t in names if t not in ordered]
        ordered.extend(ready)
    return ordered


def _columns(conn: sqlite3.Connection, table: str) -> list[Column]:
    return [Column(str(r[1]), str(r[2] or ""), bool(r[3])) for r in conn.execute(f'PRAGMA table_info("{table}")')]


# -- cell codec ----------------------------------------------------------------------
def _encode(value: Any, column: Column) -> tuple[Any, tuple[str, str] | None]:
    """(readable cell value, exact (type, text) when the cell alone cannot carry the value)."""
    if value is None:
        return None, None
    if isinstance(value, bytes):
        import base64

        return f"<binary, {len(value)} bytes>", ("blob", base64.b64encode(value).decode("ascii"))
    if isinstance(value, int):
        if column.boolean and value in (0, 1):
            return bool(value), None
        if abs(value) <= _MAX_EXACT_INT:
            return value, None
        return str(value), ("int", str(value))
    if isinstance(value, float):
        # openpyxl writes '%.16g'; an integral float reads back as an int, which only REAL affinity turns back
        exact = (math.isfinite(value) and float(f"{value:.16g}") == value and not (value == 0 and
                 math.copysign(1.0, value) < 0) and (column.affinity == "REAL" or not value.is_integer()))
        if exact:
            return value, None
        # the cell keeps a (rounded) number people can compute with; _exact keeps every digit
        return (value if math.isfinite(value) else repr(value)), ("float", repr(value))
    text = str(value)
    if text == "":
        return None, (None if column.not_null else ("str", ""))
    if _ILLEGAL.search(text) or "\r" in text or _OOXML_ESCAPE.search(text):
        return _ILLEGAL.sub("\N{REPLACEMENT CHARACTER}", text), ("str", json.dumps(text))
    return text, None


def _decode_exact(kind: str, text: str) -> Any:
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "blob":
        import base64

        return base64.b64decode(text)
    return json.loads(text) if text else ""


def _decode(value: Any, column: Column) -> Any:
    if value is None:
        return "" if column.not_null else None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.datetime):  # only if someone typed a date into the sheet
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# -- export -------------------------------------------------------------------------
def export_all(db: Database | Path, out: str | Path, progress: Progress | None = None) -> ExportSummary:
    """Write every table of the workspace to ``out`` (.xlsx), atomically."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    path = db if isinstance(db, Path) else db.path
    if path is None:
        raise DatabaseError("export-all works on a workspace file; back up a team workspace with pg_dump.")
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise ValidationError(f"{out.name}: the full export is an Excel workbook; give a name ending in .xlsx.")
    conn = read_only_connection(path)
    try:
        tables = _tables(conn)
        checksums = table_checksums(conn)
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        wb = Workbook(write_only=True)
        about = wb.create_sheet(ABOUT_SHEET)
        exact_rows: list[list[Any]] = []
        rows_by_table: dict[str, int] = {}
        sheets_by_table: dict[str, list[str]] = {}
        bold = Font(bold=True)
        for index, table in enumerate(tables):
            check_cancelled(progress)
            if progress is not None:
                progress.report(index / max(len(tables), 1), f"Exporting {table}…")
            columns = _columns(conn, table)
            names = [c.name for c in columns]
            sheet = None
            count = 0
            quoted = ", ".join(f'"{n}"' for n in names)
            for row in conn.execute(f'SELECT {quoted} FROM "{table}" ORDER BY rowid'):
                if sheet is None or count % MAX_ROWS_PER_SHEET == 0:
                    title = table[:28] if count == 0 else f"{table[:25]}.{count // MAX_ROWS_PER_SHEET + 1}"
                    sheet = wb.create_sheet(title)
                    sheet.freeze_panes = "A2"
                    sheets_by_table.setdefault(table, []).append(title)
                    header = []
                    for n in names:
                        cell = WriteOnlyCell(sheet, value=n)
                        cell.font = bold
                        header.append(cell)
                    sheet.append(header)
                count += 1
                cells: list[Any] = []
                for column, value in zip(columns, row, strict=True):
                    cell_value, exact = _encode(value, column)
                    if exact is not None:
                        exact_rows.append([table, count, column.name, exact[0], exact[1]])
                    if isinstance(cell_value, str) and cell_value.startswith("="):
                        text_cell = WriteOnlyCell(sheet, value=cell_value)
                        text_cell.data_type = "s"  # text, never a formula
                        cell_value = text_cell
                    cells.append(cell_value)
                sheet.append(cells)
            if sheet is None:  # an empty table still gets its sheet with the column names
                sheet = wb.create_sheet(table[:28])
                sheet.append(names)
                sheets_by_table[table] = [table[:28]]
            rows_by_table[table] = count
        about.append(["kpidesk workspace export"])
        about.append(["file", path.name])
        about.append(["exported at", dt.datetime.now().isoformat(timespec="seconds")])
        about.append(["schema version", version])
        about.append(["how to use", "Each table is a sheet; the first row names the columns. "
                                    "`kpidesk import-all` loads this workbook into an empty workspace."])
        about.append([])
        about.append(["table", "rows", "sheets", "sha256 of the rows"])
        for table in tables:
            about.append([table, rows_by_table[table], ", ".join(sheets_by_table[table]), checksums[table]])
        exact_sheet = wb.create_sheet(EXACT_SHEET)
        exact_sheet.sheet_state = "hidden"
        exact_sheet.append(["table", "row", "column", "type", "exact value"])
        for exact_row in exact_rows:
            exact_sheet.append(exact_row)
        with atomic_path(out, what=f"Exporting everything to {out.name}") as tmp:
            wb.save(tmp)
    finally:
        conn.close()
    if progress is not None:
        progress.report(1.0, "Export done")
    return ExportSummary(out, rows_by_table, checksums)


# -- import -------------------------------------------------------------------------
def _read_about(wb: Any, name: str) -> tuple[int, dict[str, tuple[list[str], str]]]:
    if ABOUT_SHEET not in wb.sheetnames:
        raise ValidationError(f"{name} is not a kpidesk full export: it has no '{ABOUT_SHEET}' sheet.")
    version = 0
    tables: dict[str, tuple[list[str], str]] = {}
    in_tables = False
    for row in wb[ABOUT_SHEET].iter_rows(values_only=True):
        cells = list(row) + [None] * 4
        if cells[0] == "schema version":
            version = int(cells[1])
        elif cells[0] == "table" and cells[1] == "rows":
            in_tables = True
        elif in_tables and cells[0]:
            tables[str(cells[0])] = ([s.strip() for s in str(cells[2] or "").split(",") if s.strip()],
                                     str(cells[3] or ""))
    if not tables:
        raise ValidationError(f"{name}: the '{ABOUT_SHEET}' sheet lists no tables; it is not a kpidesk full export.")
    return version, tables


def import_all(db: Database, workbook: str | Path, progress: Progress | None = None) -> ImportSummary:
    """Load a workbook made by :func:`export_all` into an empty workspace, in one transaction."""
    from openpyxl import load_workbook

    db.require_writable()
    workbook = Path(workbook)
    if not workbook.is_file():
        raise ValidationError(f"{workbook} does not exist.")
    try:
        wb = load_workbook(workbook, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise ValidationError(f"{workbook.name} cannot be read as an Excel workbook ({exc}).") from exc
    try:
        version, listed = _read_about(wb, workbook.name)
        exact: dict[tuple[str, int, str], Any] = {}
        if EXACT_SHEET in wb.sheetnames:
            for n, row in enumerate(wb[EXACT_SHEET].iter_rows(min_row=2, values_only=True), start=2):
                table, row_no, column, kind, text = (list(row) + [None] * 5)[:5]
                if table is None:
                    continue
                try:
                    exact[(str(table), int(row_no), str(column))] = _decode_exact(str(kind), str(text or ""))
                except (ValueError, TypeError) as exc:
                    raise ValidationError(f"{workbook.name}, sheet {EXACT_SHEET}, row {n}: unreadable value "
                                          f"({exc}).") from exc
        with db.raw(write=True) as dbapi:
            target_version = int(dbapi.execute("PRAGMA user_version").fetchone()[0])
            if version != target_version:
                raise ValidationError(f"{workbook.name} was exported from schema version {version}; this workspace "
                                      f"has version {target_version}. Open the export with the matching kpidesk.")
            present = _tables(dbapi)
            busy = [t for t in present if dbapi.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone()]
            if busy:
                raise ValidationError(f"{db.display_name} is not empty ({', '.join(busy)} have rows); import the "
                                      "full export into a new workspace (kpidesk import-all --db new.db).")
            dbapi.execute("PRAGMA defer_foreign_keys = ON")  # tables refer to each other; checked at commit
            rows_by_table: dict[str, int] = {}
            ordered = [t for t in present if t in listed] + [t for t in listed if t not in present]
            for index, table in enumerate(ordered):
                check_cancelled(progress)
                if progress is not None:
                    progress.report(index / max(len(ordered), 1), f"Importing {table}…")
                if table not in present:
                    raise ValidationError(f"{workbook.name}: table '{table}' does not exist in this version of "
                                          "kpidesk.")
                rows_by_table[table] = _import_table(dbapi, wb, workbook.name, table, listed[table][0], exact)
            try:
                mismatched = [t for t, digest in table_checksums(dbapi).items()
                              if t in listed and listed[t][1] and listed[t][1] != digest]
            except sqlite3.Error:
                mismatched = []
            fk_problems = dbapi.execute("PRAGMA foreign_key_check").fetchall()
            if fk_problems:
                table, rowid, parent, _ = fk_problems[0]
                raise ValidationError(f"{workbook.name}: {len(fk_problems)} row(s) refer to rows that are not in "
                                      f"the workbook (first: sheet {table}, id {rowid} → {parent}); nothing was "
                                      "imported.")
    finally:
        wb.close()
    if progress is not None:
        progress.report(1.0, "Import done")
    return ImportSummary(rows_by_table, mismatched)


def _import_table(dbapi: Any, wb: Any, name: str, table: str, sheets: list[str],
                  exact: dict[tuple[str, int, str], Any]) -> int:
    columns = {c.name: c for c in _columns(dbapi, table)}
    count = 0
    for sheet_name in sheets or [table]:
        if sheet_name not in wb.sheetnames:
            raise ValidationError(f"{name}: sheet '{sheet_name}' (table {table}) is missing.")
        rows = wb[sheet_name].iter_rows(values_only=True)
        header = [str(h) if h is not None else "" for h in next(rows, ())]
        while header and header[-1] == "":
            header.pop()
        unknown = [h for h in header if h not in columns]
        if unknown:
            raise ValidationError(f"{name}, sheet {sheet_name}: column '{unknown[0]}' is not a column of {table}.")
        cols = [columns[h] for h in header]
        sql = (f'INSERT INTO "{table}" ({", ".join(chr(34) + c.name + chr(34) for c in cols)}) '
               f'VALUES ({", ".join("?" * len(cols))})')
        batch: list[list[Any]] = []
        for row in rows:
            cells = list(row[: len(cols)]) + [None] * max(0, len(cols) - len(row))
            if all(c is None for c in cells) and not any(
                    (table, count + 1, c.name) in exact for c in cols):
                continue  # a blank line someone left in the sheet
            count += 1
            batch.append([exact[(table, count, c.name)] if (table, count, c.name) in exact else _decode(v, c)
                          for c, v in zip(cols, cells, strict=True)])
            if len(batch) >= 5000:
                _insert(dbapi, sql, batch, name, sheet_name)
                batch = []
        _insert(dbapi, sql, batch, name, sheet_name)
    return count


def _insert(dbapi: Any, sql: str, batch: list[list[Any]], name: str, sheet: str) -> None:
    if not batch:
        return
    try:
        dbapi.executemany(sql, batch)
    except sqlite3.IntegrityError as exc:
        raise ValidationError(f"{name}, sheet {sheet}: a row breaks a rule of the database ({exc}); nothing was "
                              "imported.") from exc
