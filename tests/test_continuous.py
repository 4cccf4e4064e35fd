"""Continuous endpoints: simulation against closed forms (R's power.t.test) and per-patient brute force."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from planner import analytic, evaluate
from tests.conftest import make_design, within_mcse


# Reference values from R 4.x (stats package), printed with options(digits = 12), with their calls:
# planner/validation/r_stats_power.toml, the file `planner validate` reads too.
def _r_value(index: int) -> float:
    from planner.validation import load_references

    return next(
        r.expected for r in load_references() if r.file == "r_stats_power.toml" and r.id == f"r-{index}"
    )


R_POWER_T2_N20 = _r_value(1)
R_POWER_T2_N50 = _r_value(2)
R_POWER_T1_N12 = _r_value(3)
R_N_T2_D05 = _r_value(4)
R_N_T2_HBA1C = _r_value(5)
R_N_T1_D03 = _r_value(6)
R_POWER_PROP = _r_value(7)
R_N_PROP = _r_value(8)
R_UNIROOT_TOL = 1e-3  # R solves for n with uniroot(tol = .Machine$double.eps^0.25)


def test_closed_forms_equal_r():
    assert analytic.power_t_two_sample(1.0, 1.0, 20, 20, 0.025) == pytest.approx(R_POWER_T2_N20, abs=1e-10)
    assert analytic.power_t_two_sample(0.5, 1.0, 50, 50, 0.025) == pytest.approx(R_POWER_T2_N50, abs=1e-10)
    assert analytic.power_t_one_sample(0.8, 1.2, 12, 0.05) == pytest.approx(R_POWER_T1_N12, abs=1e-10)
    assert analytic.n_t_two_sample(0.5, 1.0, 0.025, 0.9) == pytest.approx(R_N_T2_D05, abs=R_UNIROOT_TOL)
    assert analytic.n_t_two_sample(1.48, 0.9, 0.025, 0.8) == pytest.approx(R_N_T2_HBA1C, abs=R_UNIROOT_TOL)
    assert analytic.n_t_one_sample(0.3, 1.0, 0.025, 0.9) == pytest.approx(R_N_T1_D03, abs=R_UNIROOT_TOL)
    assert analytic.power_two_proportions(0.5, 0.7, 100, 0.025) == pytest.approx(R_POWER_PROP, abs=1e-10)
    assert analytic.n_two_proportions(0.4, 0.6, 0.025, 0.9) == pytest.approx(R_N_PROP, abs=R_UNIROOT_TOL)


def test_normal_sample_size_closed_form_round_trips():
    n1, n2 = analytic.n_z_two_sample(0.5, 1.0, 0.025, 0.9)
    assert n1 == n2 == pytest.approx(2 * (stats.norm.ppf(0.975) + stats.norm.ppf(0.9)) ** 2 / 0.25)
    assert analytic.power_z_two_sample(0.5, 1.0, n1, n2, 0.025) == pytest.approx(0.9, abs=1e-12)
    n1, n2 = analytic.n_z_two_sample(0.5, 1.0, 0.025, 0.9, ratio=2.0)
    assert n1 == pytest.approx(2 * n2) and analytic.power_z_two_sample(
        0.5, 1.0, n1, n2, 0.025
    ) == pytest.approx(0.9)


def two_arm(rule, n=100, delta=0.5, sd=1.0, dropout=None, better="higher", **endpoint):
    return make_design(
        {"kind": "randomized", "n": n},
        {"kind": "continuous", "sd": sd, "better": better, **endpoint},
        {"rule": rule},
        [
            {"name": "null", "treatment": 0.0, "control": 0.0},
            {"name": "alt", "treatment": delta, "control": 0.0},
        ],
        dropout=dropout,
    )


@pytest.mark.parametrize(("n", "delta", "reference"), [(40, 1.0, R_POWER_T2_N20), (100, 0.5, R_POWER_T2_N50)])
def test_pooled_t_power_matches_r(n, delta, reference):
    res = evaluate(two_arm("t-pooled", n=n, delta=delta), n_sims=200_000)
    alt = res["alt"].success
    assert within_mcse(alt.value, reference, alt.n_sims)


def test_one_sample_t_power_matches_r():
    d = make_design(
        {"kind": "single-arm", "n": 12},
        {"kind": "continuous", "sd": 1.2},
        {"rule": "one-sample-t", "alpha": 0.05, "performance_goal": 0.0},
        [{"name": "alt", "treatment": 0.8}],
    )
    alt = evaluate(d, n_sims=200_000)["alt"].success
    assert within_mcse(alt.value, R_POWER_T1_N12, alt.n_sims)


def test_lower_is_better_mirrors_higher():
    up = evaluate(two_arm("t-pooled", delta=0.4), n_sims=50_000)["alt"].success.value
    down = evaluate(two_arm("t-pooled", delta=-0.4, better="lower"), n_sims=50_000)["alt"].success.value
    assert abs(up - down) < 0.02
    assert (
        evaluate(two_arm("t-pooled", delta=0.4, better="lower"), n_sims=20_000)["alt"].success.value < 0.001
    )


def brute_force(design, scenario_name, n_sims, seed, analyse):
    """Per-patient simulation: draw every participant, apply dropout, analyse with scipy / numpy."""
    rng = np.random.default_rng(seed)
    sc = next(s for s in design.scenarios if s.name == scenario_name)
    ep, d = design.endpoint, design.dropout
    n1, n2 = design.arms.sizes
    rho = ep.baseline_correlation
    hits = 0
    for _ in range(n_sims):
        arms = []
        for n, mu in ((n1, sc.treatment), (n2, sc.control)):
            x = rng.standard_normal(n)
            y = mu + ep.sd * (rho * x + np.sqrt(1 - rho**2) * rng.standard_normal(n))
            keep = rng.random(n) >= d.rate
            if d.strategy == "failure":
                y = np.where(keep, y, ep.failure_value)
                keep = np.ones(n, bool)
            arms.append((x[keep], y[keep]))
        hits += analyse(arms)
    return hits / n_sims


def welch(arms):
    (_, y1), (_, y2) = arms
    return stats.ttest_ind(y1, y2, equal_var=False, alternative="greater").pvalue <= 0.025


def pooled(arms):
    (_, y1), (_, y2) = arms
    return stats.ttest_ind(y1, y2, alternative="greater").pvalue <= 0.025


def ancova(arms):
    (x1, y1), (x2, y2) = arms
    y = np.concatenate([y1, y2])
    X = np.column_stack(
        [np.ones(y.size), np.r_[np.ones(y1.size), np.zeros(y2.size)], np.concatenate([x1, x2])]
    )
    beta, rss, *_ = np.linalg.lstsq(X, y, rcond=None)
    df = y.size - 3
    cov = rss[0] / df * np.linalg.inv(X.T @ X)
    return beta[1] / np.sqrt(cov[1, 1]) > stats.t.isf(0.025, df)


@pytest.mark.parametrize(
    ("rule", "analyse", "endpoint", "dropout"),
    [
        ("welch", welch, {}, {"rate": 0.15, "strategy": "missing"}),
        ("t-pooled", pooled, {"failure_value": 0.0}, {"rate": 0.15, "strategy": "failure"}),
        ("ancova", ancova, {"baseline_correlation": 0.6}, {"rate": 0.1, "strategy": "missing"}),
    ],
)
def test_sufficient_statistics_agree_with_per_patient_simulation(rule, analyse, endpoint, dropout):
    d = make_design(
        {"kind": "randomized", "n": 30, "allocation": [2.0, 1.0]},
        {"kind": "continuous", "sd": 1.0, **endpoint},
        {"rule": rule},
        [{"name": "alt", "treatment": 0.8, "control": 0.0}],
        dropout=dropout,
    )
    fast = evaluate(d, n_sims=100_000)["alt"].success
    slow_n = 6000
    slow = brute_force(d, "alt", slow_n, 99, analyse)
    se = np.sqrt(fast.value * (1 - fast.value) * (1 / fast.n_sims + 1 / slow_n))
    assert abs(fast.value - slow) <= 4 * se, (fast.value, slow)


def test_ancova_gains_the_power_of_reduced_variance():
    """ANCOVA power ~ t-test power with sd * sqrt(1 - rho^2) and one df fewer (Senn 2007)."""
    rho = 0.7
    d = two_arm("ancova", n=60, delta=0.5, baseline_correlation=rho)
    alt = evaluate(d, n_sims=200_000)["alt"].success
    approx = analytic.power_t_two_sample(0.5, np.sqrt(1 - rho**2), 30, 30, 0.025)
    # the closed form ignores the chance baseline imbalance, which costs a little power
    assert alt.value == pytest.approx(approx, abs=0.01)
    plain = evaluate(two_arm("t-pooled", n=60, delta=0.5), n_sims=200_000)["alt"].success
    assert alt.value > plain.value + 0.1


@pytest.mark.parametrize("rule", ["t-pooled", "welch", "ancova"])
def test_type_one_error_at_most_alpha(rule):
    d = two_arm(rule, n=50, dropout={"rate": 0.1, "strategy": "missing"}, baseline_correlation=0.5)
    null = evaluate(d, n_sims=200_000)["null"]
    assert null.is_null
    assert null.success.value <= 0.025 + 3 * null.success.mcse


def test_one_sample_type_one_error():
    d = make_design(
        {"kind": "single-arm", "n": 25},
        {"kind": "continuous", "sd": 0.7, "better": "lower"},
        {"rule": "one-sample-t", "performance_goal": -1.0},
        [{"name": "null", "treatment": -1.0}],
    )
    null = evaluate(d, n_sims=200_000)["null"].success
    assert null.value <= 0.025 + 3 * null.mcse


def test_bayesian_flat_prior_with_unknown_variance_is_the_t_test():
    """Flat prior, unknown variance (Jeffreys): the posterior of delta is Student-t, so P(delta > 0 | data) > 0.975
    is exactly the one-sided pooled t test at 0.025 -- the same decisions trial by trial (same seed)."""
    rows = [
        {"name": "null", "treatment": 0.0, "control": 0.0},
        {"name": "alt", "treatment": 0.9, "control": 0.0},
    ]
    bayes = make_design(
        {"kind": "randomized", "n": 20},
        {"kind": "continuous", "sd": 1.0},
        {"rule": "posterior-probability", "threshold": 0.975},
        rows,
    )
    t_test = make_design(
        {"kind": "randomized", "n": 20}, {"kind": "continuous", "sd": 1.0}, {"rule": "t-pooled"}, rows
    )
    a, b = evaluate(bayes, n_sims=200_000), evaluate(t_test, n_sims=200_000)
    for name in ("null", "alt"):
        assert a[name].success.value == b[name].success.value
    assert within_mcse(a["null"].success.value, 0.025, 200_000, k=3)


@pytest.mark.parametrize("n", [12, 30])
def test_single_arm_flat_prior_type_one_error_equals_the_t_test_size(n):
    # the check at N = 12: the plug-in rule had 0.0377; with unknown variance it is the t test's 0.025
    d = make_design(
        {"kind": "single-arm", "n": n},
        {"kind": "continuous", "sd": 1.0},
        {"rule": "posterior-probability", "threshold": 0.975, "performance_goal": 0.0},
        [{"name": "null", "treatment": 0.0}],
    )
    res = evaluate(d, n_sims=400_000)
    assert within_mcse(res["null"].success.value, 0.025, 400_000, k=3)
    assert not res.type_one_error.exceeds


def test_plug_in_variance_is_the_z_rule_on_the_t_scale_and_flagged():
    """variance = 'plug-in': P(delta > 0 | data) > 0.975 iff estimate / se > 1.96, whose exact size is P(T_18 > 1.96)."""
    d = make_design(
        {"kind": "randomized", "n": 20},
        {"kind": "continuous", "sd": 1.0},
        {"rule": "posterior-probability", "threshold": 0.975, "variance": "plug-in"},
        [{"name": "null", "treatment": 0.0, "control": 0.0}],
    )
    res = evaluate(d, n_sims=200_000)
    assert within_mcse(res["null"].success.value, stats.t.sf(stats.norm.isf(0.025), 18), res.n_sims)
    assert res.type_one_error.exceeds and "not calibrated" in res.type_one_error.cause


def test_student_t_posterior_equals_two_dimensional_integration():
    """The Normal-inverse-gamma mixture posterior against brute-force integration over (theta, sigma^2)."""
    from scipy import integrate

    from planner.mixtures import NormalMixture, student_t_posterior_sf

    prior = NormalMixture((0.6, 0.4), (0.8, 0.0), (0.3, 1.5))
    ref_sd, n, est, ss, null = 1.2, 9, 0.35, 9.5, 0.0
    c, nu = 1.0 / n, n - 1

    def joint(theta, log_s2):  # unnormalized posterior density on (theta, log sigma^2), Jeffreys on sigma^2
        s2 = np.exp(log_s2)
        like = (
            s2 ** (-0.5)
            * np.exp(-((est - theta) ** 2) / (2 * s2 * c))
            * s2 ** (-nu / 2)
            * np.exp(-ss / (2 * s2))
        )
        pri = sum(
            w * np.exp(-((theta - m) ** 2) * (ref_sd / sd) ** 2 / (2 * s2)) * ((ref_sd / sd) ** 2 / s2) ** 0.5
            for w, m, sd in zip(prior.weights, prior.means, prior.sds, strict=True)
        )
        return like * pri  # d sigma^2 / sigma^2 = d log sigma^2: the Jeffreys factor cancels

    total = integrate.dblquad(lambda t, ls: joint(t, ls), -6, 6, -8, 8, epsabs=1e-13)[0]
    upper = integrate.dblquad(lambda t, ls: joint(t, ls), -6, 6, null, 8, epsabs=1e-13)[0]
    got = float(student_t_posterior_sf(prior, null, est, c, ss, nu, ref_sd))
    assert got == pytest.approx(upper / total, abs=1e-7)


def test_bayesian_informative_prior_moves_power():
    base = {"kind": "randomized", "n": 20}
    scen = [{"name": "alt", "treatment": 0.5, "control": 0.0}]
    flat = make_design(
        base, {"kind": "continuous", "sd": 1.0}, {"rule": "posterior-probability", "threshold": 0.975}, scen
    )
    optimistic = make_design(
        base,
        {"kind": "continuous", "sd": 1.0},
        {
            "rule": "posterior-probability",
            "threshold": 0.975,
            "prior": {"family": "normal", "components": [{"weight": 1.0, "mean": 0.5, "sd": 0.2}]},
        },
        scen,
    )
    assert (
        evaluate(optimistic, n_sims=50_000)["alt"].success.value
        > evaluate(flat, n_sims=50_000)["alt"].success.value + 0.2
    )
