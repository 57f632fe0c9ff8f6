"""Know your own files: header, application id and schema checks, integrity
reports in plain words, and a diagnosis of damaged or foreign files.

Nothing here ever writes to the file it examines. Header checks read the
first 100 bytes; deeper checks of a file that failed to open run on a private
copy in a temporary folder (so not even SQLite's ``-wal``/``-shm`` sidecars
appear next to the damaged file). A healthy open workspace is checked through
its own read connection.

For the GUI (Help → Check database)::

    report = BackupService(workspace.db).check_database()   # in a worker thread
    show(report.ok, report.summary, report.lines)           # plain sentences

and when opening fails, ``DamagedDatabaseError`` carries ``.diagnosis``
(``kind``, ``message``) and ``.backup`` (the newest good ``BackupInfo`` or
None), so the dialog can offer "Restore this backup".
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kpidesk.errors import DatabaseError

if TYPE_CHECKING:
    from kpidesk.storage.backup import BackupInfo

APPLICATION_ID = 0x4B504944  # "KPID"; the same constant as kpidesk.storage.db
SQLITE_HEADER = b"SQLite format 3\x00"

# Application ids other programs register (https://www.sqlite.org/src/artifact?ci=trunk&filename=magic.txt)
KNOWN_APPLICATION_IDS = {
    0x0F055112: "Fossil (checkout)", 0x0F055113: "Fossil (global configuration)",
    0x0F055111: "Fossil (repository)", 0x42654462: "Bentley/iModel", 0x47504B47: "GeoPackage",
    0x47503130: "GeoPackage 1.0", 0x4D504258: "MBTiles",
}

# What each kind of problem is called; tests check that every damaged file gets one of these.
KINDS = ("ok", "missing", "folder", "empty", "not_sqlite", "truncated", "header_damaged", "foreign_app",
         "not_kpidesk", "newer_schema", "zeroed_pages", "damaged", "unreadable")

_NOUNS = {"product": "products", "kpi": "KPIs", "measurement": "values", "goal": "goals", "target": "targets",
          "checkin": "check-ins", "annotation": "annotations", "review": "reviews", "review_item": "review items",
          "objective": "objectives", "import_batch": "imports", "import_overwrite": "import undo records",
          "data_source": "data sources", "rag_threshold": "RAG thresholds", "mapping_profile": "mapping profiles"}
COUNTED_TABLES = {"products": "product", "kpis": "kpi", "measurements": "measurement", "goals": "goal"}


@dataclass(frozen=True)
class Diagnosis:
    """What is wrong with a file (``kind`` is one of ``KINDS``) in one plain message."""

    kind: str
    message: str
    details: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


class DamagedDatabaseError(DatabaseError):
    """The workspace file is damaged or not a kpidesk file; nothing was written to it."""

    def __init__(self, diagnosis: Diagnosis, backup: BackupInfo | None = None, *, backups_folder: Path | None = None
                 ) -> None:
        super().__init__(diagnosis.message + " " + offer_backup(backup, backups_folder),
                         details="\n".join(diagnosis.details) or None)
        self.diagnosis = diagnosis
        self.backup = backup


def offer_backup(backup: BackupInfo | None, backups_folder: Path | None = None) -> str:
    """The sentence that offers the newest good backup (or says there is none)."""
    if backup is None:
        where = f" in {backups_folder}" if backups_folder else ""
        return f"No backup of it was found{where}; the damaged file was left untouched."
    return (f"The newest good backup is from {backup.created:%Y-%m-%d %H:%M} ({backup.counts_text()}): "
            f"restore it with File → Restore from backup… or `kpidesk backup restore {backup.id}`. "
            "The damaged file was left untouched.")


# -- header -------------------------------------------------------------------
def _looks_like(data: bytes) -> str:
    """A guess at what a non-SQLite file is, for the message."""
    if data.startswith(b"PK\x03\x04"):
        return "a ZIP archive (an Excel .xlsx workbook, perhaps)"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Office file (.xls or .doc)"
    if data.startswith(b"%PDF"):
        return "a PDF document"
    if data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "an image"
    if data.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ")):
        return "a compressed archive"
    if not data.strip(b"\x00"):
        return "all zeros"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "binary data of an unknown kind"
    if text.lstrip().startswith(("{", "[")):
        return "a JSON text file"
    if "," in text or ";" in text or "\t" in text:
        return "a text file (CSV or similar)"
    return "a text file"


def inspect_header(path: Path) -> Diagnosis | None:
    """Problems visible in the file's size and first 100 bytes, or None. Reads only."""
    name = path.name
    if not path.exists():
        return Diagnosis("missing", f"{name} does not exist.")
    if path.is_dir():
        return Diagnosis("folder", f"{path} is a folder, not a kpidesk database.")
    size = path.stat().st_size
    if size == 0:
        return Diagnosis("empty", f"{name} is empty (0 bytes): it holds no data. This usually happens when a copy "
                                  "or a sync was interrupted before any data arrived.")
    with path.open("rb") as fh:
        head = fh.read(4096)
    magic = head[:16]
    if magic != SQLITE_HEADER:
        same = sum(a == b for a, b in zip(magic, SQLITE_HEADER, strict=False))
        if len(magic) == 16 and same >= 12:
            return Diagnosis("header_damaged",
                             f"{name} is a damaged SQLite database: {16 - same} byte(s) of its signature "
                             "('SQLite format 3') were changed, so it cannot be read.")
        if len(head) >= 512 and not head.strip(b"\x00"):
            return Diagnosis("zeroed_pages",
                             f"{name} starts with {len(head):,} bytes of zeros where the database header should "
                             "be: part of the file was wiped (a disk or copy failure).")
        if size < 16 and SQLITE_HEADER.startswith(head):
            return Diagnosis("truncated", f"{name} is truncated ({size} bytes): only part of the SQLite "
                                          "header is there.")
        return Diagnosis("not_sqlite", f"{name} is not a SQLite database, so not a kpidesk workspace: it looks "
                                       f"like {_looks_like(head)} that was given a database name.")
    if size < 100:
        return Diagnosis("truncated", f"{name} is truncated ({size} bytes): the 100-byte SQLite header is "
                                      "incomplete.")
    raw_page = int.from_bytes(head[16:18], "big")
    page_size = 65536 if raw_page == 1 else raw_page
    if page_size < 512 or page_size & (page_size - 1):
        return Diagnosis("header_damaged", f"{name} is a damaged SQLite database: its header gives an "
                                           f"impossible page size ({raw_page}).")
    bad_fields = [label for label, ok in (
        ("write version", head[18] in (1, 2)), ("read version", head[19] in (1, 2)),
        ("payload fractions", head[21:24] == b"\x40\x20\x20"), ("schema format", 0 <= head[44 + 3] <= 4),
        ("text encoding", int.from_bytes(head[56:60], "big") in (0, 1, 2, 3)),
    ) if not ok]
    if bad_fields:
        return Diagnosis("header_damaged", f"{name} is a damaged SQLite database: its header is corrupt "
                                           f"(impossible values in: {', '.join(bad_fields)}).")
    header_pages = int.from_bytes(head[28:32], "big")
    counts_valid = head[24:28] == head[92:96] and header_pages > 0
    if size % page_size:
        return Diagnosis("truncated", f"{name} is truncated: it is {size:,} bytes, not a whole number of its "
                                      f"{page_size:,}-byte pages (an interrupted copy or download?).")
    if counts_valid and size < header_pages * page_size:
        missing = header_pages * page_size - size
        return Diagnosis("truncated", f"{name} is truncated: it is {size:,} bytes but its header says "
                                      f"{header_pages * page_size:,}; the last {missing:,} bytes are missing "
                                      "(an interrupted copy or download?).")
    app_id = int.from_bytes(head[68:72], "big")
    if app_id not in (0, APPLICATION_ID):
        known = KNOWN_APPLICATION_IDS.get(app_id)
        ascii_id = app_id.to_bytes(4, "big").decode("latin-1")
        label = known or (f"'{ascii_id}'" if ascii_id.isprintable() and ascii_id.isalnum() else f"{app_id:#x}")
        return Diagnosis("foreign_app", f"{name} is a SQLite database of another application ({label}), not a "
                                        "kpidesk workspace; kpidesk will not change it.")
    return None


def header_check(path: Path, backup_dir: Path | None = None) -> None:
    """Raise ``DamagedDatabaseError`` for a file whose header already shows a problem (missing is fine)."""
    diagnosis = inspect_header(path)
    if diagnosis is not None and diagnosis.kind != "missing":
        raise DamagedDatabaseError(diagnosis, newest_good_backup_for(path, backup_dir), backups_folder=backup_dir)


# -- checks on an open connection ----------------------------------------------
def quick_check(conn: sqlite3.Connection, *, seconds: float = 2.0, max_errors: int = 20) -> tuple[str, list[str]]:
    """``PRAGMA quick_check`` bounded in time: ("ok" | "damaged" | "skipped", problem lines).

    A progress handler interrupts the check after ``seconds``; a check that
    did not finish is "skipped", never reported as damage.
    """
    deadline = time.monotonic() + seconds
    conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
    try:
        rows = [str(r[0]) for r in conn.execute(f"PRAGMA quick_check({int(max_errors)})").fetchall()]
    except sqlite3.OperationalError as exc:
        if "interrupt" in str(exc).lower():
            return "skipped", []
        raise
    finally:
        conn.set_progress_handler(None, 0)
    if rows == ["ok"]:
        return "ok", []
    return "damaged", rows


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows of products, KPIs, measurements and goals (tables that do not exist count 0)."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    result = {}
    for label, table in COUNTED_TABLES.items():
        result[label] = int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]) if table in tables else 0
    return result


def table_checksums(conn: sqlite3.Connection) -> dict[str, str]:
    """A sha256 per user table over its rows in rowid order, each value with its SQLite type.

    Two databases with equal checksums hold the same rows with the same ids,
    types and values (floats by their exact ``repr``); schema text and
    physical layout are not compared.
    """
    result: dict[str, str] = {}
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    for table in names:
        digest = hashlib.sha256()
        columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
        select = ", ".join(f'"{c}", typeof("{c}")' for c in columns)
        try:
            rows = conn.execute(f'SELECT {select} FROM "{table}" ORDER BY rowid')
        except sqlite3.OperationalError:  # WITHOUT ROWID tables
            rows = conn.execute(f'SELECT {select} FROM "{table}" ORDER BY 1')
        for row in rows:
            digest.update(repr(row).encode("utf-8"))
            digest.update(b"\n")
        result[table] = digest.hexdigest()
    return result


@dataclass
class IntegrityReport:
    """The result of ``integrity_check`` + ``foreign_key_check`` in plain words."""

    ok: bool
    summary: str
    lines: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join([self.summary, *(f"  - {line}" for line in self.lines)])


def integrity_report(conn: sqlite3.Connection, *, name: str, latest_schema: int | None = None,
                     max_errors: int = 100, progress: Callable[[float, str], None] | None = None) -> IntegrityReport:
    """Run ``integrity_check`` and ``foreign_key_check`` on an open connection and explain the result."""
    lines: list[str] = []
    raw: list[str] = []
    ok = True
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if app_id == APPLICATION_ID:
        lines.append("It is marked as a kpidesk workspace (application id 'KPID').")
    elif app_id == 0:
        lines.append("It carries no application id (an older kpidesk file, or not a kpidesk file).")
    else:
        ok = False
        lines.append(f"It is marked as a file of another application (application id {app_id:#x}).")
    if latest_schema is not None:
        if version > latest_schema:
            ok = False
            lines.append(f"Its schema version {version} is newer than this kpidesk ({latest_schema}); update kpidesk.")
        elif version < latest_schema:
            lines.append(f"Its schema version {version} will be upgraded to {latest_schema} when opened for editing.")
        else:
            lines.append(f"Its schema version {version} is current.")
    if progress:
        progress(0.1, "Checking the file structure…")
    try:
        problems = [str(r[0]) for r in conn.execute(f"PRAGMA integrity_check({int(max_errors)})").fetchall()]
    except sqlite3.DatabaseError as exc:  # too damaged for the check itself to run
        return IntegrityReport(False, f"{name}: the file is too damaged to be checked. Restore a backup "
                                      "(kpidesk backup list).", [*lines, f"SQLite could not read it: {exc}."],
                               [str(exc)])
    if problems == ["ok"]:
        lines.append("The file structure is intact: every page, index and row passed SQLite's integrity check.")
    else:
        ok = False
        raw.extend(problems)
        more = " (the first ones)" if len(problems) >= max_errors else ""
        lines.append(f"The file structure is damaged: SQLite's integrity check found {len(problems)} problem(s)"
                     f"{more}, for example: {problems[0]}.")
        if any("index" in p.lower() for p in problems) and all("index" in p.lower() or "row" in p.lower()
                                                                   for p in problems):
            lines.append("Only indexes look affected; the data itself may be intact. Restore a backup or "
                         "export everything (kpidesk export-all) to be safe.")
    if progress:
        progress(0.7, "Checking links between tables…")
    broken: dict[tuple[str, str], list[int]] = {}
    for table, rowid, parent, _fkid in conn.execute("PRAGMA foreign_key_check").fetchall():
        broken.setdefault((str(table), str(parent)), []).append(int(rowid) if rowid is not None else -1)
    if not broken:
        lines.append("Every link between tables is valid (no value points to a missing KPI, product or goal).")
    for (table, parent), rowids in sorted(broken.items()):
        ok = False
        shown = ", ".join(str(r) for r in rowids[:10]) + (", …" if len(rowids) > 10 else "")
        lines.append(f"{len(rowids)} {_NOUNS.get(table, table)} refer to {_NOUNS.get(parent, parent)} that no "
                     f"longer exist (table {table}, rows {shown}).")
        raw.append(f"foreign_key_check: {table} -> {parent}: rows {shown}")
    with contextlib.suppress(sqlite3.Error):
        found = counts(conn)
        lines.append(f"It holds {found['products']:,} products, {found['kpis']:,} KPIs, "
                     f"{found['measurements']:,} values and {found['goals']:,} goals.")
    if progress:
        progress(1.0, "Done")
    summary = (f"{name}: no problems found." if ok else
               f"{name}: problems found. Restore a backup (kpidesk backup list) or export what is readable.")
    return IntegrityReport(ok, summary, lines, raw)


# -- diagnosis of a file that may be damaged -------------------------------------
@contextlib.contextmanager
def private_copy(path: Path) -> Iterator[Path]:
    """A throw-away copy of ``path`` (and its ``-wal``) in a temporary folder; the original is only read."""
    folder = Path(tempfile.mkdtemp(prefix="kpidesk-check-"))
    try:
        copy = folder / path.name
        shutil.copyfile(path, copy)
        wal = path.with_name(path.name + "-wal")
        if wal.is_file():
            shutil.copyfile(wal, folder / wal.name)
        yield copy
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _zero_pages(path: Path, page_size: int) -> list[int]:
    """1-based numbers of pages (after the first) that are entirely zero bytes."""
    zero = bytes(page_size)
    found = []
    with path.open("rb") as fh:
        fh.seek(page_size)
        number = 1
        while chunk := fh.read(page_size):
            number += 1
            if chunk == zero[: len(chunk)]:
                found.append(number)
    return found


def _page_size(path: Path) -> int:
    with path.open("rb") as fh:
        head = fh.read(18)
    raw = int.from_bytes(head[16:18], "big")
    return 65536 if raw == 1 else raw


_KPIDESK_TABLES = {"product", "kpi", "measurement"}


def diagnose(path: Path, *, latest_schema: int | None = None, seconds: float = 10.0) -> Diagnosis:
    """What is wrong with the file at ``path`` ("ok" when nothing is). Never writes to it."""
    path = Path(path)
    found = inspect_header(path)
    if found is not None:
        return found
    name = path.name
    page_size = _page_size(path)
    with private_copy(path) as copy:
        try:
            conn = sqlite3.connect(f"file:{copy.as_posix()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            return Diagnosis("unreadable", f"{name} cannot be read as a database ({exc}).")
        try:
            return _diagnose_open(conn, copy, name, page_size, latest_schema=latest_schema, seconds=seconds)
        except sqlite3.DatabaseError as exc:
            return _damage(copy, name, page_size, [str(exc)])
        finally:
            conn.close()


def _damage(copy: Path, name: str, page_size: int, problems: list[str]) -> Diagnosis:
    zeros = _zero_pages(copy, page_size)
    # integrity_check prefixes its report with "*** in database main ***"; keep the findings
    problems = [line.strip() for text in problems for line in text.splitlines()
                if line.strip() and not line.startswith("***")]
    details = tuple(problems[:20])
    if zeros:
        shown = ", ".join(str(n) for n in zeros[:8]) + (", …" if len(zeros) > 8 else "")
        return Diagnosis("zeroed_pages", f"{name} is damaged: {len(zeros)} block(s) of {page_size:,} bytes inside "
                                         f"it were overwritten with zeros (pages {shown}), as happens after a disk "
                                         "or copy failure.", details)
    first = problems[0] if problems else "unknown problem"
    return Diagnosis("damaged", f"{name} is damaged: some of its bytes were changed (SQLite reports: {first}). "
                                "kpidesk will not write to it.", details)


def _diagnose_open(conn: sqlite3.Connection, copy: Path, name: str, page_size: int, *,
                   latest_schema: int | None, seconds: float) -> Diagnosis:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if app_id == 0 and tables and not tables >= _KPIDESK_TABLES:
        shown = ", ".join(sorted(tables)[:5])
        return Diagnosis("not_kpidesk", f"{name} is a SQLite database of another application (tables: {shown}), "
                                        "not a kpidesk workspace; kpidesk will not change it.")
    status, problems = quick_check(conn, seconds=seconds)
    if status == "damaged":
        return _damage(copy, name, page_size, problems)
    if latest_schema is not None and version > latest_schema:
        return Diagnosis("newer_schema", f"{name} was written by a newer kpidesk (schema {version}; this app knows "
                                         f"{latest_schema}). Update kpidesk to open it; the file was not changed.")
    # quick_check skips some row content; reading every table catches damage in record payloads
    for table in sorted(tables):
        if table.startswith("sqlite_"):
            continue
        conn.execute(f'SELECT * FROM "{table}"').fetchall()
    return Diagnosis("ok", f"{name} looks healthy.")


def newest_good_backup_for(path: Path, backup_dir: Path | None = None) -> BackupInfo | None:
    """The newest backup of ``path`` that passes its checks (None when there is none, or on any error)."""
    try:
        from kpidesk.storage.backup import newest_good_backup

        return newest_good_backup(path, backup_dir)
    except Exception:  # an offer of a backup must never hide the real problem
        return None


def read_only_connection(path: Path) -> sqlite3.Connection:
    """A read-only connection that creates no sidecar files: ``immutable`` when the folder cannot be written."""
    uri = f"file:{path.as_posix()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        conn.close()
        conn = sqlite3.connect(uri + "&immutable=1", uri=True)
    return conn


# folder names that cloud-sync clients create (case-insensitive match on a path part)
_CLOUD_FOLDERS = (
    ("dropbox", "Dropbox"), ("onedrive", "OneDrive"), ("icloud drive", "iCloud Drive"),
    ("iclouddrive", "iCloud Drive"), ("mobile documents", "iCloud Drive"), ("com~apple~clouddocs", "iCloud Drive"),
    ("google drive", "Google Drive"), ("googledrive", "Google Drive"), ("my drive", "Google Drive"),
    ("box sync", "Box"), ("nextcloud", "Nextcloud"), ("owncloud", "ownCloud"), ("pcloud drive", "pCloud"),
)


def cloud_sync_service(path: Path) -> str:
    """The cloud-sync service whose folder holds ``path`` ('' when none is recognised).

    A database in a synced folder can be copied mid-write or edited on two
    machines at once; the GUI shows a one-time warning (see BackupService.cloud_warning).
    """
    for part in Path(path).parts[:-1]:
        lowered = part.lower()
        for marker, service in _CLOUD_FOLDERS:
            # "Dropbox", "Dropbox (Contoso)", "OneDrive - Contoso"; not "dropbox-export-notes"
            if lowered == marker or lowered.startswith((marker + " (", marker + " - ")):
                return service
    return ""
