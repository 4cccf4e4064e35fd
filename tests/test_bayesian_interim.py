"""Bayesian interim looks (single-arm binary): exact enumeration by brute force vs simulation; calibration."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from planner import DesignError, evaluate, parse_design
from planner.search import calibrate_threshold
from tests.conftest import make_design, within_mcse

PRIOR = {
    "family": "beta",
    "components": [{"weight": 0.5, "a": 11.0, "b": 3.0}, {"weight": 0.5, "a": 1.0, "b": 1.0}],
}


def design(p=0.7, efficacy=0.99, futility=0.1, threshold=0.975, n=20):
    d = make_design(
        {"kind": "single-arm", "n": n},
        {"kind": "binary"},
        {"rule": "posterior-probability", "performance_goal": 0.5, "threshold": threshold, "prior": PRIOR},
        [{"name": "s", "treatment": p}],
    )
    return d.with_changes(
        {
            "interim": {
                "fractions": [0.5, 1.0],
                "futility": "predictive-probability",
                "futility_threshold": futility,
                "efficacy_threshold": efficacy,
            }
        }
    )


def prior_pdf(p):
    return 0.5 * stats.beta.pdf(p, 11, 3) + 0.5 * stats.beta.pdf(p, 1, 1)


def posterior_above(x, m, goal=0.5):
    """P(p > goal | x of m) by numerical integration of prior x likelihood (independent of planner.mixtures)."""
    f = lambda p: prior_pdf(p) * p**x * (1 - p) ** (m - x)  # noqa: E731
    return (
        integrate.quad(f, goal, 1, epsabs=0, epsrel=1e-11)[0]
        / integrate.quad(f, 0, 1, epsabs=0, epsrel=1e-11, points=[goal])[0]
    )


def predictive_success(x, m, r, final_crit):
    """P(x + Y >= final_crit), Y | data ~ posterior predictive over r more participants, by integration."""
    f = lambda p: prior_pdf(p) * p**x * (1 - p) ** (m - x)  # noqa: E731
    norm = integrate.quad(f, 0, 1, epsabs=0, epsrel=1e-11)[0]
    need = final_crit - x
    if need <= 0:
        return 1.0
    return (
        integrate.quad(lambda p: f(p) * stats.binom.sf(need - 1, r, p), 0, 1, epsabs=0, epsrel=1e-11)[0]
        / norm
    )


def brute_force_success(p, n=20, efficacy=0.99, futility=0.1, threshold=0.975):
    m1 = n // 2
    final_crit = next(x for x in range(n + 1) if posterior_above(x, n) > threshold)
    total = 0.0
    for x1 in range(m1 + 1):
        w1 = stats.binom.pmf(x1, m1, p)
        if posterior_above(x1, m1) > efficacy:
            total += w1
        elif predictive_success(x1, m1, n - m1, final_crit) >= futility:
            total += w1 * stats.binom.sf(final_crit - x1 - 1, n - m1, p)
    return total


@pytest.mark.parametrize("p", [0.5, 0.75])
def test_simulation_equals_brute_force_enumeration(p):
    res = evaluate(design(p), n_sims=200_000, method="simulate").results[0].success
    assert within_mcse(res.value, brute_force_success(p), res.n_sims)


@pytest.mark.parametrize("p", [0.5, 0.75])
def test_exact_recursion_equals_brute_force_enumeration(p):
    # method "auto" enumerates single-arm binary designs with interim looks (planner.multistage)
    res = evaluate(design(p)).results[0].success
    assert res.exact and res.value == pytest.approx(brute_force_success(p), abs=1e-12)


def test_interim_rules_change_the_operating_characteristics_as_expected():
    base = evaluate(design(0.75), n_sims=100_000).results[0]
    no_futility = evaluate(design(0.75).with_changes({"interim.futility": "none"}), n_sims=100_000).results[0]
    assert no_futility.success.value >= base.success.value  # futility stops cost some power
    assert no_futility.expected_n >= base.expected_n
    assert base.stages.early_success.value > 0


def test_threshold_calibrated_for_type_one_error_over_a_composite_null():
    d = design(0.5, efficacy=0.999, futility=0.05, n=40)
    out = calibrate_threshold(d, 0.025, [0.35, 0.45, 0.5], n_sims=50_000, tolerance=1e-3)
    assert out["max_type_one_error"] <= 0.025
    assert out["threshold"] > 0.975  # the informative prior needs a stricter threshold than 0.975
    nulls = d.with_changes(
        {
            "analysis.threshold": out["threshold"],
            "scenarios": [{"name": f"p{v}", "treatment": v} for v in (0.35, 0.45, 0.5)],
        }
    )
    worst = max(r.success.value for r in evaluate(nulls, n_sims=50_000).results)
    assert worst <= 0.025


@pytest.mark.parametrize(
    ("interim", "message"),
    [
        ({"fractions": [0.5, 1.0], "futility": "conditional-power"}, "predictive-probability"),
        ({"fractions": [0.5, 1.0], "spending": "pocock"}, "frequentist rules only"),
    ],
)
def test_bayesian_interim_settings_are_checked(interim, message):
    data = design().model_dump(mode="json")
    data["interim"] = interim
    with pytest.raises(DesignError, match=message):
        parse_design(data)


def test_predictive_probability_rule_needs_a_bayesian_design():
    d = make_design(
        {"kind": "randomized", "n": 60},
        {"kind": "continuous", "sd": 1.0},
        {"rule": "t-pooled"},
        [{"name": "s", "treatment": 0.5, "control": 0.0}],
    ).model_dump(mode="json")
    d["interim"] = {"fractions": [0.5, 1.0], "futility": "predictive-probability"}
    with pytest.raises(DesignError, match="needs a Bayesian or exact-binomial rule"):
        parse_design(d)


def test_predictive_probability_matches_integration():
    from planner.looks import BayesianLooks

    looks = BayesianLooks(design())
    crit = looks.final.critical(20)
    pp = looks.predictive_probability(np.arange(11), 10, 10)
    for x in (3, 6, 9):
        assert pp[x] == pytest.approx(predictive_success(x, 10, 10, crit), abs=1e-8)


def continuous_design(prior=None, n=100, efficacy=0.999, futility="predictive-probability", threshold=0.975):
    analysis = {"rule": "posterior-probability", "threshold": threshold}
    if prior is not None:
        analysis["prior"] = prior
    d = make_design(
        {"kind": "randomized", "n": n},
        {"kind": "continuous", "sd": 1.0},
        analysis,
        [
            {"name": "null", "treatment": 0.0, "control": 0.0},
            {"name": "alt", "treatment": 0.6, "control": 0.0},
        ],
    )
    return d.with_changes(
        {
            "interim": {
                "fractions": [0.5, 1.0],
                "futility": futility,
                "futility_threshold": 0.1,
                "efficacy_threshold": efficacy,
            }
        }
    )


@pytest.mark.parametrize(
    "prior", [None, {"family": "normal", "components": [{"weight": 1.0, "mean": 0.3, "sd": 0.2}]}]
)
def test_normal_predictive_probability_matches_brute_force(prior):
    """The closed form against simulating the rest of the trial from the posterior predictive."""
    from planner.endpoints import NormalArm
    from planner.looks import NormalBayesianLooks

    looks = NormalBayesianLooks(continuous_design(prior))
    est, sd, m = 0.25, 1.1, 25  # current difference, pooled sd, per arm (final 50 per arm)
    arms = (
        NormalArm(np.array([m]), np.array([est]), np.array([sd**2 * (2 * m - 2) / 2])),
        NormalArm(np.array([m]), np.array([0.0]), np.array([sd**2 * (2 * m - 2) / 2])),
    )
    e, var, inv_n = looks._estimate(arms)
    pp = looks.predictive_probability(e, var, inv_n, (1 / 50, 1 / 50))[0]
    # brute force: theta from the posterior, the future difference from the model, the final posterior rule
    rng = np.random.default_rng(7)
    se_now = sd * np.sqrt(2 / m)
    if prior is None:
        post_mean, post_sd = est, se_now
    else:
        v = 1 / (1 / 0.2**2 + 1 / se_now**2)
        post_mean, post_sd = v * (0.3 / 0.2**2 + est / se_now**2), np.sqrt(v)
    theta = rng.normal(post_mean, post_sd, 400_000)
    future = rng.normal(theta, sd * np.sqrt(2 / 25))
    final = 0.5 * est + 0.5 * future
    se_final = sd * np.sqrt(2 / 50)
    if prior is None:
        prob = stats.norm.sf(0, final, se_final)
    else:
        v = 1 / (1 / 0.2**2 + 1 / se_final**2)
        prob = stats.norm.sf(0, v * (0.3 / 0.2**2 + final / se_final**2), np.sqrt(v))
    ref = np.mean(prob > 0.975)
    assert pp == pytest.approx(ref, abs=4 * np.sqrt(ref * (1 - ref) / 400_000) + 1e-4)


def test_continuous_bayesian_looks_match_the_integration():
    """Flat prior, no futility, large arms: efficacy at a look is z > Phi^-1(threshold), a constant boundary."""
    from planner.sequential import Boundaries, crossing_probabilities

    d = continuous_design(None, n=20_000, efficacy=0.995, futility="none").with_changes(
        {"scenarios": [{"name": "alt", "treatment": 0.04, "control": 0.0}]}
    )
    res = evaluate(d, n_sims=200_000).results[0]
    b = Boundaries((0.5, 1.0), (stats.norm.ppf(0.995), stats.norm.ppf(0.975)), (-np.inf, -np.inf), (0, 0))
    up, _ = crossing_probabilities(b, 0.04 / np.sqrt(2 / 10_000))
    for est, ref in zip(res.stages.efficacy_stop, up, strict=True):
        assert within_mcse(est.value, ref, est.n_sims)


def test_continuous_interim_efficacy_with_a_flat_prior_is_the_t_test_at_each_look():
    """Unknown variance (the default): P(theta > goal | data) > t at a look iff the one-sample t statistic
    exceeds the t quantile t_{1-(1-t), n-1}; checked on random sufficient statistics."""
    from scipy import stats as st

    from planner.endpoints import NormalArm
    from planner.looks import NormalBayesianLooks
    from tests.conftest import make_design

    d = make_design(
        {"kind": "single-arm", "n": 30},
        {"kind": "continuous", "sd": 1.0},
        {"rule": "posterior-probability", "threshold": 0.975, "performance_goal": 0.0},
        [{"name": "s", "treatment": 0.3}],
    ).with_changes({"interim": {"fractions": [0.5, 1.0], "efficacy_threshold": 0.99}})
    looks = NormalBayesianLooks(d)
    rng = np.random.default_rng(3)
    n = np.full(2000, 15)
    mean = rng.normal(0.4, 0.3, 2000)
    ss = rng.chisquare(14, 2000)
    eff, _ = looks.decide(0, False, 15, (NormalArm(n, mean, ss),))
    t = mean / np.sqrt(ss / 14 / 15)
    assert np.array_equal(eff, t > st.t.isf(0.01, 14))
