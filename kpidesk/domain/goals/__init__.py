"""SMART goals: progress, status, the SMART check, forecast to the deadline,
per-period targets and RAG thresholds, objectives and the attention list.

Pure Python (no pandas, no database): services feed it KPI series as
``(period_start, value)`` pairs.
"""

from kpidesk.domain.goals.attention import (
    Anomaly,
    AttentionItem,
    AttentionKind,
    KpiSnapshot,
    attention_list,
)
from kpidesk.domain.goals.forecast import DeadlineForecast, forecast_to_deadline
from kpidesk.domain.goals.model import (
    Goal,
    KpiInfo,
    default_baseline,
    resolve_relative_target,
    resolve_target,
    validate_goal,
)
from kpidesk.domain.goals.objectives import ObjectiveSummary, summarize_objective
from kpidesk.domain.goals.phrases import ParsedStatement, parse_change, parse_horizon, parse_statement
from kpidesk.domain.goals.progress import expected_progress, pace, progress
from kpidesk.domain.goals.smart import SmartFinding, Verdict, check_smart
from kpidesk.domain.goals.status import (
    DEFAULT_BANDS,
    GoalEvaluation,
    GoalStatus,
    StatusBands,
    evaluate_goal,
)
from kpidesk.domain.goals.targets import Rag, RagThresholds, linear_ramp, stepped_ramp

__all__ = [
    "DEFAULT_BANDS",
    "Anomaly",
    "AttentionItem",
    "AttentionKind",
    "DeadlineForecast",
    "Goal",
    "GoalEvaluation",
    "GoalStatus",
    "KpiInfo",
    "KpiSnapshot",
    "ObjectiveSummary",
    "ParsedStatement",
    "Rag",
    "RagThresholds",
    "SmartFinding",
    "StatusBands",
    "Verdict",
    "attention_list",
    "check_smart",
    "default_baseline",
    "evaluate_goal",
    "expected_progress",
    "forecast_to_deadline",
    "linear_ramp",
    "pace",
    "parse_change",
    "parse_horizon",
    "parse_statement",
    "progress",
    "resolve_relative_target",
    "resolve_target",
    "stepped_ramp",
    "summarize_objective",
    "validate_goal",
]
