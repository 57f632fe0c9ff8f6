"""A tiny writer of legacy Excel 97-2003 (.xls, BIFF8) files, for test data only.

No installed library writes .xls, so the golden and hostile corpora build
theirs from the published formats: a Compound File Binary container (MS-CFB,
version 3, 512-byte sectors) holding one "Workbook" stream of BIFF8 records
(MS-XLS): BOF, DATEMODE, XF, BOUNDSHEET8, SST, EOF for the globals, then per
sheet BOF, DIMENSIONS, LABELSST/NUMBER cells and EOF. Enough for calamine to
read strings, numbers and dates (XF with a built-in date format), in either
date system; ``encrypted=True`` adds a FILEPASS record, which marks the
workbook as password-protected.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

Cell = str | float | int | tuple[str, float] | None  # ("date", serial) for a date cell

_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_SECTOR = 512


def _record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _bof(substream: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, substream, 0x0DBB, 0x07CC, 0, 0x06))


def _xf(format_index: int) -> bytes:
    # font 0, number format, cell XF (fStyle=0) whose parent is style XF 0; no alignment/borders.
    return _record(0x00E0, struct.pack("<HHH", 0, format_index, 0x0000) + bytes(14))


def _style_xf() -> bytes:
    return _record(0x00E0, struct.pack("<HHH", 0, 0, 0xFFF5) + bytes(14))


def _unicode(text: str, length_bytes: int) -> bytes:
    try:
        raw, flag = text.encode("latin-1"), 0
    except UnicodeEncodeError:
        raw, flag = text.encode("utf-16-le"), 1
    length = struct.pack("<B" if length_bytes == 1 else "<H", len(text))
    return length + bytes([flag]) + raw


def workbook_stream(
    sheets: Sequence[tuple[str, Sequence[Sequence[Cell]]]], *, date1904: bool = False, encrypted: bool = False
) -> bytes:
    """The BIFF8 "Workbook" stream for ``sheets`` = [(name, rows of cells)]."""
    strings: list[str] = []
    for _, rows in sheets:
        for row in rows:
            for cell in row:
                if isinstance(cell, str) and cell not in strings:
                    strings.append(cell)
    sst_body = struct.pack("<II", len(strings), len(strings)) + b"".join(_unicode(s, 2) for s in strings)
    # XF 0-15 are style XFs by convention; 15 = general cell XF, 16 = date cell XF (built-in format 14).
    xfs = b"".join(_style_xf() for _ in range(15)) + _xf(0) + _xf(14)
    head = _bof(0x0005)
    if encrypted:
        head += _record(0x002F, struct.pack("<H", 1) + bytes(52))  # FILEPASS: RC4 encryption header
    head += _record(0x0022, struct.pack("<H", 1 if date1904 else 0)) + xfs
    bound_sizes = [4 + 6 + len(_unicode(name, 1)) for name, _ in sheets]  # header + pos, state, type + name
    globals_size = len(head) + sum(bound_sizes) + 4 + len(sst_body) + 4
    bodies = []
    offset = globals_size
    bounds = b""
    for (name, rows), _size in zip(sheets, bound_sizes, strict=True):
        bounds += _record(0x0085, struct.pack("<IBB", offset, 0, 0) + _unicode(name, 1))
        body = _sheet(rows, strings)
        bodies.append(body)
        offset += len(body)
    stream = head + bounds + _record(0x00FC, sst_body) + _record(0x000A) + b"".join(bodies)
    assert len(head) + len(bounds) + 4 + len(sst_body) + 4 == globals_size
    return stream


def _sheet(rows: Sequence[Sequence[Cell]], strings: list[str]) -> bytes:
    width = max((len(r) for r in rows), default=0)
    out = _bof(0x0010) + _record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0))
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell is None:
                continue
            if isinstance(cell, str):
                out += _record(0x00FD, struct.pack("<HHHI", r, c, 15, strings.index(cell)))
            elif isinstance(cell, tuple):
                out += _record(0x0203, struct.pack("<HHHd", r, c, 16, float(cell[1])))
            else:
                out += _record(0x0203, struct.pack("<HHHd", r, c, 15, float(cell)))
    return out + _record(0x000A)


def compound_file(stream: bytes, name: str = "Workbook", extra: dict[str, bytes] | None = None) -> bytes:
    """Wrap streams in a CFB v3 container: FAT in sector 0, the streams, then the directory.

    ``stream`` is stored as ``name``; ``extra`` adds more streams (e.g. the
    EncryptionInfo/EncryptedPackage pair of a password-protected .xlsx). Every
    stream is padded to ≥ 4096 bytes so that none lives in the mini stream.
    """
    streams = [(name, stream), *(extra or {}).items()]
    padded = [(n, s.ljust(max(len(s), 4096), b"\x00")) for n, s in streams]
    fat = [_FATSECT]
    starts = []
    body = b""
    for _, data in padded:
        sectors = -(-len(data) // _SECTOR)
        first = len(fat)
        starts.append(first)
        fat += [first + i + 1 for i in range(sectors - 1)] + [_END]
        body += data.ljust(sectors * _SECTOR, b"\x00")
    directory_sector = len(fat)
    entries = 1 + len(padded)
    directory_sectors = -(-entries // 4)
    fat += [directory_sector + i + 1 for i in range(directory_sectors - 1)] + [_END]
    assert len(fat) <= _SECTOR // 4
    fat += [_FREE] * (_SECTOR // 4 - len(fat))
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
    header += struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 0x0009, 0x0006) + bytes(6)
    header += struct.pack("<IIIIIIIII", 0, 1, directory_sector, 0, 0x1000, _END, 0, _END, 0)
    header += struct.pack("<I", 0) + struct.pack("<I", _FREE) * 108
    assert len(header) == _SECTOR

    def entry(entry_name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
        encoded = (entry_name + "\x00").encode("utf-16-le") if entry_name else b""
        data = encoded.ljust(64, b"\x00") + struct.pack("<HBB", len(encoded), kind, 1 if kind else 0)
        data += struct.pack("<III", _NOSTREAM, right, child) + bytes(16) + bytes(4) + bytes(16)
        return data + struct.pack("<IQ", start, size)

    directory = entry("Root Entry", 5, _NOSTREAM, 1, _END, 0)
    for index, ((entry_name, data), start) in enumerate(zip(padded, starts, strict=True), start=1):
        # Siblings chained to the right (a degenerate but valid tree): entry i → i + 1.
        right = index + 1 if index < len(padded) else _NOSTREAM
        directory += entry(entry_name, 2, right, _NOSTREAM, start, len(data))
    directory += entry("", 0, _NOSTREAM, _NOSTREAM, 0, 0) * (directory_sectors * 4 - entries)
    return header + struct.pack(f"<{_SECTOR // 4}I", *fat) + body + directory


def write_xls(
    path: str,
    sheets: Sequence[tuple[str, Sequence[Sequence[Cell]]]],
    *,
    date1904: bool = False,
    encrypted: bool = False,
) -> None:
    with open(path, "wb") as handle:
        handle.write(compound_file(workbook_stream(sheets, date1904=date1904, encrypted=encrypted)))
