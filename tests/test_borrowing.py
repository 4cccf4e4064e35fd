"""Borrowing for a control arm (issue 15, item 4): type I error and power against drift (exact), Box's
prior-data conflict p-value and the information borrowed, against closed forms and direct computation with
scipy's Beta-binomial; the CLI flags a type I error above alpha."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from planner import DesignError, evaluate, parse_design
from planner.borrowing import borrowed_information, box_p_values, drift_table
from planner.cli import app
from planner.mixtures import BetaMixture

ROBUST = {
    "family": "beta",
    "components": [{"weight": 0.8, "a": 6.0, "b": 24.0}, {"weight": 0.2, "a": 1.0, "b": 1.0}],
}


def _spec(control_prior=ROBUST, n=120):
    return {
        "name": "borrowing",
        "arms": {"kind": "randomized", "n": n, "allocation": [2, 1]},
        "endpoint": {"kind": "binary"},
        "analysis": {
            "rule": "posterior-probability",
            "threshold": 0.975,
            "prior": {"family": "beta", "components": [{"weight": 1.0, "a": 1.0, "b": 1.0}]},
            "control_prior": control_prior,
        },
        "scenarios": [{"name": "a", "treatment": 0.45, "control": 0.2}],
    }


def test_box_p_values_equal_a_direct_beta_binomial_computation():
    prior = BetaMixture((0.8, 0.2), (6.0, 1.0), (24.0, 1.0))
    m = 40
    pmf = 0.8 * stats.betabinom.pmf(np.arange(m + 1), m, 6, 24) + 0.2 * stats.betabinom.pmf(
        np.arange(m + 1), m, 1, 1
    )
    direct = np.array([pmf[pmf <= pmf[x] * (1 + 1e-12)].sum() for x in range(m + 1)])
    assert np.allclose(box_p_values(prior, m), direct, atol=1e-12)
    # a uniform prior predicts every count equally: no count conflicts
    assert np.allclose(box_p_values(BetaMixture((1.0,), (1.0,), (1.0,)), m), 1.0)


def test_a_single_beta_prior_lends_exactly_its_a_plus_b():
    assert np.allclose(borrowed_information(BetaMixture((1.0,), (6.0,), (24.0,)), 40), 30.0, atol=1e-9)


def test_a_robust_prior_lends_less_as_the_data_move_away():
    borrowed = borrowed_information(BetaMixture((0.8, 0.2), (6.0, 1.0), (24.0, 1.0)), 40)
    assert borrowed[8] > 20 and borrowed[30] < 2  # 8 / 40 is the prior mean 0.2; 30 / 40 conflicts
    assert np.argmax(borrowed) in range(5, 12)


def test_drift_table_equals_exact_evaluation_and_direct_sums():
    d = parse_design(_spec())
    points = drift_table(d, [0.1, 0.2, 0.4], effect=0.25)
    prior = BetaMixture((0.8, 0.2), (6.0, 1.0), (24.0, 1.0))
    for p in points:
        scen = dict(_spec())
        scen["scenarios"] = [
            {"name": "null", "treatment": p.control, "control": p.control},
            {"name": "alt", "treatment": p.control + 0.25, "control": p.control},
        ]
        exact = evaluate(parse_design(scen), method="exact", type_one_error=False)
        assert p.type_one_error == pytest.approx(exact["null"].success.value, abs=1e-12)
        assert p.power == pytest.approx(exact["alt"].success.value, abs=1e-12)
        pmf = stats.binom.pmf(np.arange(41), 40, p.control)
        assert p.conflict == pytest.approx(float(pmf @ (box_p_values(prior, 40) <= 0.05)), abs=1e-15)
        assert p.borrowed == pytest.approx(float(pmf @ borrowed_information(prior, 40)), abs=1e-12)
    # borrowing from a prior centred at 0.2 inflates the type I error when the current control rate is higher
    assert points[2].type_one_error > 0.025 > points[0].type_one_error


def test_cli_flags_type_one_error_above_alpha_and_names_bad_input(tmp_path):
    import tomli_w

    path = tmp_path / "d.toml"
    path.write_bytes(tomli_w.dumps(_spec()).encode())
    runner = CliRunner()
    out = runner.invoke(app, ["drift", str(path), "--effect", "0.25", "--controls", "0.1,0.4"])
    assert out.exit_code == 0 and "TYPE I ERROR ABOVE ALPHA" in out.stdout and "0.4" in out.stdout
    js = runner.invoke(app, ["drift", str(path), "--effect", "0.25", "--controls", "0.1,0.4", "--json"])
    assert json.loads(js.stdout)["type_one_error_above_alpha_at"] == [0.4]
    bad = runner.invoke(app, ["drift", str(path), "--effect", "0.25", "--controls", "0.1,1.3"])
    assert bad.exit_code == 2 and "--controls" in bad.stderr and "1.3" in bad.stderr
    words = runner.invoke(app, ["drift", str(path), "--effect", "0.25", "--controls", "low"])
    assert words.exit_code == 2 and "--controls" in words.stderr


def test_designs_without_a_control_prior_are_refused_with_the_field_named():
    spec = _spec()
    del spec["analysis"]["control_prior"]
    spec["analysis"] = {"rule": "fisher"}
    with pytest.raises(DesignError, match="analysis.control_prior"):
        drift_table(parse_design(spec), [0.2], 0.2)
