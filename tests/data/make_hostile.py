"""Write the hostile/broken import corpus (run: python tests/data/make_hostile.py).

Small files are committed in tests/data/hostile/; the large ones (a 100 MB
CSV line, a 6 MB shared-strings part) are only made at test time into a
temporary folder (``make_large``). ``EXPECTED`` says, per file, which
``FileProblem.kind`` the importer must raise and a phrase its message must
contain; tests/unit/test_io_hostile.py checks every one.
"""

from __future__ import annotations

import io
import random
import struct
import sys
import zipfile
from pathlib import Path

HOSTILE = Path(__file__).resolve().parent / "hostile"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
SHEET_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
SHARED = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
    "<si><t>Month</t></si></sst>"
)
PLAIN_SHEET = (
    SHEET_HEAD + '<dimension ref="A1:B2"/><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    '<row r="2"><c r="A2"><v>1</v></c><c r="B2"><v>2</v></c></row></sheetData></worksheet>'
)

# file name → (FileProblem.kind, phrase the message must contain)
EXPECTED: dict[str, tuple[str, str]] = {
    "empty.xlsx": ("empty", "empty (0 bytes)"),
    "empty.csv": ("empty", "empty (0 bytes)"),
    "zip_bomb.xlsx": ("zip_bomb", "zip bomb"),
    "billion_laughs.xlsx": ("xml_entities", "entity bomb"),
    "external_entity.xlsx": ("xml_entities", "external-entity"),
    "entity_after_long_comment.xlsx": ("xml_entities", "DTD/XML entities"),
    "entity_bomb.ods": ("xml_entities", "entity bomb"),
    "dimension_xfd1048576.xlsx": ("too_many_cells", "XFD1048576"),
    "cell_at_xfd1048576.xlsx": ("too_many_cells", "row 1,048,576, column 16,384"),
    "truncated.xlsx": ("damaged", "damaged or incomplete"),
    "png_named.xlsx": ("wrong_format", "PNG image"),
    "pdf_named.csv": ("wrong_format", "PDF document"),
    "csv_named.xlsx": ("wrong_format", "rename it to .csv"),
    "html_named.xls": ("wrong_format", "web page (HTML)"),
    "password_protected.xlsx": ("encrypted", "password-protected"),
    "zip_encrypted_entries.xlsx": ("encrypted", "encrypted"),
    "garbage.xlsx": ("wrong_format", "unrecognised binary data"),
    "garbage.csv": ("binary", "binary data"),
    "nul_bytes.csv": ("binary", "binary data"),
    "zip_without_workbook.xlsx": ("wrong_format", "no xl/workbook.xml"),
    "xlsb_named.xlsx": ("wrong_format", ".xlsb"),
    "word_named.xlsx": ("wrong_format", "Word document"),
    "broken_sheet_xml.xlsx": ("damaged", "not well-formed XML"),
    "ole_garbage.xls": ("wrong_format", "without a workbook"),
    "too_many_columns.csv": ("too_many_cells", "columns"),
    "unsupported.numbers": ("wrong_format", "not spreadsheets kpidesk reads"),
    "deeply_nested.xlsx": ("damaged", "nested more than 64 levels"),
    "password_protected.xls": ("encrypted", "password-protected"),
    "ods_repeat_bomb.ods": ("too_many_cells", "repeated cells expand"),
}


def _xlsx(
    path: Path,
    sheet: str = PLAIN_SHEET,
    shared: str = SHARED,
    workbook: str = WORKBOOK,
    extra: dict[str, bytes] | None = None,
) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        archive.writestr("xl/sharedStrings.xml", shared)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)


def make_small(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20240501)
    (folder / "empty.xlsx").write_bytes(b"")
    (folder / "empty.csv").write_bytes(b"")

    # 20 MB of spaces inside the sheet compress ~1000:1.
    bomb = SHEET_HEAD + "<sheetData>" + " " * 20_000_000 + "</sheetData></worksheet>"
    _xlsx(folder / "zip_bomb.xlsx", sheet=bomb)

    laughs = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    billion = (
        '<?xml version="1.0"?>\n<!DOCTYPE sst [' + "".join(laughs) + "]>"
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>'
    )
    _xlsx(folder / "billion_laughs.xlsx", shared=billion)

    external = WORKBOOK.replace(
        'standalone="yes"?>\n',
        'standalone="no"?>\n<!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n',
    )
    _xlsx(folder / "external_entity.xlsx", workbook=external)

    sneaky = SHARED.replace("?>\n", "?>\n<!--" + "x" * 100_000 + '-->\n<!DOCTYPE sst [<!ENTITY a "b">]>\n')
    _xlsx(folder / "entity_after_long_comment.xlsx", shared=sneaky)

    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE office:document-content ['
        + "".join(laughs)
        + "]><office:document-content "
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0">&lol9;</office:document-content>'
    )
    # One cell repeated over 16,384 columns × 1,048,576 rows: 17 billion cells from 700 bytes.
    repeat = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
        '<table:table table:name="Bomb"><table:table-row table:number-rows-repeated="1048576">'
        '<table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1">'
        "<text:p>1</text:p></table:table-cell></table:table-row></table:table>"
        "</office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(folder / "ods_repeat_bomb.ods", "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        archive.writestr("content.xml", repeat)
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>',
        )
    with zipfile.ZipFile(folder / "entity_bomb.ods", "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)

    _xlsx(
        folder / "dimension_xfd1048576.xlsx",
        sheet=PLAIN_SHEET.replace('<dimension ref="A1:B2"/>', '<dimension ref="A1:XFD1048576"/>'),
    )
    far = (
        SHEET_HEAD + '<sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
        '<row r="1048576"><c r="XFD1048576"><v>2</v></c></row></sheetData></worksheet>'
    )
    _xlsx(folder / "cell_at_xfd1048576.xlsx", sheet=far)

    whole = io.BytesIO()
    with zipfile.ZipFile(whole, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/worksheets/sheet1.xml", PLAIN_SHEET + " " * 5000)
    data = whole.getvalue()
    (folder / "truncated.xlsx").write_bytes(data[: len(data) // 2])

    (folder / "png_named.xlsx").write_bytes(
        b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(200))
    )
    (folder / "pdf_named.csv").write_bytes(b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n")
    (folder / "csv_named.xlsx").write_bytes(b"Month,Revenue\n2024-01,100\n")
    (folder / "html_named.xls").write_bytes(b"<html><body><table><tr><td>1</td></tr></table></body></html>")

    # A password-protected .xlsx is not a zip: Excel stores it as an OLE compound file holding an
    # EncryptionInfo stream (version 4.4 = "agile" encryption, then its XML descriptor) and the
    # EncryptedPackage (8-byte plain size, then the AES-encrypted zip). biff8.compound_file builds
    # a valid container; calamine itself calls it password-protected.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from biff8 import compound_file

    info = struct.pack("<HHI", 4, 4, 0x40) + b'<?xml version="1.0"?><encryption/>'
    package = struct.pack("<Q", 6000) + bytes(rng.randrange(256) for _ in range(6000))
    (folder / "password_protected.xlsx").write_bytes(
        compound_file(info, name="EncryptionInfo", extra={"EncryptedPackage": package})
    )

    _xlsx(folder / "zip_encrypted_entries.xlsx")
    patched = bytearray((folder / "zip_encrypted_entries.xlsx").read_bytes())
    pos = 0
    while (pos := patched.find(b"PK\x01\x02", pos)) >= 0:  # central directory: flags at offset 8
        patched[pos + 8] |= 0x01
        pos += 4
    pos = 0
    while (pos := patched.find(b"PK\x03\x04", pos)) >= 0:  # local headers: flags at offset 6
        patched[pos + 6] |= 0x01
        pos += 4
    (folder / "zip_encrypted_entries.xlsx").write_bytes(bytes(patched))

    (folder / "garbage.xlsx").write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    (folder / "garbage.csv").write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    (folder / "nul_bytes.csv").write_bytes(b"Month,Value\n2024-01,1\n" + b"\x00\x01\x02\x00" * 500)

    with zipfile.ZipFile(folder / "zip_without_workbook.xlsx", "w") as archive:
        archive.writestr("readme.txt", "just a zip")
    with zipfile.ZipFile(folder / "xlsb_named.xlsx", "w") as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.bin", b"\x83\x01\x00")
    with zipfile.ZipFile(folder / "word_named.xlsx", "w") as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", "<w:document/>")

    _xlsx(
        folder / "broken_sheet_xml.xlsx",
        sheet=SHEET_HEAD + '<sheetData><row r="1"><c r="A1"><v>1</v></c>'
        "</sheetData><<<>>> &bogus; </worksheet>",
    )
    (folder / "ole_garbage.xls").write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(rng.randrange(256) for _ in range(3000))
    )
    (folder / "too_many_columns.csv").write_bytes(b"a" + b",x" * 20_000 + b"\n")
    (folder / "unsupported.numbers").write_bytes(b"PK\x03\x04 not really")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from biff8 import write_xls

    write_xls(
        str(folder / "password_protected.xls"),
        [("Data", [["Month", "Value"], ["2024-01", 1]])],
        encrypted=True,
    )
    nested = SHEET_HEAD + "<sheetData>" + "<row>" * 50_000 + "</row>" * 50_000 + "</sheetData></worksheet>"
    _xlsx(folder / "deeply_nested.xlsx", sheet=nested)


def make_large(
    folder: Path,
    names: tuple[str, ...] = ("line_100mb.csv", "huge_shared_strings.xlsx"),
) -> dict[str, tuple[str, str]]:
    """Big hostile files for test time only; returns their expectations like EXPECTED."""
    folder.mkdir(parents=True, exist_ok=True)
    if "line_100mb.csv" in names:
        _line_100mb(folder)
    if "huge_shared_strings.xlsx" in names:
        _huge_shared_strings(folder)
    return {
        "line_100mb.csv": ("line_too_long", "line 2 holds a value longer than 1,000,000 characters"),
        # judged with Limits(max_entry_bytes=5_000_000) by the test: the part is ~9 MB of random text
        "huge_shared_strings.xlsx": ("zip_bomb", "xl/sharedStrings.xml"),
    }


def _line_100mb(folder: Path) -> None:
    with open(folder / "line_100mb.csv", "wb") as handle:
        handle.write(b"Month,Note\n2024-01,")
        chunk = b"A" * 1_000_000
        for _ in range(100):
            handle.write(chunk)
        handle.write(b"\n")


def _huge_shared_strings(folder: Path) -> None:
    rng = random.Random(7)
    strings = "".join(f"<si><t>{rng.getrandbits(64):x}{i}</t></si>" for i in range(250_000))
    shared = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + strings + "</sst>"
    )
    _xlsx(folder / "huge_shared_strings.xlsx", shared=shared)


def main() -> int:
    make_small(HOSTILE)
    names = sorted(p.name for p in HOSTILE.iterdir())
    missing = set(EXPECTED) - set(names)
    if missing:
        print("not written:", missing)
        return 1
    print(f"wrote {len(names)} files to {HOSTILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
