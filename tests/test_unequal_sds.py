"""Unequal standard deviations per arm (issue 15, item 5): Welch's and the pooled t test on fixed randomized
designs whose scenarios give the control arm its own sd, against an independent per-participant simulation
(numpy draws, scipy's ttest_ind), and the type I error guard."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from planner import DesignError, evaluate, parse_design


def _design(rule, n=90, allocation=(2, 1), **scenario_extra):
    return parse_design(
        {
            "name": "unequal sds",
            "arms": {"kind": "randomized", "n": n, "allocation": list(allocation)},
            "endpoint": {"kind": "continuous", "sd": 1.0},
            "analysis": {"rule": rule},
            "scenarios": [
                {"name": "null", "treatment": 0.0, "control": 0.0, "control_sd": 2.0, **scenario_extra},
                {"name": "effect 0.8", "treatment": 0.8, "control": 0.0, "control_sd": 2.0, **scenario_extra},
            ],
        }
    )


def _per_participant(equal_var: bool, mu: float, trials: int = 20_000, seed: int = 9) -> float:
    """60 treated ~ N(mu, 1), 30 controls ~ N(0, 2^2); one-sided t test at 0.025 (scipy, vectorized)."""
    rng = np.random.default_rng(seed)
    t = rng.normal(mu, 1.0, (trials, 60))
    c = rng.normal(0.0, 2.0, (trials, 30))
    res = stats.ttest_ind(t, c, axis=1, equal_var=equal_var, alternative="greater")
    return float(np.mean(res.pvalue <= 0.025))


@pytest.mark.parametrize(("rule", "equal_var"), [("welch", False), ("t-pooled", True)])
def test_rejection_rates_equal_a_per_participant_simulation(rule, equal_var):
    result = evaluate(_design(rule), n_sims=100_000, seed=4, type_one_error=False)
    for r, mu in zip(result.results, (0.0, 0.8), strict=True):
        q = _per_participant(equal_var, mu)
        se = np.sqrt(r.success.mcse**2 + q * (1 - q) / 20_000)
        assert abs(r.success.value - q) <= 4 * se, (rule, mu, r.success.value, q)


def test_the_guard_flags_the_pooled_t_with_unequal_sds_and_says_why():
    """2:1 allocation with the larger sd in the smaller arm: the pooled t's size is about 0.056 (flagged, the
    cause names control_sd and welch); Welch's test stays within alpha + 2 MCSE."""
    pooled = evaluate(_design("t-pooled"), n_sims=50_000, seed=4).type_one_error
    assert pooled is not None and pooled.exceeds and pooled.value > 0.045
    assert "control_sd" in pooled.message and "welch" in pooled.message
    welch = evaluate(_design("welch"), n_sims=50_000, seed=4).type_one_error
    assert welch is not None and not welch.exceeds


def test_equal_sds_keep_the_pooled_fast_path_numbers():
    """control_sd equal to sd gives the same numbers as no control_sd (the pooled sufficient statistics)."""
    same = parse_design(
        {
            "name": "equal",
            "arms": {"kind": "randomized", "n": 90, "allocation": [2, 1]},
            "endpoint": {"kind": "continuous", "sd": 1.0},
            "analysis": {"rule": "t-pooled"},
            "scenarios": [{"name": "x", "treatment": 0.5, "control": 0.0, "control_sd": 1.0}],
        }
    )
    plain = parse_design(
        {
            "name": "equal",
            "arms": {"kind": "randomized", "n": 90, "allocation": [2, 1]},
            "endpoint": {"kind": "continuous", "sd": 1.0},
            "analysis": {"rule": "t-pooled"},
            "scenarios": [{"name": "x", "treatment": 0.5, "control": 0.0}],
        }
    )
    r1 = evaluate(same, n_sims=5_000, seed=3, method="simulate", type_one_error=False).results[0].success
    r2 = evaluate(plain, n_sims=5_000, seed=3, method="simulate", type_one_error=False).results[0].success
    assert r1.value == r2.value


@pytest.mark.parametrize(
    ("patch", "words"),
    [
        (
            {
                "arms": {"kind": "single-arm", "n": 40},
                "analysis": {"rule": "one-sample-t", "performance_goal": 0.0},
            },
            "control_sd",
        ),
        ({"analysis": {"rule": "ancova"}}, "control_sd"),
        ({"scenarios": [{"name": "x", "treatment": 0.5, "control": 0.0, "control_sd": -1.0}]}, "control_sd"),
    ],
)
def test_bad_control_sds_are_named(patch, words):
    spec = {
        "name": "bad",
        "arms": {"kind": "randomized", "n": 90},
        "endpoint": {"kind": "continuous", "sd": 1.0},
        "analysis": {"rule": "welch"},
        "scenarios": [{"name": "x", "treatment": 0.5, "control": 0.0, "control_sd": 2.0}],
    }
    spec.update(patch)
    if spec["arms"]["kind"] == "single-arm":
        spec["scenarios"] = [{"name": "x", "treatment": 0.5, "control_sd": 2.0}]
    with pytest.raises(DesignError, match=words):
        parse_design(spec)
