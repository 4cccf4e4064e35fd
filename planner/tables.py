"""The rows of the result tables, as plain data: one source for the CLI (rich tables), the app (DataFrames) and
the report (HTML). Values stay numbers (None where a cell does not apply); each front end formats them.
"""

from __future__ import annotations

from typing import Any

from planner.results import Evaluation

__all__ = ["result_rows", "stage_rows", "multiple_rows", "method_text"]


def method_text(estimate: Any) -> str:
    """'exact', or the number of simulated trials behind a Monte Carlo figure."""
    return "exact" if estimate.exact else f"{estimate.n_sims:,} simulations"


def result_rows(result: Evaluation) -> list[dict[str, Any]]:
    """One row per scenario (and one for the assurance): truth, estimand, measure, P(success), MCSE, E[N]."""
    rows = []
    for r in result.results:
        rows.append(
            {
                "scenario": r.scenario.name,
                "treatment": r.scenario.treatment,
                "control": r.scenario.control,
                "estimand": tuple(r.estimand),
                "measure": r.label,
                "P(success)": r.success.value,
                "MCSE": r.success.mcse,
                "exact": r.success.exact,
                "expected N": r.expected_n,
                "method": method_text(r.success),
            }
        )
    if result.assurance is not None:
        a = result.assurance
        rows.append(
            {
                "scenario": "Assurance (design prior)",
                "treatment": None,
                "control": None,
                "estimand": (),
                "measure": "assurance",
                "P(success)": a.value,
                "MCSE": a.mcse,
                "exact": a.exact,
                "expected N": None if result.design.interim else float(result.design.arms.n),
                "method": method_text(a),
            }
        )
    return rows


def stage_rows(result: Evaluation) -> list[dict[str, Any]] | None:
    """Per scenario: P(stop for efficacy) and P(stop for futility; at the last look, fail) at each look (keyed by
    the look's label), early success, early futility stop, rejection ignoring futility, E[N]. None for fixed
    designs."""
    if result.results[0].stages is None:
        return None
    rows = []
    for r in result.results:
        s = r.stages
        assert s is not None  # every scenario of a sequential design has stages
        row: dict[str, Any] = {"scenario": r.scenario.name}
        for label, e, f in zip(s.boundaries["labels"], s.efficacy_stop, s.futility_stop, strict=True):
            row[f"{label}: efficacy"] = e.value
            row[f"{label}: futility/fail"] = f.value
        row.update(
            {
                "early success": s.early_success.value,
                "futility stop": s.futility_stop_early.value,
                "reject if futility ignored": s.reject_ignoring_futility.value,
                "expected N": r.expected_n,
                "max MCSE": max(e.mcse for e in (*s.efficacy_stop, *s.futility_stop)),
                "exact": all(e.exact for e in s.efficacy_stop),
            }
        )
        rows.append(row)
    return rows


def multiple_rows(result: Evaluation) -> list[dict[str, Any]] | None:
    """Per scenario of a [multiple] design: P(rejected) per hypothesis after the procedure and alone, all
    rejected, and the largest MCSE. None when no scenario has them."""
    rows = []
    for r in result.results:
        if r.multiple is None:
            continue
        row: dict[str, Any] = {"scenario": r.scenario.name}
        for h, a, u in zip(r.multiple.hypotheses, r.multiple.power, r.multiple.unadjusted, strict=True):
            row[f"{h}: adjusted"] = a.value
            row[f"{h}: alone"] = u.value
        row["all rejected"] = r.multiple.all_rejected.value
        row["max MCSE"] = max(e.mcse for e in (*r.multiple.power, r.multiple.all_rejected))
        rows.append(row)
    return rows or None
