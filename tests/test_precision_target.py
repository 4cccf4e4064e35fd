"""Precision-targeted simulation (issue 17, item 2): ask for a Monte Carlo SE instead of a number of trials; every
reported probability meets it (or the cap is named), the same numbers on a second run and at another chunk size
and thread count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner import DesignError, load_design
from planner.cli import app
from planner.design import design_to_toml
from planner.engine import evaluate, evaluate_to_precision

ROOT = Path(__file__).resolve().parent.parent


def _design():
    # a small randomized HbA1c design: powers near the middle, where the MCSE is largest
    return load_design(ROOT / "examples" / "hba1c_randomized.toml").with_changes(
        {"arms.n": 8, "simulation.n_sims": 2_000_000}
    )


def test_every_figure_meets_the_target_and_the_numbers_repeat():
    d = _design()
    first = evaluate_to_precision(d, 0.001)
    assert first.precision["met"] and first.precision["n_sims"] == first.n_sims > 65_536
    figures = [r.success for r in first.results] + [first.type_one_error]
    assert all(f.mcse <= 0.001 for f in figures)
    again = evaluate_to_precision(d, 0.001)
    other = evaluate_to_precision(d, 0.001, chunk_size=7_919, threads=1)
    for run in (again, other):
        assert [r.success.value for r in run.results] == [r.success.value for r in first.results]
        assert run.type_one_error.value == first.type_one_error.value and run.n_sims == first.n_sims
    # the result is evaluate's at the final number of trials
    plain = evaluate(d, n_sims=first.n_sims)
    assert [r.success.value for r in plain.results] == [r.success.value for r in first.results]


def test_a_cap_below_the_need_is_named_and_exact_designs_return_at_once():
    capped = evaluate_to_precision(_design(), 0.0002, max_sims=100_000)
    assert not capped.precision["met"] and capped.n_sims == 100_000
    exact = evaluate_to_precision(load_design(ROOT / "examples" / "zimislecel_single_arm.toml"), 0.001)
    assert exact.precision["met"] and exact.precision["largest_mcse"] == 0.0
    with pytest.raises(DesignError, match="target_mcse"):
        evaluate_to_precision(_design(), 0.0)


def test_the_cli_and_the_design_field(tmp_path):
    out = CliRunner().invoke(
        app, ["evaluate", str(ROOT / "examples" / "hba1c_randomized.toml"), "--mcse", "0.002", "--json"]
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert payload["precision"]["met"] and all(s["mcse"] <= 0.002 for s in payload["scenarios"])
    path = tmp_path / "d.toml"
    path.write_text(design_to_toml(_design().with_changes({"simulation.target_mcse": 0.003})))
    text = CliRunner().invoke(app, ["evaluate", str(path)]).output
    assert "simulated until every Monte Carlo SE <= 0.003" in text
    capped = CliRunner().invoke(app, ["evaluate", str(path), "--mcse", "0.0002", "--sims", "100000"]).output
    assert "NOT MET: the cap of 100,000 trials was reached" in capped
    bad = CliRunner().invoke(app, ["evaluate", str(path), "--mcse", "0.5"])
    assert bad.exit_code == 2 and "--mcse" in bad.output


def test_the_report_says_how_many_trials_the_target_took(tmp_path):
    from planner.report import build_report

    d = _design().with_changes({"simulation.target_mcse": 0.003})
    out = build_report(d, tmp_path / "r", pdf=False)
    want = evaluate_to_precision(d, 0.003)
    assert f"{want.n_sims:,} (curves" in out.html.read_text()
    assert "chosen so that every Monte Carlo SE is at most 0.003" in out.html.read_text()


def test_the_app_field_sets_a_target_and_says_how_many_trials_it_took():
    from streamlit.testing.v1 import AppTest

    from tests.test_app import APP, load_text, results

    d = _design().with_changes({"simulation.n_sims": 500_000})
    at = load_text(AppTest.from_file(APP, default_timeout=120).run(), design_to_toml(d))
    at.number_input(key="w_target_mcse").set_value(0.002).run()
    assert not at.exception
    want = evaluate_to_precision(d.with_changes({"simulation.target_mcse": 0.002}), 0.002)
    assert any(f"{want.n_sims:,} trials per scenario" in c.value for c in at.caption)
    table = results(at)
    assert list(table["MCSE"]) == [f"{r.success.mcse:.4f}" for r in want.results]
    at.number_input(key="w_target_mcse").set_value(0.5).run()  # out of range: named beside the field
    assert not at.exception and any("simulation.target_mcse" in e.value for e in at.error)
