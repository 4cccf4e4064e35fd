"""Sample-size search and threshold calibration against closed forms, exact scans and brute force."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from planner import DesignError, analytic, evaluate, load_design
from planner.cli import app
from planner.search import calibrate_threshold, exact_t_power, power_curve, smallest_n
from tests.conftest import make_design


def t_design(n=100, rule="t-pooled", dropout=None, delta=0.5):
    return make_design(
        {"kind": "randomized", "n": n},
        {"kind": "continuous", "sd": 1.0},
        {"rule": rule},
        [{"name": "alt", "treatment": delta, "control": 0.0}],
        dropout=dropout,
    )


def test_t_test_sample_size_equals_closed_form():
    """Smallest total N: the first N whose noncentral-t power (arms split as the design splits them) reaches 0.9."""
    res = smallest_n(t_design(), 0.9)
    expected = next(
        n for n in range(4, 400) if analytic.power_t_two_sample(0.5, 1.0, n - n // 2, n // 2, 0.025) >= 0.9
    )
    assert res.n == expected == 171  # R: power.t.test(power=0.9, delta=0.5) gives n = 85.03 per arm
    assert res.mcse == 0.0


def test_exact_t_power_agrees_with_simulation_under_dropout():
    d = t_design(n=60, dropout={"rate": 0.2, "strategy": "missing"})
    exact = exact_t_power(d, d.scenarios[0])
    sim = evaluate(d, n_sims=200_000).results[0].success
    assert abs(sim.value - exact) <= 4 * sim.mcse


def test_binary_search_shows_the_saw_tooth(examples_dir):
    d = load_design(examples_dir / "zimislecel_single_arm.toml")
    res = smallest_n(d, 0.9, scenario="Phase 1/2 estimate", n_max=80)
    # independent scan: exact binomial test, composite rate 0.8333 x 0.92, critical value from scipy
    p = 0.8333333333333334 * 0.92

    def power(n):
        crit = next((x for x in range(n + 1) if stats.binom.sf(x - 1, n, 0.5) <= 0.025), n + 1)
        return stats.binom.sf(crit - 1, n, p)

    powers = {n: power(n) for n in range(2, 81)}
    assert res.n == min(n for n, v in powers.items() if v >= 0.9)
    assert res.n_stable == min(n for n in powers if all(powers[m] >= 0.9 for m in range(n, 81)))
    assert res.n_stable > res.n  # the saw-tooth: power dips below target after first reaching it
    assert {p.n: p.value for p in res.curve}[res.n] == pytest.approx(powers[res.n], abs=1e-12)


def test_simulated_search_with_common_random_numbers():
    d = t_design(n=100, rule="welch", delta=0.5)
    res = smallest_n(d, 0.9, n_sims=100_000)
    closed = next(
        n for n in range(4, 400) if analytic.power_t_two_sample(0.5, 1.0, n - n // 2, n // 2, 0.025) >= 0.9
    )
    assert abs(res.n - closed) <= 2  # Welch ~ pooled t at equal variances; MC noise of +-0.001 in power
    assert res.value >= 0.9 and res.mcse > 0


def test_power_curve_is_smooth_and_fast():
    import time

    d = t_design(rule="welch")
    began = time.perf_counter()
    curve = power_curve(d, range(20, 220, 10), n_sims=10_000)
    elapsed = time.perf_counter() - began
    values = np.array([p.value for p in curve])
    assert len(curve) == 20 and np.all(np.diff(values) >= -1e-12)  # common random numbers: monotone
    assert elapsed < 10  # a loose guard; the measured figure is in benchmarks/README.md


def test_assurance_search(examples_dir):
    d = load_design(examples_dir / "zimislecel_single_arm.toml")
    res = smallest_n(d, 0.7, metric="assurance", n_max=300)
    assert res.n is not None and res.value >= 0.7
    below = evaluate(d.with_changes({"arms.n": res.n - 1})).assurance.value
    assert below < 0.7


def test_calibrated_threshold_controls_the_composite_null():
    d = make_design(
        {"kind": "single-arm", "n": 50},
        {"kind": "binary"},
        {
            "rule": "posterior-probability",
            "performance_goal": 0.5,
            "threshold": 0.9,
            "prior": {
                "family": "beta",
                "components": [{"weight": 0.5, "a": 11.0, "b": 3.0}, {"weight": 0.5, "a": 1.0, "b": 1.0}],
            },
        },
        [{"name": "null", "treatment": 0.5}],
    )
    grid = np.linspace(0.3, 0.5, 11)
    out = calibrate_threshold(d, 0.025, grid)
    assert out["max_type_one_error"] <= 0.025
    looser = d.with_changes(
        {
            "analysis.threshold": out["threshold"] - 2e-4,
            "scenarios": [{"name": f"n{i}", "treatment": float(v)} for i, v in enumerate(grid)],
        }
    )
    assert max(r.success.value for r in evaluate(looser).results) > 0.025


def test_bad_targets_are_named():
    with pytest.raises(DesignError, match="target"):
        smallest_n(t_design(), 1.2)
    with pytest.raises(DesignError, match="scenario"):
        smallest_n(t_design(), 0.9, scenario="nope")
    with pytest.raises(DesignError, match="n_min"):
        smallest_n(t_design(), 0.9, n_min=50, n_max=10)


def test_cli_size(examples_dir):
    runner = CliRunner()
    out = runner.invoke(
        app, ["size", str(examples_dir / "hba1c_randomized.toml"), "--target-power", "0.9", "--json"]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    d = load_design(examples_dir / "hba1c_randomized.toml")
    assert data["n"] == smallest_n(d, 0.9).n
    bad = runner.invoke(app, ["size", str(examples_dir / "hba1c_randomized.toml"), "--target-power", "1.5"])
    assert bad.exit_code == 2 and "target" in bad.output
    none = runner.invoke(app, ["size", str(examples_dir / "hba1c_randomized.toml")])
    assert none.exit_code == 2


def test_two_proportion_sample_size_against_the_normal_approximation():
    """R: power.prop.test(power=0.9, p1=0.4, p2=0.6, sig.level=0.025, alternative="one.sided") gives n = 129.25.

    The exact power of the pooled z test is a saw-tooth in N: it first reaches 0.9 at 128 per arm and stays
    above it from 131 per arm; the normal approximation's 129.25 lies in that band, within 1.25 participants
    of the first N.
    """
    d = make_design(
        {"kind": "randomized", "n": 200},
        {"kind": "binary"},
        {"rule": "z-pooled"},
        [{"name": "alt", "treatment": 0.6, "control": 0.4}],
    )
    res = smallest_n(d, 0.9, n_min=200, n_max=320)
    closed = analytic.n_two_proportions(0.6, 0.4, 0.025, 0.9)
    assert closed == pytest.approx(129.25288713, abs=1e-3)
    assert abs(res.n / 2 - closed) <= 1.5
    assert res.n / 2 <= closed <= res.n_stable / 2
