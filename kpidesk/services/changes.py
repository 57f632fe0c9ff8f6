"""What a service call touched, so each view refreshes only if it cares."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Changes:
    """Tables touched, the KPIs whose data changed, and a one-line summary."""

    tables: frozenset[str] = frozenset()
    kpi_ids: frozenset[int] = frozenset()
    message: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, *tables: str, kpi_ids: set[int] | frozenset[int] | None = None, message: str = "",
           **counts: int) -> Changes:
        return cls(frozenset(tables), frozenset(kpi_ids or ()), message, dict(counts))

    def touches(self, *tables: str) -> bool:
        return bool(self.tables.intersection(tables))

    def __or__(self, other: Changes) -> Changes:
        counts = dict(self.counts)
        for key, value in other.counts.items():
            counts[key] = counts.get(key, 0) + value
        message = "; ".join(m for m in (self.message, other.message) if m)
        return Changes(self.tables | other.tables, self.kpi_ids | other.kpi_ids, message, counts)

    @property
    def empty(self) -> bool:
        return not self.tables
