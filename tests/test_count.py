"""Count endpoints: negative binomial totals and the Wald rule against formulas and per-patient simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from planner import analytic, evaluate
from planner.design import Dropout
from planner.endpoints.count import simulate_count_arm
from planner.randomness import BlockStreams
from planner.rules import make_rule
from tests.conftest import make_design, within_mcse


@pytest.mark.parametrize("dispersion", [0.0, 0.5, 2.0])
def test_total_has_negative_binomial_moments(dispersion):
    n, rate, exposure, size = 40, 0.8, 1.5, 400_000
    arm = simulate_count_arm(BlockStreams(3, 0), "treatment", size, n, rate, exposure, dispersion, Dropout())
    mu = rate * exposure
    mean, var = n * mu, n * (mu + dispersion * mu**2)
    assert abs(arm.events.mean() - mean) <= 4 * np.sqrt(var / size)
    # variance of the sample variance ~ var^2 * 2 / size for near-normal totals (loose bound, 5 SE)
    assert arm.events.var() == pytest.approx(var, rel=5 * np.sqrt(2 / size) + 0.01)


def she_design(n=120, dispersion=0.5, dropout=None, rate_t=2.0, rate_c=4.0):
    return make_design(
        {"kind": "randomized", "n": n},
        {"kind": "count", "exposure": 1.0, "dispersion": dispersion},
        {"rule": "nb-wald"},
        [
            {"name": "null", "treatment": rate_c, "control": rate_c},
            {"name": "alt", "treatment": rate_t, "control": rate_c},
        ],
        dropout=dropout,
    )


def test_wald_power_close_to_zhu_lakkis():
    res = evaluate(she_design(), n_sims=100_000)["alt"].success
    ref = analytic.power_nb_rate_ratio(2.0, 4.0, 60, 60, 1.0, 0.5, 0.025)
    # the formula uses variances at the true rates; the test estimates them, a small difference
    assert res.value == pytest.approx(ref, abs=0.02)


def brute_force_wald(design, name, n_sims, seed):
    rng = np.random.default_rng(seed)
    sc = next(s for s in design.scenarios if s.name == name)
    ep, d = design.endpoint, design.dropout
    z = special.ndtri(0.975)
    hits = 0
    for _ in range(n_sims):
        logs, var = [], 0.0
        for n, rate in zip(design.arms.sizes, (sc.treatment, sc.control), strict=True):
            kept = int((rng.random(n) >= d.rate).sum())
            lam = rng.gamma(1 / ep.dispersion, ep.dispersion * rate, size=kept)  # Gamma frailty
            y = max(rng.poisson(lam * ep.exposure).sum(), 0.5)
            logs.append(np.log(y / (kept * ep.exposure)))
            var += 1 / y + ep.dispersion / kept
        hits += -(logs[0] - logs[1]) / np.sqrt(var) > z
    return hits / n_sims


def test_wald_agrees_with_per_patient_simulation():
    d = she_design(n=40, dispersion=0.5, dropout={"rate": 0.1, "strategy": "missing"}, rate_t=1.0, rate_c=3.0)
    fast = evaluate(d, n_sims=100_000)["alt"].success
    slow_n = 8000
    slow = brute_force_wald(d, "alt", slow_n, 5)
    se = np.sqrt(fast.value * (1 - fast.value) * (1 / fast.n_sims + 1 / slow_n))
    assert abs(fast.value - slow) <= 4 * se, (fast.value, slow)


@pytest.mark.parametrize("dispersion", [0.0, 0.5])
def test_wald_type_one_error(dispersion):
    null = evaluate(she_design(n=200, dispersion=dispersion), n_sims=200_000)["null"]
    assert null.is_null
    assert null.success.value <= 0.025 + 3 * null.success.mcse


def single_arm(goal=4.0, dispersion=0.5, better="lower", n=50):
    return make_design(
        {"kind": "single-arm", "n": n},
        {"kind": "count", "exposure": 1.0, "dispersion": dispersion, "better": better},
        {"rule": "nb-exact", "performance_goal": goal},
        [{"name": "null", "treatment": goal}, {"name": "alt", "treatment": goal / 2}],
    )


@pytest.mark.parametrize("dispersion", [0.0, 0.5])
def test_single_arm_exact_count_test(dispersion):
    d = single_arm(dispersion=dispersion)
    rule = make_rule(d)
    # independent: scan the null distribution of the total with scipy
    mu = 50 * 4.0
    null = stats.poisson(mu) if dispersion == 0 else stats.nbinom(50 / 0.5, 1 / (1 + 0.5 * 4.0))
    crit = max(y for y in range(int(mu) + 1) if null.cdf(y) <= 0.025)
    assert rule.critical(50) == crit
    res = evaluate(d, n_sims=100_000)
    assert res["null"].success.value <= 0.025 + 3 * res["null"].success.mcse
    assert within_mcse(res["null"].success.value, null.cdf(crit), 100_000)
    alt = stats.poisson(mu / 2) if dispersion == 0 else stats.nbinom(50 / 0.5, 1 / (1 + 0.5 * 2.0))
    assert within_mcse(res["alt"].success.value, alt.cdf(crit), 100_000)


def test_single_arm_exact_count_test_higher_is_better():
    d = single_arm(goal=2.0, dispersion=0.0, better="higher", n=20)
    rule = make_rule(d)
    null = stats.poisson(40.0)
    assert rule.critical(20) == min(y for y in range(200) if null.sf(y - 1) <= 0.025)


# --- the three variances of Zhu and Lakkis (2014) ----------------------------------------------------------


def test_log_rate_ratio_statistic_by_hand():
    from planner.endpoints import CountArm
    from planner.rules.count import log_rate_ratio_z

    t = CountArm(np.array([50]), np.array([90]), 1.0)
    c = CountArm(np.array([40]), np.array([130]), 1.0)
    k = 0.4
    lrr = np.log(90 / 50) - np.log(130 / 40)
    by_hand = {
        "true-rates": lrr / np.sqrt(1 / 90 + k / 50 + 1 / 130 + k / 40),
        "control-rate": lrr / np.sqrt((40 / 130 + k) * (1 / 50 + 1 / 40)),
        "restricted": lrr
        / np.sqrt((90 / 220 + k) * (1 / 50 + 1 / 40)),  # pooled mean 220 / 90 per participant
    }
    for variance, value in by_hand.items():
        assert log_rate_ratio_z(t, c, k, variance)[0] == pytest.approx(value, rel=1e-12), variance


@pytest.mark.parametrize("variance", ["true-rates", "control-rate", "restricted"])
def test_each_variance_power_close_to_its_zhu_lakkis_formula(variance):
    d = she_design(n=400).with_changes({"analysis.nb_variance": variance})
    res = evaluate(d, n_sims=100_000)
    ref = analytic.power_nb_rate_ratio(3.4, 4.0, 200, 200, 1.0, 0.5, 0.025, variance)
    alt = evaluate(
        d.with_changes({"scenarios": [{"name": "alt", "treatment": 3.4, "control": 4.0}]}), n_sims=100_000
    )["alt"].success
    assert alt.value == pytest.approx(
        ref, abs=0.015
    )  # the formula has the true rates, the test estimates them
    check = res.type_one_error  # the guard judges each at equal rates 2, 4 and 8 per year
    assert not check.exact
    if variance == "control-rate":
        # a finding: with the control arm's estimated rate for both arms the test is liberal (about 0.028 at
        # 2 events a year, 200 per arm); the guard says so
        assert check.exceeds and "normal approximation" in check.cause
    else:
        assert check.value <= 0.025 + 3 * check.mcse


def test_nb_variance_belongs_to_the_nb_wald_rule():
    from planner.errors import DesignError

    with pytest.raises(DesignError, match="analysis.nb_variance: only used by the nb-wald rule"):
        single_arm().with_changes({"analysis.nb_variance": "restricted"})
