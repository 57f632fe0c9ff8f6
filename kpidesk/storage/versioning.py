"""Optimistic concurrency: a save only lands on the version it was read at.

Several people may edit one team workspace. Every editable row carries
``version``; a save is one atomic compare-and-set ``UPDATE ... WHERE id = ?
AND version = ?``, so of two people who read version 3 exactly one saves
(version 4) and the other is told who changed the row and when. Nothing is
overwritten silently, whatever the interleaving.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from kpidesk.errors import ConflictError, NotFoundError
from kpidesk.storage.models import utcnow


def save_versioned(
    session: Session,
    model: type,
    row_id: int,
    expected_version: int,
    values: dict[str, Any],
    *,
    user: str,
    what: str,
) -> None:
    """Apply ``values`` to row ``row_id`` if it is still at ``expected_version`` (caller commits).

    Raises ``ConflictError`` naming who changed it and when, or ``NotFoundError``
    when it was deleted meanwhile.
    """
    table: Any = model
    result = session.execute(
        update(table)
        .where(table.id == row_id, table.version == expected_version)
        .values(**values, version=table.version + 1, updated_at=utcnow(), updated_by=user)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        return
    session.rollback()
    current = session.get(model, row_id, populate_existing=True)
    if current is None:
        raise NotFoundError(f"{what} was deleted by someone else; your change was not saved.")
    who = current.updated_by or "someone"
    raise ConflictError(
        f"{what} was changed by {who} at {current.updated_at:%Y-%m-%d %H:%M:%S} UTC (now version "
        f"{current.version}); your change was not saved. Reload to see their value."
    )
