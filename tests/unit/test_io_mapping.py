"""Matching spreadsheet labels to KPIs: key, name, aliases, loose forms, acronyms, catalog, memory."""

from __future__ import annotations

from kpidesk.io.mapping import (
    CATALOG,
    CUSTOM,
    EXISTING,
    IGNORE,
    KpiRef,
    LabelDecision,
    acronym,
    decisions_from_json,
    decisions_to_json,
    guess_unit,
    header_signature,
    loose,
    normalise,
    slug,
    suggest,
)

KPIS = [
    KpiRef("nps", "Net Promoter Score", ("net promoter score", "net promoter"), "score"),
    KpiRef("churn_rate", "Customer churn rate", ("churn", "logo churn"), "percent"),
    KpiRef("signups", "New sign-ups", ("sign ups", "registrations"), "count"),
    KpiRef("cac", "Customer acquisition cost", ("acquisition cost",), "currency"),
]
CATALOG_REFS = [
    KpiRef("mrr", "Monthly recurring revenue", ("recurring revenue",), "currency"),
    KpiRef("dau", "Daily active users", (), "count"),
]


def test_normal_forms_ignore_case_spacing_punctuation_and_units() -> None:
    assert normalise("Net  Promoter-Score ") == "netpromoterscore"
    assert normalise("R&D spend") == "randdspend"
    assert normalise("ＮＰＳ") == "nps"  # full-width letters fold by NFKC
    assert loose("Cost per MQL ($)") == "costpermql"
    assert loose("Churn rate %") == "churnrate"
    assert acronym("Net Promoter Score") == "nps"
    assert acronym("Revenue") == ""  # one word has no acronym
    assert slug("Cost per MQL ($)") == "cost_per_mql"
    assert slug("2024 target") == "kpi_2024_target"
    assert slug("Café €") == "cafe"


def test_each_matching_level_finds_the_kpi_and_says_how() -> None:
    labels = ["nps", "Net Promoter Score", "NET promoter-score", "NPS", "Acquisition cost (USD)", "logo churn",
              "Sign Ups", "CAC"]
    decisions = suggest(labels, KPIS)
    got = {label: (d.action, d.kpi_key, d.matched_by) for label, d in decisions.items()}
    assert got == {
        "nps": (EXISTING, "nps", "key"),
        "Net Promoter Score": (EXISTING, "nps", "name"),
        "NET promoter-score": (EXISTING, "nps", "alias"),
        "NPS": (EXISTING, "nps", "alias"),  # normalised "nps" is the key's normal form
        "Acquisition cost (USD)": (EXISTING, "cac", "loose"),  # "(USD)" dropped → an alias
        "logo churn": (EXISTING, "churn_rate", "alias"),
        "Sign Ups": (EXISTING, "signups", "alias"),
        "CAC": (EXISTING, "cac", "alias"),  # "cac" is the key's normal form
    }


def test_acronym_of_a_name_matches_when_no_key_or_alias_does() -> None:
    kpis = [KpiRef("promoter_score", "Net Promoter Score", (), "score")]
    decision = suggest(["NPS"], kpis)["NPS"]
    assert (decision.action, decision.kpi_key, decision.matched_by) == (EXISTING, "promoter_score", "acronym")


def test_an_ambiguous_label_is_not_guessed() -> None:
    kpis = [KpiRef("active_users", "Active users", ("users",)), KpiRef("paying_users", "Paying users", ("users",))]
    decision = suggest(["Users"], kpis)["Users"]
    assert decision.action == CUSTOM and decision.kpi_key == "users"
    assert "matches several KPIs" in decision.note and "Active users" in decision.note


def test_unmatched_labels_come_from_the_catalog_or_become_custom_kpis() -> None:
    decisions = suggest(["Recurring revenue", "MRR ($)", "Widgets shipped", "Daily Active Users"], KPIS,
                        CATALOG_REFS, units={"Widgets shipped": "count"})
    rr, mrr, widgets, dau = (decisions[k] for k in ("Recurring revenue", "MRR ($)", "Widgets shipped",
                                                     "Daily Active Users"))
    assert (rr.action, rr.catalog_key, rr.kpi_key, rr.unit) == (CATALOG, "mrr", "mrr", "currency")
    assert (mrr.action, mrr.kpi_key) == (CATALOG, "mrr")  # two labels of one catalog KPI share it
    assert (widgets.action, widgets.kpi_key, widgets.kpi_name) == (CUSTOM, "widgets_shipped", "Widgets shipped")
    assert (dau.action, dau.catalog_key) == (CATALOG, "dau")


def test_new_keys_never_collide_and_one_label_spelled_twice_is_one_kpi() -> None:
    decisions = suggest(["Café visits", "Cafe visits", "Sign ups", "sign-ups"],
                        [KpiRef("cafe_visits_total", "Visits")])
    assert decisions["Café visits"].kpi_key == "cafe_visits"
    assert decisions["Cafe visits"].kpi_key == "cafe_visits_2"  # same slug, different label
    assert decisions["Sign ups"].kpi_key == decisions["sign-ups"].kpi_key == "sign_ups"
    taken = suggest(["Widgets"], [KpiRef("other", "Other")], units={})
    assert taken["Widgets"].kpi_key == "widgets"


def test_remembered_decisions_win_unless_their_kpi_is_gone() -> None:
    remembered = {
        "Score": LabelDecision("Score", EXISTING, "nps", "Net Promoter Score"),
        "Old metric": LabelDecision("Old metric", EXISTING, "deleted_kpi"),
        "Noise": LabelDecision("Noise", IGNORE),
    }
    decisions = suggest(["Score", "Old metric", "Noise"], KPIS, remembered=remembered)
    assert (decisions["Score"].kpi_key, decisions["Score"].matched_by) == ("nps", "remembered")
    assert decisions["Noise"].action == IGNORE
    assert decisions["Old metric"].matched_by == "new"  # its KPI no longer exists: matched afresh


def test_header_signature_ignores_order_case_and_spacing_but_not_layout() -> None:
    a = header_signature(["NPS", "Sign ups", "Churn"], "wide")
    assert a == header_signature(["churn", "sign-ups", "nps", "NPS"], "wide")
    assert a != header_signature(["NPS", "Sign ups"], "wide")
    assert a != header_signature(["NPS", "Sign ups", "Churn"], "rows")
    assert len(a) == 64


def test_decisions_survive_json() -> None:
    decisions = suggest(["NPS", "Widgets"], KPIS)
    assert decisions_from_json(decisions_to_json(decisions)) == decisions
    assert decisions_from_json({"x": {"action": "explode"}, "y": "junk"}) == {}


def test_unit_guess_from_values_and_label() -> None:
    assert guess_unit(True, False, True) == "percent"
    assert guess_unit(False, False, True, "Conversion rate", all_fractions=True) == "percent"
    assert guess_unit(False, False, True, "Conversion rate", all_fractions=False) == "count"
    assert guess_unit(False, True, True) == "currency"
    assert guess_unit(False, False, True, "Cost per MQL ($)") == "currency"
    assert guess_unit(False, False, False, "Net change") == "ratio"
    assert guess_unit(False, False, True, "Tickets") == "count"
