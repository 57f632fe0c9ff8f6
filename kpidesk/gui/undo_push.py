"""Push a command and turn a refused first redo into an exception for the caller."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand, QUndoStack


def push(stack: QUndoStack, command: QUndoCommand) -> None:
    """``stack.push(command)``; raises the command's error if its first redo was refused."""
    stack.push(command)
    error = getattr(command, "error", None)
    if error is not None:
        raise error
