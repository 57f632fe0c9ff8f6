"""Qt item models pass pytest-qt's qtmodeltester (the Qt model checker)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt

from kpidesk.gui.dashboard_data import load_dashboard
from kpidesk.gui.models.navigator_model import KPI_ROLE, NavigatorFilter, NavigatorModel
from kpidesk.gui.models.values_model import VALUE, ValueRow, ValuesModel


def _rows() -> list[ValueRow]:
    return [ValueRow(i + 1, dt.date(2025, i + 1, 1), "" if i % 3 else "channel:paid", 10.0 * i, f"n{i}", "manual")
            for i in range(8)]


def test_values_model_passes_the_model_tester(qtmodeltester):
    model = ValuesModel()
    model.set_rows(_rows(), "currency", "EUR", "month")
    qtmodeltester.check(model, force_py=True)
    # totals first, newest first; then segments
    assert model.index(0, 0).data() == "Aug 2025"
    assert model.index(0, 1).data() == "total"
    assert model.index(0, VALUE).data() == "€70"
    assert model.index(model.rowCount() - 1, 1).data() == "channel:paid"


def test_values_model_edit_emits_a_request_and_does_not_write_itself(qtmodeltester):
    model = ValuesModel()
    model.set_rows(_rows(), "count", "", "month")
    requests = []
    model.edit_requested.connect(lambda row, column, value: requests.append((row.measurement_id, column, value)))
    assert model.flags(model.index(0, VALUE)) & Qt.ItemFlag.ItemIsEditable
    assert not model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsEditable
    model.setData(model.index(0, VALUE), "99")
    assert requests == [(model.row_at(0).measurement_id, "value", "99")]
    model.read_only = True
    assert not model.flags(model.index(0, VALUE)) & Qt.ItemFlag.ItemIsEditable


def test_navigator_model_and_filter_pass_the_model_tester(qtmodeltester, workspace):
    data = load_dashboard(workspace)
    model = NavigatorModel()
    model.rebuild(data.products, data.tiles, "category")
    qtmodeltester.check(model, force_py=True)
    proxy = NavigatorFilter()
    proxy.setSourceModel(model)
    proxy.setFilterFixedString("churn")
    qtmodeltester.check(proxy, force_py=True)
    # only Mobile app > Customer > Customer churn rate is left
    assert proxy.rowCount() == 1
    group = proxy.index(0, 0, proxy.index(0, 0))
    kpi = proxy.index(0, 0, group)
    assert kpi.data() == "Customer churn rate" and kpi.data(KPI_ROLE) == workspace.ids["churn"]
    by_stage = NavigatorModel()
    by_stage.rebuild(data.products, data.tiles, "stage")
    qtmodeltester.check(by_stage, force_py=True)
    proxy.setSourceModel(by_stage)  # how the navigator swaps in a reloaded tree
    assert proxy.rowCount() == 1
    model = by_stage
    groups = [model.item(0).child(i).text() for i in range(model.item(0).rowCount())]
    assert groups == ["Retention", "Revenue"]


def test_values_table_shows_who_changed_each_value_and_when(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The KPI history shows the audit columns: the database user and the time of the last save."""
    from PySide6.QtCore import Qt

    from kpidesk.gui.models.values_model import CHANGED, ValueRow, ValuesModel

    when = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
    model = ValuesModel()
    model.set_rows([ValueRow(1, dt.date(2026, 10, 1), "", 12.0, "", "manual", "ann", when, 3)], "count", "", "month")
    assert model.headerData(CHANGED, Qt.Orientation.Horizontal) == "Changed"
    shown = model.data(model.index(0, CHANGED))
    assert shown.startswith("ann · ") and "Nov 2026" in shown
    assert "by ann at 2026-11-25 09:30:00 UTC (version 3)" in model.data(model.index(0, CHANGED), Qt.ItemDataRole.ToolTipRole)
