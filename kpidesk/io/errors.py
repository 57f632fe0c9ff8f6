"""The reader's user-facing error: which file, what is wrong with it."""

from __future__ import annotations

import os

from kpidesk.errors import KpideskError


class FileProblem(KpideskError):
    """A file that cannot be imported, with a sentence naming the file and the problem.

    ``kind`` is a short stable code for programs and tests (``"empty"``,
    ``"zip_bomb"``, ``"xml_entities"``, ``"too_many_cells"``, ``"damaged"``,
    ``"wrong_format"``, ``"encrypted"``, ``"binary"``, ``"too_large"``,
    ``"line_too_long"``, ``"timeout"``, ``"memory"``, ``"not_found"``,
    ``"unreadable"``, ``"no_sheet"``); ``problem`` is the sentence without the file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        problem: str,
        *,
        kind: str = "unreadable",
        details: str | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        self.kind = kind
        name = os.path.basename(self.path) or self.path
        super().__init__(f"Cannot import “{name}”: {problem}", details=details)

    @classmethod
    def undecompressable(cls, path: str | os.PathLike[str], part: str, exc: BaseException) -> FileProblem:
        """A zip member that cannot be inflated: the file is damaged (truncated, corrupted)."""
        return cls(path, f"the file is damaged: part {part!r} cannot be decompressed ({exc}).", kind="damaged")
