"""Exact enumeration for binary designs: against brute-force sums, against simulation, and its type I error."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from planner import evaluate
from planner.exact import exact_success_probability
from planner.rules import make_rule
from tests.conftest import make_design, within_mcse

SINGLE = {"kind": "single-arm", "n": 30}


def single(rule="exact-binomial", dropout=None, p=0.7, **analysis):
    return make_design(
        SINGLE,
        {"kind": "binary"},
        {"rule": rule, "performance_goal": 0.5, **analysis},
        [{"name": "s", "treatment": p}],
        dropout=dropout,
    )


def two_arm(rule, n=40, dropout=None, pt=0.6, pc=0.3, **analysis):
    return make_design(
        {"kind": "randomized", "n": n},
        {"kind": "binary"},
        {"rule": rule, **analysis},
        [{"name": "s", "treatment": pt, "control": pc}],
        dropout=dropout,
    )


def test_single_arm_exact_equals_brute_force_with_missing_dropout():
    d = single(dropout={"rate": 0.1, "strategy": "missing"})
    got = exact_success_probability(d, make_rule(d), d.scenarios[0])
    # independent: sum over completers m and responders x, deciding with scipy's binomtest
    ref = 0.0
    for m in range(31):
        pm = stats.binom.pmf(m, 30, 0.9)
        for x in range(m + 1):
            if m and stats.binomtest(x, m, 0.5, alternative="greater").pvalue <= 0.025:
                ref += pm * stats.binom.pmf(x, m, 0.7)
    assert got == pytest.approx(ref, abs=1e-12)


def test_single_arm_failure_dropout_is_a_thinned_rate():
    d = single(dropout={"rate": 0.1, "strategy": "failure"}, p=0.8)
    got = exact_success_probability(d, make_rule(d), d.scenarios[0])
    crit = next(x for x in range(31) if stats.binomtest(x, 30, 0.5, alternative="greater").pvalue <= 0.025)
    assert got == pytest.approx(stats.binom.sf(crit - 1, 30, 0.8 * 0.9), abs=1e-14)


@pytest.mark.parametrize("rule", ["fisher", "z-pooled", "boschloo"])
def test_two_arm_exact_equals_brute_force(rule):
    d = two_arm(rule, n=24)
    got = exact_success_probability(d, make_rule(d), d.scenarios[0])
    m = 12

    def rejects(x1, x2):
        table = [[x1, x2], [m - x1, m - x2]]
        if rule == "fisher":
            return stats.fisher_exact(table, alternative="greater").pvalue <= 0.025
        if rule == "boschloo":
            return stats.boschloo_exact(table, alternative="greater").pvalue <= 0.025
        pb = (x1 + x2) / (2 * m)
        se = np.sqrt(pb * (1 - pb) * 2 / m)
        return se > 0 and (x1 - x2) / m / se > stats.norm.isf(0.025)

    ref = sum(
        stats.binom.pmf(x1, m, 0.6) * stats.binom.pmf(x2, m, 0.3)
        for x1, x2 in itertools.product(range(m + 1), repeat=2)
        if rejects(x1, x2)
    )
    assert got == pytest.approx(ref, abs=1e-9)


CASES = [
    ("exact-binomial", single, {}),
    (
        "posterior-probability",
        single,
        {
            "threshold": 0.975,
            "prior": {
                "family": "beta",
                "components": [{"weight": 0.5, "a": 11.0, "b": 3.0}, {"weight": 0.5, "a": 1.0, "b": 1.0}],
            },
        },
    ),
    ("fisher", two_arm, {}),
    ("z-pooled", two_arm, {}),
    ("boschloo", two_arm, {}),
    ("posterior-probability", two_arm, {"threshold": 0.975}),
]


@pytest.mark.parametrize(("rule", "builder", "extra"), CASES)
@pytest.mark.parametrize(
    "dropout", [None, {"rate": 0.1, "strategy": "missing"}, {"rate": 0.1, "strategy": "failure"}]
)
def test_exact_agrees_with_simulation(rule, builder, extra, dropout):
    d = builder(rule, dropout=dropout, **extra)
    exact = evaluate(d, method="exact").results[0].success
    sim = evaluate(d, method="simulate", n_sims=100_000).results[0].success
    assert exact.exact and exact.mcse == 0.0
    assert not sim.exact and sim.mcse > 0
    assert within_mcse(sim.value, exact.value, sim.n_sims), (exact.value, sim.value)


@pytest.mark.parametrize("rule", ["fisher", "boschloo"])
@pytest.mark.parametrize(("n", "alloc"), [(40, [1.0, 1.0]), (51, [2.0, 1.0])])
def test_exact_tests_keep_alpha_over_the_whole_null(rule, n, alloc):
    """Fisher and Boschloo: exact size <= alpha at every common response rate (grid of 99 values)."""
    grid = np.linspace(0.01, 0.99, 99)
    d = make_design(
        {"kind": "randomized", "n": n, "allocation": alloc},
        {"kind": "binary"},
        {"rule": rule},
        [{"name": f"p{i}", "treatment": float(p), "control": float(p)} for i, p in enumerate(grid)],
    )
    res = evaluate(d, method="exact")
    sizes = np.array([r.success.value for r in res.results])
    assert all(r.is_null for r in res.results)
    assert sizes.max() <= 0.025 + 1e-12
    if rule == "boschloo":  # Boschloo is uniformly more powerful than Fisher: it uses more of alpha
        fisher = evaluate(d.with_changes({"analysis.rule": "fisher"}), method="exact")
        assert sizes.max() >= max(r.success.value for r in fisher.results)


def test_exact_binomial_keeps_alpha_over_the_null():
    grid = np.linspace(0.01, 0.5, 50)
    d = make_design(
        SINGLE,
        {"kind": "binary"},
        {"rule": "exact-binomial", "performance_goal": 0.5},
        [{"name": f"p{i}", "treatment": float(p)} for i, p in enumerate(grid)],
    )
    sizes = [r.success.value for r in evaluate(d).results]
    assert max(sizes) <= 0.025
    assert max(sizes) == pytest.approx(stats.binom.sf(20, 30, 0.5))  # at the boundary: P(X >= 21 | 0.5)


def test_z_pooled_size_is_reported_honestly():
    """The pooled z test is approximate: its exact size exceeds alpha for some N and rates.

    The planner reports the exact size, so a statistician sees it; e.g. N = 50 (25 per arm) at a
    common rate of 0.5 gives 0.0325 > 0.025 (brute force below). Fisher and Boschloo never exceed alpha.
    """
    grid = np.linspace(0.05, 0.95, 19)
    d = make_design(
        {"kind": "randomized", "n": 50},
        {"kind": "binary"},
        {"rule": "z-pooled"},
        [{"name": f"p{i}", "treatment": float(p), "control": float(p)} for i, p in enumerate(grid)],
    )
    res = evaluate(d)
    assert all(r.success.exact and r.is_null for r in res.results)
    p, m = grid[9], 25
    ref = 0.0
    for x1, x2 in itertools.product(range(m + 1), repeat=2):
        pb = (x1 + x2) / (2 * m)
        se = np.sqrt(pb * (1 - pb) * 2 / m)
        if se > 0 and (x1 - x2) / m / se > stats.norm.isf(0.025):
            ref += stats.binom.pmf(x1, m, p) * stats.binom.pmf(x2, m, p)
    assert res.results[9].success.value == pytest.approx(ref, abs=1e-12)
    assert ref == pytest.approx(0.03246, abs=1e-5) and ref > 0.025
