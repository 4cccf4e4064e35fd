"""Assurance by stage and outcome (issue 17, item 3): how a group sequential trial ends, per scenario and under
the design prior -- summing to 1, equal to the exact multi-stage recursion for a binary design and within 4 MCSE
of a brute-force simulation written here (flip-flop rates included); simulated designs; CLI, report, app."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from planner import evaluate, load_design, parse_design
from planner.cli import app
from planner.multistage import multistage_for
from planner.stages import PRIOR_ROW, stage_outcomes

ROOT = Path(__file__).resolve().parent.parent
GS = ROOT / "examples" / "zimislecel_group_sequential.toml"


def _three_looks():
    return parse_design(
        {
            "name": "three looks",
            "arms": {"kind": "single-arm", "n": 45},
            "endpoint": {"kind": "binary"},
            "dropout": {"rate": 0.05, "strategy": "failure"},
            "analysis": {"rule": "exact-binomial", "performance_goal": 0.5},
            "interim": {
                "fractions": [1 / 3, 2 / 3, 1.0],
                "spending": "obrien-fleming",
                "futility": "counts",
                "futility_counts": [4, 12],
            },
            "design_prior": {
                "treatment": {
                    "family": "beta",
                    "components": [{"weight": 0.7, "a": 11.0, "b": 3.0}, {"weight": 0.3, "a": 2.0, "b": 2.0}],
                }
            },
            "scenarios": [{"name": "goal", "treatment": 0.5 / 0.95}, {"name": "0.75", "treatment": 0.75}],
        }
    )


def _brute_force(design, draw_rate, trials, rng):
    """Trials simulated stage by stage with numpy: the count of each stage, the boundaries applied; also the
    final count had the trial continued (for the flip-flops)."""
    b = multistage_for(design).boundaries()
    sizes = np.diff([0, *b.analysed])
    k = len(sizes)
    q = draw_rate(trials) * (1 - design.dropout.rate)
    counts = np.cumsum(np.column_stack([rng.binomial(s, q) for s in sizes]), axis=1)
    final_success = counts[:, -1] >= b.efficacy[-1]
    alive = np.ones(trials, dtype=bool)
    eff, fut, flip_fut, flip_eff = [], [], [], []
    for i in range(k):
        stop_e = alive & (counts[:, i] >= b.efficacy[i])
        alive &= ~stop_e
        stop_f = alive & (counts[:, i] < (b.efficacy[i] if i == k - 1 else b.futility[i]))
        alive &= ~stop_f
        eff.append(stop_e.mean())
        fut.append(stop_f.mean())
        if i < k - 1:
            flip_fut.append((stop_f & final_success).mean())
            flip_eff.append((stop_e & ~final_success).mean())
    return np.array(eff), np.array(fut), np.array(flip_fut), np.array(flip_eff)


def test_exact_outcomes_sum_to_one_and_equal_the_multistage_recursion():
    d = _three_looks()
    rows = stage_outcomes(d)
    ev = evaluate(d)
    for row, sc, r in zip(rows, d.scenarios, ev.results, strict=False):
        oc = multistage_for(d).oc(sc.treatment)
        assert [e.value for e in row.efficacy] == pytest.approx(list(oc.efficacy[0]), abs=1e-12)
        assert [f.value for f in row.futility] == pytest.approx(list(oc.futility[0]), abs=1e-12)
        assert row.expected_n == pytest.approx(r.expected_n, abs=1e-9)
    assert all(row.total == pytest.approx(1.0, abs=1e-12) for row in rows)
    assert rows[-1].name == PRIOR_ROW and sum(e.value for e in rows[-1].efficacy) == pytest.approx(
        ev.assurance.value, abs=1e-9
    )


def test_exact_outcomes_and_flip_flops_equal_a_brute_force_simulation():
    d = _three_looks()
    rows = stage_outcomes(d)
    rng = np.random.default_rng(7)
    trials = 200_000
    draws = {
        "goal": lambda n: np.full(n, 0.5 / 0.95),
        "0.75": lambda n: np.full(n, 0.75),
        PRIOR_ROW: lambda n: np.where(rng.random(n) < 0.7, rng.beta(11, 3, n), rng.beta(2, 2, n)),
    }
    for row in rows:
        eff, fut, flip_fut, flip_eff = _brute_force(d, draws[row.name], trials, rng)
        pairs = [
            *zip([e.value for e in row.efficacy], eff, strict=True),
            *zip([f.value for f in row.futility], fut, strict=True),
            *zip(row.futility_then_success, flip_fut, strict=True),
            *zip(row.efficacy_then_failure, flip_eff, strict=True),
        ]
        for exact, simulated in pairs:
            assert abs(exact - simulated) <= 4 * math.sqrt(max(exact * (1 - exact), 1e-5) / trials), (
                row.name,
                exact,
                simulated,
            )


def test_simulated_designs_read_the_evaluation_and_sum_to_one():
    design = parse_design(
        {
            "name": "continuous with a look",
            "arms": {"kind": "randomized", "n": 60},
            "endpoint": {"kind": "continuous", "sd": 1.0},
            "analysis": {"rule": "t-pooled"},
            "interim": {
                "fractions": [0.5, 1.0],
                "spending": "obrien-fleming",
                "futility": "conditional-power",
                "futility_threshold": 0.1,
            },
            "design_prior": {
                "treatment": {"family": "normal", "components": [{"weight": 1.0, "mean": 0.6, "sd": 0.2}]},
                "control": {"family": "point", "value": 0.0},
            },
            "simulation": {"n_sims": 20_000},
            "scenarios": [{"name": "0.6", "treatment": 0.6, "control": 0.0}],
        }
    )
    rows = stage_outcomes(design)
    assert [r.name for r in rows] == ["0.6", PRIOR_ROW]
    for r in rows:
        assert r.total == pytest.approx(1.0, abs=1e-12) and r.futility_then_success is None
        assert all(e.mcse > 0 or e.value in (0.0, 1.0) for e in r.efficacy)
    assert sum(e.value for e in rows[-1].efficacy) == pytest.approx(
        evaluate(design).assurance.value, abs=1e-12
    )


def test_the_cli_report_and_app_show_how_the_trial_ends(tmp_path):
    import pandas as pd
    from streamlit.testing.v1 import AppTest

    from planner.report import build_report
    from tests.test_app import APP

    design = load_design(GS)
    rows = stage_outcomes(design)
    out = CliRunner().invoke(app, ["stages", str(GS), "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert [p["scenario"] for p in payload] == [r.name for r in rows]
    assert payload[-1]["efficacy_stop"][0]["value"] == rows[-1].efficacy[0].value
    build_report(design, tmp_path / "r", pdf=False)
    csv = pd.read_csv(tmp_path / "r" / "outcomes_by_stage.csv")
    assert list(csv["final success"]) == pytest.approx([r.efficacy[-1].value for r in rows], abs=1e-12)
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.selectbox(key="example_choice").set_value(GS.name).run()
    assert not at.exception
    table = next(t.value for t in at.table if "final success" in t.value.columns)
    assert list(table["final success"]) == [f"{r.efficacy[-1].value:.4f}" for r in rows]
    bad = CliRunner().invoke(app, ["stages", str(ROOT / "examples" / "zimislecel_single_arm.toml")])
    assert bad.exit_code == 2 and "interim" in bad.output
