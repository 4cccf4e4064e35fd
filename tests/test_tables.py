"""The result rows (planner.tables): the one source of the CLI's, the app's and the report's tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner import evaluate, load_design, tables
from planner.tables import multiple_rows, result_rows, stage_rows

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def sequential():
    return evaluate(load_design(EXAMPLES / "zimislecel_group_sequential.toml"))


def test_result_rows_are_the_evaluation(sequential):
    rows = result_rows(sequential)
    assert [r["scenario"] for r in rows[:-1]] == [r.scenario.name for r in sequential.results]
    for row, r in zip(rows, sequential.results, strict=False):
        assert row["P(success)"] == r.success.value and row["MCSE"] == r.success.mcse
        assert row["expected N"] == r.expected_n and row["exact"] == r.success.exact
        assert row["measure"] == r.label
    assert rows[-1]["scenario"] == "Assurance (design prior)"
    assert rows[-1]["P(success)"] == sequential.assurance.value
    assert rows[-1]["expected N"] is None  # a sequential design's E[N] under the prior is not computed


def test_stage_rows_sum_to_one_per_scenario(sequential):
    rows = stage_rows(sequential)
    labels = sequential.results[0].stages.boundaries["labels"]
    for row, r in zip(rows, sequential.results, strict=True):
        total = sum(row[f"{label}: efficacy"] + row[f"{label}: futility/fail"] for label in labels)
        assert total == pytest.approx(1.0, abs=1e-12)
        assert sum(row[f"{label}: efficacy"] for label in labels) == pytest.approx(r.success.value, abs=1e-12)


def test_the_app_tables_are_the_rows(sequential):
    frame = tables.results_table(sequential)
    assert frame["P(success)"].tolist() == [r["P(success)"] for r in result_rows(sequential)]
    stages = tables.stages_table(sequential)
    assert stages["early success"].tolist() == [r["early success"] for r in stage_rows(sequential)]


def test_fixed_designs_have_no_stage_rows_and_multiple_designs_have_multiple_rows():
    fixed = evaluate(load_design(EXAMPLES / "zimislecel_single_arm.toml"))
    assert stage_rows(fixed) is None and multiple_rows(fixed) is None
    several = evaluate(load_design(EXAMPLES / "hba1c_key_secondaries.toml"), n_sims=2_000)
    rows = multiple_rows(several)
    assert rows and all(0.0 <= row["all rejected"] <= 1.0 for row in rows)
    hypotheses = several.design.multiple.hypotheses
    for row in rows:  # a hypothesis rejected after the procedure is rejected alone too (all procedures here)
        assert all(row[f"{h}: adjusted"] <= row[f"{h}: alone"] + 1e-12 for h in hypotheses)
