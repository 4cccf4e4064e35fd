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


@pytest.mark.parametrize(
    "column, value, text",
    [
        ("P(success)", 0.123449, "0.1234"),  # probabilities and MCSE: 4 decimals
        ("MCSE", 0.00031, "0.0003"),
        ("expected N", 49.96, "50.0"),  # expected N and ESS: 1 decimal
        ("ESS", 7.6515, "7.7"),
        ("treatment", 0.83333333, "0.8333"),  # design inputs: 4 significant digits
        ("alpha", 0.025, "0.025"),
        ("bulk ESS", 12345.6, "12,346"),
        ("events", 1234, "1,234"),
        ("control", None, "\u2013"),  # does not apply: a dash
        ("control", float("nan"), "\u2013"),
        ("exact", True, "yes"),
        ("exact", False, "no"),
        ("scenario", "Phase 1/2 estimate", "Phase 1/2 estimate"),
    ],
)
def test_cell_text_formats_as_people_read(column, value, text):
    import numpy as np

    assert tables.cell_text(column, value) == text
    if isinstance(value, bool):
        assert tables.cell_text(column, np.bool_(value)) == text
    elif isinstance(value, int):
        assert tables.cell_text(column, np.int64(value)) == text
    elif isinstance(value, float):
        assert tables.cell_text(column, np.float64(value)) == text


def test_display_frame_is_the_table_as_text(sequential):
    frame = tables.results_table(sequential)
    shown = tables.display_frame(frame)
    assert list(shown.columns) == [tables.human(c) for c in frame.columns]
    for (_, row), (_, text) in zip(frame.iterrows(), shown.iterrows(), strict=True):
        assert text["P(success)"] == f"{row['P(success)']:.4f}"
        assert text["expected N"] == (
            "\u2013"
            if row["expected N"] is None or row["expected N"] != row["expected N"]
            else f"{row['expected N']:.1f}"
        )
