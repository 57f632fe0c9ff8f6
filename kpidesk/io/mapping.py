"""Matching the KPI labels of a spreadsheet to the KPIs of a workspace.

A *label* is what the file calls a KPI: a column header in a wide sheet, a
row label in a KPI-rows tracker, a value of the KPI column in a long sheet.
Each label gets a :class:`LabelDecision`:

- ``existing``  the values go to an existing KPI (``kpi_key``);
- ``catalog``   a KPI is created from the catalog entry ``catalog_key``;
- ``custom``    a custom KPI ``name`` (``unit``) is created;
- ``ignore``    the values are skipped (the plan counts them as ignored).

Matching rule, first hit wins, each level must be unambiguous:

1. the label equals a KPI key, or its name, verbatim;
2. the *normalised* label equals the normalised key, name or an alias, where
   normalising = Unicode NFKC, case-fold, ``&`` → ``and``, then keep letters
   and digits only ("Net  promoter-score" → "netpromoterscore");
3. the same after dropping a bracketed suffix and unit marks
   ("Cost per MQL ($)" → "costpermql", "Churn rate %" → "churnrate");
4. the label is the acronym of a KPI name ("NPS" ↔ "Net Promoter Score").

A label nothing matches is looked up the same way in the catalog (suggests
``catalog``), else becomes ``custom`` with a unit guessed from its values.
Two KPIs matching on the same level make the label ambiguous: it is not
guessed, the decision says so in ``note`` and defaults to ``custom``.

Decisions are remembered per *header signature* (the SHA-256 of the layout and
the sorted normalised labels) in ``mapping_profile``; the next file with the
same labels reuses them (``matched_by = "remembered"``).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

EXISTING, CATALOG, CUSTOM, IGNORE = "existing", "catalog", "custom", "ignore"
ACTIONS = (EXISTING, CATALOG, CUSTOM, IGNORE)

_BRACKETED = re.compile(r"[\(\[\{][^\)\]\}]*[\)\]\}]")
_UNIT_MARKS = re.compile(r"[%$€£¥#]")
_WORD = re.compile(r"[^\W_]+")


def normalise(label: str) -> str:
    """Case-, spacing- and punctuation-free form: "Net Promoter-Score " → "netpromoterscore"."""
    text = unicodedata.normalize("NFKC", str(label)).casefold().replace("&", "and")
    return "".join(ch for ch in text if ch.isalnum())


def loose(label: str) -> str:
    """:func:`normalise` after dropping bracketed parts and unit marks: "Cost/MQL ($)" → "costmql"."""
    return normalise(_UNIT_MARKS.sub(" ", _BRACKETED.sub(" ", str(label))))


def acronym(name: str) -> str:
    """Initials of the words of a name: "Net Promoter Score" → "nps" ("" for one word)."""
    words = _WORD.findall(unicodedata.normalize("NFKC", str(name)).casefold())
    return "".join(w[0] for w in words) if len(words) > 1 else ""


@dataclass(frozen=True)
class KpiRef:
    """What matching needs to know about a KPI (an existing one or a catalog entry)."""

    key: str
    name: str
    aliases: tuple[str, ...] = ()
    unit: str = "count"


@dataclass(frozen=True)
class LabelDecision:
    """What to do with the values of one label (see the module docstring).

    ``kpi_key`` is the key the values land on (for ``catalog``/``custom`` the
    key of the KPI that will be created). ``matched_by`` says how it was
    found: "key", "name", "alias", "loose", "acronym", "remembered", "catalog",
    "new" (nothing matched) or "user". ``note`` explains ambiguity.
    """

    label: str
    action: str
    kpi_key: str = ""
    kpi_name: str = ""
    catalog_key: str = ""
    unit: str = "count"
    matched_by: str = ""
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LabelDecision:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


class _Index:
    """Lookup tables from label forms to KPI refs, one per matching level."""

    def __init__(self, refs: Sequence[KpiRef]) -> None:
        self.exact: dict[str, list[KpiRef]] = {}
        self.normal: dict[str, list[KpiRef]] = {}
        self.loose: dict[str, list[KpiRef]] = {}
        self.acronym: dict[str, list[KpiRef]] = {}
        for ref in refs:
            for form in {ref.key, ref.name}:
                _add(self.exact, form, ref)
            for form in {ref.key, ref.name, *ref.aliases}:
                _add(self.normal, normalise(form), ref)
                _add(self.loose, loose(form), ref)
            _add(self.acronym, acronym(ref.name), ref)

    def find(self, label: str) -> tuple[KpiRef | None, str, list[KpiRef]]:
        """(match, level, ambiguous candidates)."""
        levels = (
            ("name", self.exact, label),
            ("alias", self.normal, normalise(label)),
            ("loose", self.loose, loose(label)),
            ("acronym", self.acronym, normalise(label)),
        )
        for level, table, form in levels:
            if not form:
                continue
            hits = _unique(table.get(form, []))
            if len(hits) == 1:
                ref = hits[0]
                if level == "name" and label == ref.key:
                    level = "key"
                return ref, level, []
            if len(hits) > 1:
                return None, level, hits
        return None, "", []


def _add(table: dict[str, list[KpiRef]], form: str, ref: KpiRef) -> None:
    if form:
        table.setdefault(form, []).append(ref)


def _unique(refs: list[KpiRef]) -> list[KpiRef]:
    seen: dict[str, KpiRef] = {}
    for ref in refs:
        seen.setdefault(ref.key, ref)
    return list(seen.values())


def slug(text: str) -> str:
    """A KPI key from a label: "Cost per MQL ($)" → "cost_per_mql" (same rule as KpiService)."""
    key = re.sub(
        r"[^a-z0-9]+",
        "_",
        unicodedata.normalize("NFKD", str(text)).casefold().encode("ascii", "ignore").decode(),
    ).strip("_")
    if not key or not key[0].isalpha():
        key = f"kpi_{key}".rstrip("_")
    return key[:80]


def suggest(
    labels: Iterable[str],
    kpis: Sequence[KpiRef],
    catalog: Sequence[KpiRef] = (),
    *,
    units: Mapping[str, str] | None = None,
    remembered: Mapping[str, LabelDecision] | None = None,
) -> dict[str, LabelDecision]:
    """A decision for every distinct label (see the module docstring for the rule).

    ``units`` gives the unit guessed from each label's values (for ``custom``);
    ``remembered`` decisions win when they still make sense (an ``existing``
    one whose KPI is gone is matched afresh).
    """
    index = _Index(kpis)
    keys = {ref.key for ref in kpis}
    catalog_index = _Index(catalog)
    taken: set[str] = set(keys)
    from_catalog: dict[str, str] = {}
    new_by_form: dict[str, str] = {}
    # The signature ignores case and spacing, so "Score" remembered also serves "score".
    remembered_by_form = {normalise(k): v for k, v in (remembered or {}).items()}
    decisions: dict[str, LabelDecision] = {}
    for label in dict.fromkeys(labels):
        old = (remembered or {}).get(label) or remembered_by_form.get(normalise(label))
        if old is not None and (old.action != EXISTING or old.kpi_key in keys):
            decisions[label] = replace(old, label=label, matched_by="remembered")
            if old.action in (CATALOG, CUSTOM):
                taken.add(old.kpi_key)
            continue
        ref, level, ambiguous = index.find(label)
        if ref is not None:
            decisions[label] = LabelDecision(
                label, EXISTING, ref.key, ref.name, unit=ref.unit, matched_by=level
            )
            continue
        note = ""
        if ambiguous:
            note = f"“{label}” matches several KPIs ({', '.join(r.name for r in ambiguous)}); choose one."
        entry, _level, _ = catalog_index.find(label)
        if entry is not None and not ambiguous:
            # Two labels naming the same catalog KPI ("Blended CAC", "Blended CAC ($)") share one new KPI.
            key = from_catalog.get(entry.key) or (
                entry.key if entry.key not in taken else _free_key(entry.key, taken)
            )
            from_catalog[entry.key] = key
            taken.add(key)
            decisions[label] = LabelDecision(
                label, CATALOG, key, entry.name, catalog_key=entry.key, unit=entry.unit, matched_by="catalog"
            )
            continue
        # "Sign ups" and "sign-ups" in one file are one new KPI.
        key = new_by_form.get(normalise(label)) or _free_key(slug(label), taken)
        new_by_form[normalise(label)] = key
        taken.add(key)
        unit = (units or {}).get(label, "count")
        decisions[label] = LabelDecision(
            label, CUSTOM, key, label.strip()[:200] or key, unit=unit, matched_by="new", note=note
        )
    return decisions


def _free_key(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base[:76]}_{n}" in taken:
        n += 1
    return f"{base[:76]}_{n}"


def header_signature(labels: Iterable[str], layout: str) -> str:
    """SHA-256 of the layout and the sorted distinct normalised labels.

    Periods are not part of it: a tracker that gains a month column each
    month keeps its signature.
    """
    forms = sorted({normalise(label) for label in labels})
    payload = json.dumps([layout, forms], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


_CURRENCY_LABEL = re.compile(
    r"[$€£¥₹]|\b(usd|eur|gbp|revenue|rev|cost|costs|spend|cac|price|arpu|mrr|arr|"
    r"pipeline|sales|income|budget|ltv|clv)\b",
    re.IGNORECASE,
)
_PERCENT_LABEL = re.compile(
    r"%|\b(rate|share|ratio of|conversion|percent|percentage|margin)\b", re.IGNORECASE
)


def guess_unit(
    is_percent: bool, currency: bool, all_non_negative: bool, label: str = "", all_fractions: bool = False
) -> str:
    """Unit for a new custom KPI from its values and its label.

    percent: a value carried "%", or the label says %/rate/share/conversion and
    every value is a fraction in [-1.5, 1.5]; currency: a currency symbol in the
    values, or a money word in the label (revenue, cost, CAC, $ ...); else
    count when every value is ≥ 0, ratio otherwise.
    """
    if is_percent or (all_fractions and _PERCENT_LABEL.search(label)):
        return "percent"
    if currency or (_CURRENCY_LABEL.search(label) and all_non_negative):
        return "currency"
    return "count" if all_non_negative else "ratio"


def decisions_to_json(decisions: Mapping[str, LabelDecision]) -> dict[str, Any]:
    return {label: d.to_json() for label, d in decisions.items()}


def decisions_from_json(data: Mapping[str, Any]) -> dict[str, LabelDecision]:
    out: dict[str, LabelDecision] = {}
    for label, raw in data.items():
        if isinstance(raw, Mapping) and raw.get("action") in ACTIONS:
            out[label] = LabelDecision.from_json({**raw, "label": label})
    return out
