"""One core: every design is simulated look by look (planner.group_sequential.simulate_looks), a fixed
design being a one-look design, and each rule owns its statistic (the fixed test and the sequential looks
compute the same one) with one tie convention: a statistic equal to its boundary crosses it
(planner.sequential.at_or_above; equivalently p <= alpha).

The reference for "the same design, fixed and sequential": the design's fixed test, and the same design's
statistic against a one-look boundary from the spending machinery (at information 1 every spending function
spends all of alpha, so the boundary is z_{1-alpha}); they must decide every simulated trial alike.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from planner import parse_design
from planner.endpoints import BinaryArm, TrialSample, simulate_trials
from planner.group_sequential import BoundaryLooks, look_decision
from planner.randomness import BlockStreams
from planner.rules import rule_for
from planner.sequential import at_or_above, efficacy_boundaries

DROPOUTS = {
    "no dropout": None,
    "missing": {"rate": 0.15, "strategy": "missing"},
    "failure": {"rate": 0.15, "strategy": "failure"},
}
DESIGNS = {
    "z-score": {
        "arms": {"kind": "single-arm", "n": 50},
        "endpoint": {"kind": "binary"},
        "analysis": {"rule": "z-score", "performance_goal": 0.5},
        "scenarios": [{"name": "null", "treatment": 0.5}, {"name": "alt", "treatment": 0.7}],
    },
    "z-pooled": {
        "arms": {"kind": "randomized", "n": 120},
        "endpoint": {"kind": "binary"},
        "analysis": {"rule": "z-pooled"},
        "scenarios": [
            {"name": "null", "treatment": 0.3, "control": 0.3},
            {"name": "alt", "treatment": 0.5, "control": 0.3},
        ],
    },
    "one-sample-t": {
        "arms": {"kind": "single-arm", "n": 40},
        "endpoint": {"kind": "continuous", "sd": 1.2, "better": "lower", "failure_value": 0.5},
        "analysis": {"rule": "one-sample-t", "performance_goal": -0.5},
        "scenarios": [{"name": "null", "treatment": -0.5}, {"name": "alt", "treatment": -1.1}],
    },
    "t-pooled": {
        "arms": {"kind": "randomized", "n": 80},
        "endpoint": {"kind": "continuous", "sd": 1.0, "failure_value": -1.0},
        "analysis": {"rule": "t-pooled"},
        "scenarios": [
            {"name": "null", "treatment": 0.0, "control": 0.0},
            {"name": "alt", "treatment": 0.6, "control": 0.0},
        ],
    },
    "nb-wald": {
        "arms": {"kind": "randomized", "n": 100},
        "endpoint": {"kind": "count", "exposure": 1.0, "dispersion": 0.5, "better": "lower"},
        "analysis": {"rule": "nb-wald"},
        "scenarios": [
            {"name": "null", "treatment": 2.0, "control": 2.0},
            {"name": "alt", "treatment": 1.2, "control": 2.0},
        ],
    },
}


def _design(rule: str, dropout: str):
    spec = {"name": f"{rule} {dropout}", **DESIGNS[rule]}
    if DROPOUTS[dropout] is not None:
        spec["dropout"] = DROPOUTS[dropout]
    return parse_design(spec)


CASES = [
    (r, d) for r in DESIGNS for d in DROPOUTS if not (r == "nb-wald" and d == "failure")
]  # counts: missing only


@pytest.mark.parametrize(("rule", "dropout"), CASES)
def test_a_one_look_sequential_design_decides_as_the_fixed_design(rule, dropout):
    d = _design(rule, dropout)
    one_look = efficacy_boundaries((1.0,), d.analysis.alpha, "obrien-fleming")
    assert one_look.efficacy[0] == pytest.approx(special.ndtri(1 - d.analysis.alpha), abs=1e-12)
    fixed = look_decision(d, rule_for(d))
    sequential = BoundaryLooks(d, rule_for(d), bounds=one_look)
    decided = 0
    for k, scenario in enumerate(d.scenarios):
        sample = simulate_trials(d, scenario, BlockStreams(20261203, k), 20_000)
        by_fixed, no_futility = fixed(0, True, d.arms.sizes, sample)
        by_looks, below = sequential(0, True, d.arms.sizes, sample)
        assert np.array_equal(by_fixed, by_looks)
        assert not no_futility.any() and not below.any()  # no futility bound at a single look
        decided += int(by_fixed.sum())
    assert 0 < decided < 2 * 20_000  # the comparison saw successes and failures


def test_ties_cross_the_boundary():
    """A statistic exactly at the boundary crosses it, for z and for t (its t threshold at the same df)."""
    z = 1.959963984540054
    assert at_or_above(np.array([z, np.nextafter(z, 0)]), None, z, 10).tolist() == [True, False]
    from scipy import stats

    t_at = stats.t.isf(special.ndtr(-z), 7)  # the t equivalent of z at 7 df
    crossed = at_or_above(np.array([t_at * (1 + 1e-12), t_at * (1 - 1e-9)]), np.array([7, 7]), z, 10)
    assert crossed.tolist() == [True, False]
    assert not at_or_above(np.array([1e300]), np.array([0]), z, 10)[
        0
    ]  # df 0 (no test possible): never crosses


def test_binary_z_rules_use_the_same_statistic_for_critical_counts_and_looks():
    """The critical counts of the fixed z-score test (used by exact enumeration) are where the statistic of
    the sequential looks reaches z_{1-alpha}."""
    d = _design("z-score", "no dropout")
    rule = rule_for(d)
    x = np.arange(51)
    z, _ = rule.statistic(TrialSample(BinaryArm(np.full(51, 50), x)))
    first = int(np.argmax(z >= special.ndtri(1 - d.analysis.alpha)))
    assert rule.critical(50) == first
    assert z[first] >= special.ndtri(0.975) > z[first - 1]


def test_the_rules_without_a_look_statistic_say_so():
    d = parse_design(
        {
            "name": "fisher",
            "arms": {"kind": "randomized", "n": 40},
            "endpoint": {"kind": "binary"},
            "analysis": {"rule": "fisher"},
            "scenarios": [{"name": "alt", "treatment": 0.6, "control": 0.3}],
        }
    )
    with pytest.raises(ValueError, match="fisher has no z statistic"):
        rule_for(d).statistic(simulate_trials(d, d.scenarios[0], BlockStreams(1, 0), 10))


@pytest.mark.parametrize("dropout", ["no dropout", "missing"])
def test_the_pooled_two_arm_statistics_give_the_per_arm_operating_characteristics(dropout):
    """t-pooled through its minimal statistics (one normal, one chi-square per trial) against the same test on
    per-arm means and sums of squares (two of each): rejection rates within 4 MC SEs on 2 x 10^5 trials."""
    from planner.endpoints import PooledNormalSample, simulate_normal_arm

    d = _design("t-pooled", dropout)
    rule = rule_for(d)
    streams = BlockStreams(99, 0)
    for scenario in d.scenarios:
        pooled = simulate_trials(d, scenario, streams, 200_000)
        assert isinstance(pooled, PooledNormalSample)
        arms = TrialSample(
            *(
                simulate_normal_arm(streams, f"check.{a}", 200_000, n, mu, 1.0, d.dropout, -1.0)
                for a, n, mu in zip(
                    ("t", "c"), d.arms.sizes, (scenario.treatment, scenario.control), strict=True
                )
            )
        )
        p1, p2 = rule.decide(pooled).mean(), rule.decide(arms).mean()
        assert abs(p1 - p2) <= 4 * np.sqrt(2 * max(p1 * (1 - p1), 1e-6) / 200_000)


@pytest.mark.parametrize("better", ["higher", "lower"])
def test_the_pooled_t_shortcut_decides_as_the_t_statistic(better):
    """t-pooled on pooled statistics with the same sizes in every trial compares x^2 with c^2 se^2 (no division,
    no square root); it must decide every trial as the t statistic against its threshold does."""
    spec = {
        **DESIGNS["t-pooled"],
        "name": "t",
        "endpoint": {"kind": "continuous", "sd": 1.0, "better": better},
    }
    if better == "lower":
        spec["scenarios"] = [
            {"name": "null", "treatment": 0.0, "control": 0.0},
            {"name": "alt", "treatment": -0.6, "control": 0.0},
        ]
    d = parse_design(spec)
    rule = rule_for(d)
    for k, scenario in enumerate(d.scenarios):
        sample = simulate_trials(d, scenario, BlockStreams(5, k), 50_000)
        t, df = rule.statistic(sample)
        by_t = at_or_above(t, df, special.ndtri(1 - d.analysis.alpha), d.arms.n)
        assert np.array_equal(rule.decide(sample), by_t)
        assert 0 < by_t.sum() < by_t.size
