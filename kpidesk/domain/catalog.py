"""The built-in KPI catalog, loaded from ``resources/catalog.toml`` and validated.

A KPI added from the catalog copies these fields; the copy can then be edited
without touching the catalog.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache

from kpidesk.domain.enums import Aggregation, Category, Direction, Frequency, Stage, Unit
from kpidesk.errors import KpideskError

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,79}$")
_REQUIRED = ("key", "name", "definition", "formula", "category", "stage", "unit", "direction",
             "aggregation", "frequency")


@dataclass(frozen=True)
class CatalogEntry:
    key: str
    name: str
    definition: str
    formula: str
    category: Category
    stage: Stage
    unit: Unit
    direction: Direction
    aggregation: Aggregation
    frequency: Frequency
    derived: str | None = None
    min_value: float | None = None
    max_value: float | None = None
    aliases: tuple[str, ...] = ()
    conventions: tuple[str, ...] = ()
    #: a ratio whose denominator is a balance at the start of each period (customers, MRR):
    #: rolled up over a longer period it divides by the first sub-period's denominator
    opening_denominator: bool = False

    @property
    def default_convention(self) -> str:
        return self.conventions[0] if self.conventions else ""


@dataclass(frozen=True)
class Catalog:
    entries: tuple[CatalogEntry, ...]
    _by_key: dict[str, CatalogEntry] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_key.update({e.key: e for e in self.entries})

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.entries)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def opening_denominator(self, key: str | None) -> bool:
        """True when the entry ``key`` (a KPI's catalog key, maybe empty) divides by a balance at period start."""
        return bool(key) and key in self._by_key and self._by_key[key].opening_denominator

    def get(self, key: str) -> CatalogEntry:
        try:
            return self._by_key[key]
        except KeyError:
            raise KpideskError(
                f"'{key}' is not in the KPI catalog; see 'kpidesk catalog list' for the keys."
            ) from None


def parse_catalog(text: str, source: str = "catalog") -> Catalog:
    """Parse and validate catalog TOML; every problem names the entry and the field."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KpideskError(f"{source}: the catalog is not valid TOML ({exc}).") from exc
    entries: list[CatalogEntry] = []
    seen: set[str] = set()
    for index, raw in enumerate(doc.get("kpi", []), start=1):
        where = f"{source}: entry {index} ({raw.get('key', '?')})"
        missing = [name for name in _REQUIRED if not raw.get(name)]
        if missing:
            raise KpideskError(f"{where} lacks {', '.join(missing)}.")
        key = raw["key"]
        if not _KEY.match(key):
            raise KpideskError(f"{where}: key must be lower_snake_case.")
        if key in seen:
            raise KpideskError(f"{where}: key '{key}' appears twice.")
        seen.add(key)
        try:
            entry = CatalogEntry(
                key=key,
                name=raw["name"],
                definition=raw["definition"],
                formula=raw["formula"],
                category=Category(raw["category"]),
                stage=Stage(raw["stage"]),
                unit=Unit(raw["unit"]),
                direction=Direction(raw["direction"]),
                aggregation=Aggregation(raw["aggregation"]),
                frequency=Frequency(raw["frequency"]),
                derived=raw.get("derived"),
                min_value=raw.get("min"),
                max_value=raw.get("max"),
                aliases=tuple(raw.get("aliases", ())),
                conventions=tuple(raw.get("conventions", ())),
                opening_denominator=_denominator(raw.get("denominator", "flow"), where),
            )
        except ValueError as exc:
            raise KpideskError(f"{where}: {exc}.") from exc
        entries.append(entry)
    for entry in entries:
        if entry.derived:
            names = set(re.findall(r"[a-z_][a-z0-9_]*", entry.derived))
            unknown = names - seen
            if unknown:
                raise KpideskError(f"{source}: {entry.key} is derived from unknown KPI(s) {sorted(unknown)}.")
    return Catalog(tuple(entries))


@cache
def load_catalog() -> Catalog:
    """The catalog shipped in ``resources/catalog.toml``."""
    from kpidesk.resource_files import read_text

    return parse_catalog(read_text("catalog.toml"), "catalog.toml")


def _denominator(value: object, where: str) -> bool:
    """``denominator = "opening"`` (a balance at period start) or ``"flow"`` (the default)."""
    if value not in ("flow", "opening"):
        raise KpideskError(f"{where}: denominator must be \"flow\" or \"opening\", not {value!r}.")
    return value == "opening"
