"""Make a corpus of damaged and foreign "database" files (run by the test suite, or by hand).

    python tests/data/make_damaged.py OUT_FOLDER

Every case starts from a small, healthy kpidesk workspace (or from something
that is not one) and damages it in one way a user meets in real life: an
interrupted copy (truncated), a failing disk (flipped bytes, zeroed pages),
another program's SQLite file, a spreadsheet or text file renamed to .db, an
empty file. Each case names the diagnosis kind it must get
(``kpidesk.storage.integrity.KINDS``). Cases that claim structural damage are
confirmed with SQLite's own ``PRAGMA integrity_check`` on a throw-away copy,
so the corpus never depends on the code it tests.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PAGE = 4096


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # the diagnosis kpidesk must give
    path: Path


def make_base(path: Path, *, values: int = 600) -> Path:
    """A healthy kpidesk workspace with two products, three KPIs and ``values`` measurements,
    switched to rollback-journal mode so the single file holds everything."""
    from kpidesk.services.workspace import Workspace
    from kpidesk.storage.measurements import bulk_upsert

    with Workspace.open(path, backup_dir=path.parent / "base-backups") as ws:
        pulse, _ = ws.products.create("Pulse", "Habit app")
        ledger, _ = ws.products.create("Ledger", "Invoicing SaaS")
        kpis = [ws.kpis.add_from_catalog(pulse.id, "dau")[0], ws.kpis.add_from_catalog(pulse.id, "signups")[0],
                ws.kpis.add_from_catalog(ledger.id, "mrr")[0]]
        rows = [(kpis[i % 3].id, f"{2000 + i // 36:04d}-{1 + (i // 3) % 12:02d}-01", "month", "", 1000.5 + i,
                 None, None, f"note {i} " + "x" * (i % 40)) for i in range(values)]
        bulk_upsert(ws.db, rows, source="manual")
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = DELETE")
    con.close()
    return path


def _confirmed_damaged(data: bytes) -> bool:
    """SQLite's own verdict on a copy: integrity_check not ok, or the file cannot be read."""
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe.db"
        probe.write_bytes(data)
        try:
            con = sqlite3.connect(probe)
            try:
                rows = con.execute("PRAGMA integrity_check").fetchall()
                for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
                    con.execute(f'SELECT * FROM "{table}"').fetchall()
            finally:
                con.close()
        except sqlite3.DatabaseError:
            return True
        return rows != [("ok",)]


def _btree_pages(data: bytes) -> list[int]:
    """1-based numbers of pages whose first byte is a b-tree page type."""
    pages = []
    for number in range(2, len(data) // PAGE + 1):
        if data[(number - 1) * PAGE] in (2, 5, 10, 13):
            pages.append(number)
    return pages


def _flip(data: bytes, offsets: list[int], rng: random.Random) -> bytes:
    out = bytearray(data)
    for offset in offsets:
        out[offset] ^= rng.randrange(1, 256)
    return bytes(out)


def _zero(data: bytes, pages: list[int]) -> bytes:
    out = bytearray(data)
    for number in pages:
        out[(number - 1) * PAGE: number * PAGE] = bytes(PAGE)
    return bytes(out)


def _foreign(path: Path, *, app_id: int, table: str) -> bytes:
    con = sqlite3.connect(path)
    con.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, title TEXT)")
    con.executemany(f"INSERT INTO {table} (title) VALUES (?)", [(f"row {i}",) for i in range(50)])
    if app_id:
        con.execute(f"PRAGMA application_id = {app_id}")
    con.commit()
    con.close()
    return path.read_bytes()


def corpus_bytes(work: Path, seed: int = 20261125) -> list[tuple[str, str, bytes]]:
    """(name, expected kind, content) for every case."""
    rng = random.Random(seed)
    base = make_base(work / "base.db").read_bytes()
    pages = len(base) // PAGE
    header_pages = int.from_bytes(base[28:32], "big")
    assert header_pages == pages, "the base must be a single self-contained file"
    cases: list[tuple[str, str, bytes]] = [
        ("empty", "empty", b""),
        ("truncated-10-bytes", "truncated", base[:10]),
        ("truncated-header-60-bytes", "truncated", base[:60]),
        ("truncated-in-first-page", "truncated", base[:1500]),
        ("truncated-half", "truncated", base[: len(base) // 2 + 123]),
        ("truncated-last-byte", "truncated", base[:-1]),
        ("truncated-three-pages", "truncated", base[: 3 * PAGE]),
        ("truncated-last-page", "truncated", base[: -PAGE]),
        ("truncated-to-one-page", "truncated", base[:PAGE]),
        ("signature-one-byte", "header_damaged", _flip(base, [3], rng)),
        ("signature-three-bytes", "header_damaged", _flip(base, [0, 7, 12], rng)),
        ("header-page-size", "header_damaged", base[:16] + b"\x12\x34" + base[18:]),
        ("header-payload-fraction", "header_damaged", base[:21] + b"\x41" + base[22:]),
        ("header-write-version", "header_damaged", base[:18] + b"\x07" + base[19:]),
    ]
    btree = _btree_pages(base)
    # flipped bytes in page headers and cell pointers (where a failing disk hurts SQLite most)
    flips = 0
    attempt = 0
    while flips < 7 and attempt < 200:
        attempt += 1
        page = rng.choice(btree)
        start = (page - 1) * PAGE
        offsets = [start + rng.choice([0, 3, 4, 5, 6, 8, 9, 10, 11]) for _ in range(rng.randint(1, 3))]
        damaged = _flip(base, offsets, rng)
        if _confirmed_damaged(damaged):
            flips += 1
            cases.append((f"flipped-bytes-page-{page}-{flips}", "damaged", damaged))
    # a sprinkle of random flipped bytes across the whole file (a bad cable, a dying card)
    sprinkle = _flip(base, [rng.randrange(100, len(base)) for _ in range(400)], rng)
    if _confirmed_damaged(sprinkle):
        cases.append(("flipped-bytes-everywhere", "damaged", sprinkle))
    for label, zero in (("page-2", [2]), ("pages-4-to-7", [4, 5, 6, 7]), ("last-page", [pages]),
                        ("every-fifth-page", list(range(5, pages + 1, 5)))):
        damaged = _zero(base, zero)
        assert _confirmed_damaged(damaged), label
        cases.append((f"zeroed-{label}", "zeroed_pages", damaged))
    cases.append(("zeroed-first-page", "zeroed_pages", _zero(base, [1])))
    cases.append(("all-zeros", "zeroed_pages", bytes(8 * PAGE)))
    cases.append(("geopackage", "foreign_app", _foreign(work / "gpkg.db", app_id=0x47504B47, table="gpkg_contents")))
    cases.append(("unknown-app-id", "foreign_app", _foreign(work / "other.db", app_id=0x1234ABCD, table="things")))
    cases.append(("browser-history", "not_kpidesk", _foreign(work / "places.db", app_id=0, table="moz_places")))
    cases.append(("renamed-xlsx", "not_sqlite", _xlsx(work / "book.xlsx")))
    cases.append(("renamed-csv", "not_sqlite", b"date,kpi,value\n2026-01-01,signups,120\n2026-02-01,signups,135\n"))
    cases.append(("renamed-json", "not_sqlite", b'{"kpis": [{"key": "nps", "value": 31}]}\n'))
    cases.append(("renamed-pdf", "not_sqlite", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"))
    cases.append(("renamed-png", "not_sqlite", b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(300))))
    cases.append(("random-binary", "not_sqlite", bytes(rng.randrange(256) for _ in range(5000))))
    cases.append(("text-note", "not_sqlite", b"Q3 KPIs: churn down, NPS up.\n"))
    return cases


def _xlsx(path: Path) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["month", "signups"])
    ws.append(["2026-01", 120])
    wb.save(path)
    return path.read_bytes()


def make_corpus(out: Path, seed: int = 20261125) -> list[Case]:
    """Write every case as ``out/<nn>-<name>.db``; returns the cases."""
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="kpidesk-corpus-"))
    try:
        cases = []
        for n, (name, kind, data) in enumerate(corpus_bytes(work, seed), start=1):
            path = out / f"{n:02d}-{name}.db"
            path.write_bytes(data)
            cases.append(Case(name, kind, path))
        return cases
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "damaged-corpus")
    made = make_corpus(target)
    for case in made:
        print(f"{case.path.name:45} {case.kind}")
    print(f"{len(made)} files in {target}")
