"""Parse untrusted files in a child process with a memory cap and a time limit.

The parent starts ``python -m kpidesk.io._child`` (a fresh interpreter: no
fork of a process that may hold Qt threads, and only numpy and calamine to
import) *while* it runs the pre-flight check, then sends the pickled
:class:`~kpidesk.io.parse.ParseRequest` on the child's stdin. The child lowers its own
``RLIMIT_AS`` (address space) and ``RLIMIT_CPU``, parses, and writes one
pickle back: the :class:`~kpidesk.io.grid.Workbook` whose sheets are numpy
column arrays (never per-cell object lists), or the problem it met.

The parent polls every 50 ms: ``progress.cancelled()`` or the wall-clock limit
kill the child (SIGKILL) and raise ``CancelledError`` / ``FileProblem``. A child
that dies (out of memory, a crash in a native parser) becomes a
``FileProblem`` too, so a hostile file never takes the application down.

Frozen builds (PyInstaller) have no ``-m``: their entry point must call
:func:`child_main` when ``sys.argv[1] == CHILD_FLAG``.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

from kpidesk.errors import CancelledError
from kpidesk.io import parse as parse_module
from kpidesk.io.errors import FileProblem
from kpidesk.io.grid import Workbook
from kpidesk.io.parse import ParseRequest, parse_file
from kpidesk.io.preflight import Limits
from kpidesk.progress import Progress

CHILD_FLAG = "--kpidesk-read-child"
#: Modules the child may import before the request arrives (pandas parses large CSV files).
_PRELOADABLE = {"pandas"}
_POLL_S = 0.05
#: How often the parent looks whether the child has finished: ``Popen.wait(timeout)`` sleeps
#: in growing steps (up to ~20 ms late), which a 200,000-row import pays on its critical path.
_EXIT_POLL_S = 0.002
# Windows has neither SIGKILL nor SIGBUS; their POSIX numbers never match a Windows exit code.
_SIGKILL = getattr(signal, "SIGKILL", 9)
_SIGBUS = getattr(signal, "SIGBUS", 7)


class SandboxChild:
    """A started child interpreter waiting for one request on stdin.

    Start it *before* the pre-flight check so that its start-up (a fresh
    interpreter importing numpy and calamine, ~0.1-0.2 s) overlaps the check;
    then :meth:`run` once, or :meth:`kill` if the check refused the file.
    """

    def __init__(self, *, preload: tuple[str, ...] = ()) -> None:
        self.preload = tuple(preload)
        self._folder = tempfile.mkdtemp(prefix="kpidesk-read-")
        self._result_path = os.path.join(self._folder, "result.pickle")
        self._stderr_path = os.path.join(self._folder, "stderr.txt")
        with open(self._stderr_path, "wb") as stderr:
            self._process = subprocess.Popen(
                _child_command(self._result_path, preload),
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env=_child_env(),
                close_fds=True,
            )

    def run(self, request: ParseRequest, limits: Limits, progress: Progress | None = None) -> Workbook:
        """Send ``request``, wait (polling cancel and the time limit), return the Workbook."""
        try:
            assert self._process.stdin is not None
            try:
                self._process.stdin.write(
                    pickle.dumps((request, limits.memory_bytes, limits.timeout_s), protocol=5)
                )
                self._process.stdin.close()
            except (BrokenPipeError, OSError):
                pass  # the child died early; _interpret reports it from its exit code
            returncode = _wait(self._process, request, limits, progress)
            payload = None
            if os.path.exists(self._result_path):
                with open(self._result_path, "rb") as handle:
                    payload = pickle.load(handle)  # written by our own child, not by the file
            with open(self._stderr_path, "rb") as handle:
                stderr_text = handle.read(20_000).decode("utf-8", "replace")
            return _interpret(request, limits, returncode, payload, stderr_text)
        finally:
            self.kill()

    def waiting(self) -> bool:
        """True while the child is alive and has not been given a request yet."""
        stdin = self._process.stdin
        return self._process.poll() is None and stdin is not None and not stdin.closed

    def kill(self) -> None:
        """Stop the child (if still running) and remove its temporary folder."""
        if self._process.poll() is None:
            _kill(self._process)
        if self._process.stdin is not None and not self._process.stdin.closed:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        shutil.rmtree(self._folder, ignore_errors=True)


_spare: SandboxChild | None = None
_spare_lock = threading.Lock()


def prestart(preload: tuple[str, ...] = ()) -> None:
    """Start a child now, so that the next :func:`take_child` finds it booted.

    Why: a child's start (a fresh interpreter importing numpy and calamine,
    ~0.1 s) otherwise lies on the path of every read. ``kpidesk import`` calls
    this before it opens the workspace, so the two overlap. At most one spare
    child waits (on its stdin, doing nothing; the file is only sent to it by
    :meth:`SandboxChild.run`); it is stopped when this process exits.
    """
    global _spare
    with _spare_lock:
        if _spare is not None and _spare.preload == tuple(preload) and _spare.waiting():
            return
        old, _spare = _spare, SandboxChild(preload=preload)
    if old is not None:
        old.kill()


def take_child(preload: tuple[str, ...] = ()) -> SandboxChild:
    """The spare child from :func:`prestart` when it fits, else a newly started one."""
    global _spare
    with _spare_lock:
        child, _spare = _spare, None
    if child is not None and child.preload == tuple(preload) and child.waiting():
        return child
    if child is not None:
        child.kill()
    return SandboxChild(preload=preload)


def _stop_spare() -> None:
    global _spare
    with _spare_lock:
        child, _spare = _spare, None
    if child is not None:
        child.kill()


atexit.register(_stop_spare)


def run_sandboxed(request: ParseRequest, limits: Limits, progress: Progress | None = None) -> Workbook:
    """Parse ``request`` in a fresh child process; see the module docstring for the guarantees."""
    return SandboxChild().run(request, limits, progress)


def _child_command(result_path: str, preload: tuple[str, ...] = ()) -> list[str]:
    extra = [f"--preload={name}" for name in preload if name in _PRELOADABLE]
    if getattr(sys, "frozen", False):
        return [sys.executable, CHILD_FLAG, result_path, *extra]
    return [sys.executable, "-m", "kpidesk.io._child", result_path, *extra]


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # One BLAS thread: the child does no linear algebra and each thread reserves address space.
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    return env


def _wait(
    process: subprocess.Popen[bytes], request: ParseRequest, limits: Limits, progress: Progress | None
) -> int:
    started = time.monotonic()
    while True:
        deadline = time.monotonic() + _POLL_S
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(_EXIT_POLL_S)
        if process.returncode is not None:
            return process.returncode
        elapsed = time.monotonic() - started
        if progress is not None:
            if progress.cancelled():
                _kill(process)
                raise CancelledError("Import cancelled while reading the file; nothing was changed.")
            # The child cannot report fractions cheaply; show time against a 10 s guess, capped.
            progress.report(min(0.9, elapsed / 10.0), f"Reading {os.path.basename(request.path)}…")
        if elapsed > limits.timeout_s:
            _kill(process)
            raise FileProblem(
                request.path,
                f"reading it took longer than {limits.timeout_s:g} seconds and was "
                "stopped (a huge or hostile file?).",
                kind="timeout",
            )


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait()


def _interpret(
    request: ParseRequest, limits: Limits, returncode: int, payload: object, stderr_text: str
) -> Workbook:
    path = request.path
    if isinstance(payload, tuple) and payload:
        tag = payload[0]
        if tag == "ok" and isinstance(payload[1], Workbook):
            workbook = payload[1]
            workbook.path = path
            return workbook
        if tag == "problem":
            raise FileProblem(path, str(payload[1]), kind=str(payload[2]))
        if tag == "memory":
            raise _memory_problem(path, limits)
        if tag == "bug":
            raise FileProblem(
                path,
                "the reader failed on this file (it may be damaged); see details.",
                kind="unreadable",
                details=str(payload[1]),
            )
    if (
        returncode in (-_SIGKILL, -signal.SIGABRT, -signal.SIGSEGV, -_SIGBUS)
        or "memory" in stderr_text.lower()
    ):
        if returncode in (-signal.SIGSEGV, -_SIGBUS):
            raise FileProblem(
                path,
                "the spreadsheet parser crashed on this file (damaged or hostile); nothing was imported.",
                kind="unreadable",
                details=stderr_text,
            )
        raise _memory_problem(path, limits, stderr_text)
    if hasattr(signal, "SIGXCPU") and returncode == -signal.SIGXCPU:
        raise FileProblem(
            path,
            f"reading it used more than {limits.timeout_s:g} seconds of CPU and was stopped.",
            kind="timeout",
        )
    raise FileProblem(
        path,
        f"the reader stopped unexpectedly (exit code {returncode}); the file may be damaged.",
        kind="unreadable",
        details=stderr_text,
    )


def _memory_problem(path: str, limits: Limits, details: str | None = None) -> FileProblem:
    return FileProblem(
        path,
        f"reading it needs more than the {limits.memory_bytes / 1e6:,.0f} MB of memory "
        "kpidesk allows (a huge or hostile file?).",
        kind="memory",
        details=details,
    )


# --------------------------------------------------------------------------- child side


def _limit_self(memory_bytes: int, timeout_s: float) -> None:
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the parent's wall-clock limit still applies
        return
    for which, value in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_CPU, int(timeout_s) + 5)):
        try:
            _soft, hard = resource.getrlimit(which)
            cap = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (cap, hard))
        except (ValueError, OSError):
            pass
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crashing parser leaves no core dump


def child_main(argv: list[str], *, exit_now: bool = True) -> int:
    """Entry point of the child: argv = [result_path, --preload=MODULE...]; the request comes on stdin.

    With ``exit_now`` the process ends as soon as the result is written (``os._exit``).
    """
    import importlib

    result_path = argv[0]
    # Import while the parent is still pre-flighting: the parser, and what check_xml_parts needs
    # (otherwise ~4 ms more after the request).
    import zipfile  # noqa: F401

    import defusedxml.ElementTree  # noqa: F401
    import python_calamine  # noqa: F401

    for flag in argv[1:]:
        if flag.startswith("--preload=") and flag.split("=", 1)[1] in _PRELOADABLE:
            importlib.import_module(flag.split("=", 1)[1])

    try:
        request, memory_bytes, timeout_s = pickle.load(sys.stdin.buffer)
    except (EOFError, pickle.UnpicklingError):
        return 0  # the parent refused the file and closed the pipe: nothing to do
    _limit_self(memory_bytes, timeout_s)
    # No cyclic garbage collection in this short-lived process: the parse makes one list per
    # sheet row (200,000 for a long sheet), and the collector walking them again and again
    # doubled the time of calamine's to_python. The parse makes no reference cycles worth
    # collecting, and the memory cap still bounds the process.
    gc.disable()
    parse_module.LEAVE_ROWS_FOR_EXIT = exit_now
    try:
        payload: tuple[object, ...] = ("ok", parse_file(request))
    except FileProblem as exc:
        payload = ("problem", exc.problem, exc.kind)
    except MemoryError:
        payload = ("memory",)
    except RecursionError:
        payload = (
            "problem",
            "its XML is nested too deeply to be a real spreadsheet (hostile?); refused.",
            "damaged",
        )
    except Exception:
        payload = ("bug", traceback.format_exc())
    temporary = result_path + ".part"
    try:
        with open(temporary, "wb") as handle:
            pickle.dump(payload, handle, protocol=5)
    except MemoryError:
        with open(temporary, "wb") as handle:
            pickle.dump(("memory",), handle, protocol=5)
    os.replace(temporary, result_path)
    if exit_now:
        # The result is on disk: skip the interpreter's teardown (freeing every object the parse
        # made, ~20 ms on a 200,000-row sheet) that the parent would otherwise wait for.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0
