"""The type I error guard (planner.type_one_error) and calibration on the estimand scale (planner.search),
in the API, the JSON, the CLI table and the report finding."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from planner import evaluate, load_design, parse_design
from planner.cli import app
from planner.design import design_to_toml
from planner.errors import DesignError
from planner.search import calibrate_threshold, size_and_calibrate
from tests.conftest import make_design

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
runner = CliRunner()


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.toml")))
def test_every_shipped_example_is_within_alpha_or_flagged(example):
    design = load_design(EXAMPLES / example)
    result = evaluate(design, n_sims=20_000)
    check = result.type_one_error
    if design.multiple is not None:
        assert check is None  # its family-wise error: planner evaluate --fwer (tests/test_multiplicity.py)
        return
    limit = design.analysis.alpha * (1 + 1e-9) if check.exact else design.analysis.alpha + 2 * check.mcse
    assert check.exceeds == (check.value > limit)
    assert not check.exceeds, (
        check.message
    )  # the shipped examples hold alpha (the Bayesian one is calibrated)


def bayes_example(threshold=0.975):
    return load_design(EXAMPLES / "zimislecel_single_arm_bayes.toml").with_changes(
        {"analysis.threshold": threshold}
    )


def test_uncalibrated_bayesian_design_is_flagged_with_its_exact_type_one_error():
    result = evaluate(bayes_example())
    check = result.type_one_error
    assert check.exact and check.value == pytest.approx(0.05946, abs=1e-5)
    assert check.exceeds and "not calibrated" in check.cause and "informative analysis prior" in check.cause
    # the maximum is at the null boundary on the estimand scale: (1 - 0.08) p = 0.5
    assert check.at.treatment == pytest.approx(0.5 / 0.92)
    values = [g.value for g in check.grid]
    assert values == sorted(values)  # increasing in the response rate: the boundary is the worst case


def test_guard_in_json_and_cli_table(tmp_path):
    out = runner.invoke(app, ["evaluate", str(EXAMPLES / "zimislecel_single_arm_bayes.toml"), "--json"])
    assert out.exit_code == 0
    assert (
        json.loads(out.stdout)["type_one_error"]["exceeds_alpha"] is False
    )  # the shipped file is calibrated
    bad = tmp_path / "uncalibrated.toml"
    bad.write_text(design_to_toml(bayes_example()))
    out = runner.invoke(app, ["evaluate", str(bad), "--json"])
    t1 = json.loads(out.stdout)["type_one_error"]
    assert t1["exceeds_alpha"] is True and t1["max_type_one_error"] == pytest.approx(0.05946, abs=1e-5)
    assert "TYPE I ERROR ABOVE ALPHA" in t1["message"] and "warning" in out.stderr
    table = runner.invoke(app, ["evaluate", str(bad)])
    assert "WARNING" in table.stdout and "0.0595" in table.stdout and "not calibrated" in table.stdout
    assert (
        "type I error 0.0595" in table.stdout
    )  # a Bayesian design's title states its type I error, not alpha


def test_null_boundary_follows_dropout_on_the_estimand_scale():
    base = load_design(EXAMPLES / "zimislecel_single_arm.toml")
    for rate in (0.0, 0.08, 0.2):
        d = base.with_changes({"dropout.rate": rate})
        check = evaluate(d).type_one_error
        assert check.at.treatment == pytest.approx(0.5 / (1 - rate))
        assert check.value <= 0.025 and check.exact
    missing = base.with_changes({"dropout.strategy": "missing"})
    assert evaluate(missing).type_one_error.at.treatment == pytest.approx(0.5)
    cont = make_design(
        {"kind": "single-arm", "n": 20},
        {"kind": "continuous", "sd": 1.0, "failure_value": -2.0},
        {"rule": "one-sample-t", "performance_goal": 0.0},
        [{"name": "s", "treatment": 0.5}],
        dropout={"rate": 0.1, "strategy": "failure"},
        n_sims=20_000,
    )
    boundary = cont.null_boundary()
    assert 0.9 * boundary + 0.1 * -2.0 == pytest.approx(0.0)  # the estimand equals the goal there


def test_two_arm_z_test_is_flagged_exactly_over_the_common_rate():
    # pooled z test, 25 per arm: exact size 0.0325 at a common rate of 0.5 (README; tests/test_rules_binary.py)
    d = make_design(
        {"kind": "randomized", "n": 50},
        {"kind": "binary"},
        {"rule": "z-pooled"},
        [{"name": "null", "treatment": 0.3, "control": 0.3}],
    )
    check = evaluate(d).type_one_error
    assert check.exact and check.exceeds and check.value > 0.03 and "discreteness" in check.cause
    fisher = evaluate(d.with_changes({"analysis.rule": "fisher"})).type_one_error
    assert not fisher.exceeds and fisher.value <= 0.025


def test_simulated_guard_carries_its_mcse():
    d = make_design(
        {"kind": "randomized", "n": 40},
        {"kind": "continuous", "sd": 1.0},
        {"rule": "t-pooled"},
        [{"name": "alt", "treatment": 0.8, "control": 0.0}],
        n_sims=50_000,
    )
    check = evaluate(d).type_one_error
    assert not check.exact and check.mcse == pytest.approx(np.sqrt(check.value * (1 - check.value) / 50_000))
    assert abs(check.value - 0.025) <= 3 * check.mcse and not check.exceeds


# --- calibration ----------------------------------------------------------------------------------------


def exact_size_at_the_estimand_boundary(design):
    """P(success) at the null boundary by direct enumeration: X ~ Bin(n, 0.5) on the composite scale."""
    from planner.mixtures import BetaMixture
    from planner.priors import analysis_mixture

    prior = analysis_mixture(design.analysis.prior, "beta")
    assert isinstance(prior, BetaMixture)
    n, goal = design.arms.n, design.analysis.performance_goal
    x = np.arange(n + 1)
    post = prior.posterior_sf(goal, x, n)
    return float(np.sum(stats.binom.pmf(x, n, goal)[post > design.analysis.threshold]))


def test_calibration_holds_alpha_at_the_estimand_boundary_with_dropout():
    # the issue's case: 8% dropout counted as failure, null value 0.5 given on the completers' scale
    design = bayes_example()
    out = calibrate_threshold(design, 0.025, [0.5])
    calibrated = design.with_changes({"analysis.threshold": out["threshold"]})
    size = exact_size_at_the_estimand_boundary(calibrated)
    assert size <= 0.025 and out["max_type_one_error"] == pytest.approx(size, abs=1e-15) and out["exact"]
    # and it is the smallest such threshold: a hair lower lets one more count succeed, above alpha
    lower = design.with_changes({"analysis.threshold": out["threshold"] - 2e-6})
    assert exact_size_at_the_estimand_boundary(lower) > 0.025


def test_calibration_rejects_null_values_outside_the_null_and_frequentist_rules():
    with pytest.raises(DesignError, match=r"null_values: \[0.6\] are not in the null"):
        calibrate_threshold(bayes_example(), 0.025, [0.6])
    with pytest.raises(DesignError, match="calibration needs a Bayesian rule, got 'exact-binomial'"):
        calibrate_threshold(load_design(EXAMPLES / "zimislecel_single_arm.toml"))
    with pytest.raises(DesignError, match=r"alpha: must lie strictly between 0 and 0.5, got 1.3"):
        calibrate_threshold(bayes_example(), 1.3)


def test_simulated_calibration_keeps_a_monte_carlo_margin():
    prior = {"family": "normal", "components": [{"weight": 1.0, "mean": 0.5, "sd": 0.3}]}
    d = make_design(
        {"kind": "single-arm", "n": 20},
        {"kind": "continuous", "sd": 1.0},
        {"rule": "posterior-probability", "threshold": 0.975, "performance_goal": 0.0, "prior": prior},
        [{"name": "null", "treatment": 0.0}],
        n_sims=20_000,
    )
    out = calibrate_threshold(d, tolerance=1e-4)
    assert not out["exact"] and out["max_type_one_error"] + 2 * out["mcse"] <= 0.025
    assert out["threshold"] > 0.975  # the informative prior needs a stricter threshold


def test_joint_search_over_n_and_threshold():
    design = bayes_example()
    found = size_and_calibrate(design, 0.9, scenario="Phase 1/2 estimate", n_min=20, n_max=60)["found"]
    assert found["power"] >= 0.9 and found["max_type_one_error"] <= 0.025
    smaller = size_and_calibrate(design, 0.9, scenario="Phase 1/2 estimate", n_min=20, n_max=found["n"] - 1)
    assert smaller["found"] is None


def test_cli_calibrate_writes_a_calibrated_design(tmp_path):
    src = tmp_path / "bayes.toml"
    src.write_text(design_to_toml(bayes_example()))
    out = runner.invoke(app, ["calibrate", str(src), "-o", str(tmp_path / "cal.toml"), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    cal = load_design(tmp_path / "cal.toml")
    assert cal.analysis.threshold == data["threshold"]
    check = evaluate(cal).type_one_error
    assert not check.exceeds and check.value == pytest.approx(data["max_type_one_error"])
    bad = runner.invoke(app, ["calibrate", str(EXAMPLES / "zimislecel_single_arm.toml")])
    assert (
        bad.exit_code == 2
        and "calibration needs a Bayesian rule" in bad.output
        and "Traceback" not in bad.output
    )
    bad = runner.invoke(app, ["calibrate", str(src), "-o", str(tmp_path / "missing" / "x.toml")])
    assert bad.exit_code == 2 and "--output: folder" in bad.output


def test_unreachable_alpha_in_calibration_names_alpha():
    d = parse_design(
        {
            "name": "tiny",
            "arms": {"kind": "single-arm", "n": 3},
            "endpoint": {"kind": "binary"},
            "analysis": {
                "rule": "posterior-probability",
                "performance_goal": 0.9,
                "threshold": 0.9,
                "alpha": 0.01,
            },
            "scenarios": [{"name": "s", "treatment": 0.95}],
        }
    )
    # 3 of 3 responders has probability 0.729 under the goal: only a threshold at which nothing succeeds holds 0.01
    with pytest.raises(DesignError, match=r"alpha: 0.01 cannot be reached with N = 3"):
        calibrate_threshold(d)


def test_report_states_a_bayesian_designs_type_one_error_and_its_finding(tmp_path):
    from planner.report import build_report

    design = bayes_example()
    out = build_report(design, tmp_path / "r", n_sims=2000, pdf=False)
    page = out.html.read_text()
    check = evaluate(design).type_one_error
    assert "type I error (maximum over the null)" in page and f"{check.value:.4f} (exact)" in page
    assert 'class="alert"' in page and "above the one-sided alpha 0.025" in page
    assert out.numbers["max type I error"] == [check.value, 0.0]


def test_cli_shows_the_beta_spending_inflation(tmp_path):
    from tests.conftest import make_design

    d = make_design(
        {"kind": "randomized", "n": 300},
        {"kind": "continuous", "sd": 1.0},
        {"rule": "t-pooled"},
        [{"name": "alt", "treatment": 0.3, "control": 0.0}],
        n_sims=2000,
    ).with_changes({"interim": {"fractions": [0.5, 1.0], "futility": "beta-spending"}})
    path = tmp_path / "bs.toml"
    path.write_text(design_to_toml(d))
    out = runner.invoke(app, ["evaluate", str(path)])
    assert out.exit_code == 0, out.output
    assert "maximum N = 1.0560 x the fixed design's N" in " ".join(out.stdout.split())  # rpact: 1.0559984821
