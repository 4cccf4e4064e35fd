"""Durability of the response: the Bayesian single-arm time-to-event rule (exponential-posterior), the time
from the onset of the response (responders only), and the durability prior behind the rule.

References: the Gamma mixture posterior against numerical integration of prior x likelihood; the rule's
success probability against closed forms (with every event observed the total follow-up is Gamma(n, lambda),
Epstein and Sobel 1953), against an independent per-participant simulation with censoring, and the stored
PyMC durability prior against numerical integration of the same hierarchical model.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from planner import evaluate
from planner.artifacts import load_fitted
from planner.design import DesignError, parse_design
from planner.mixtures import GammaMixture
from planner.priors import hazard_prior
from planner.type_one_error import null_scenarios

PRIOR = {
    "family": "gamma",
    "components": [{"weight": 0.7, "shape": 2.0, "rate": 60.0}, {"weight": 0.3, "shape": 1.0, "rate": 10.0}],
}


def _design(n=30, prior=None, threshold=0.95, goal=15.0, responders=None, **endpoint):
    return parse_design(
        {
            "name": "durability, Bayesian",
            "arms": {"kind": "single-arm", "n": n},
            "endpoint": {"kind": "time-to-event", "accrual_time": 12.0, "follow_up": 24.0, **endpoint},
            "analysis": {
                "rule": "exponential-posterior",
                "performance_goal": goal,
                "threshold": threshold,
                "prior": prior or PRIOR,
            },
            "scenarios": [
                {"name": "null", "treatment": 15.0, "responders": responders},
                {"name": "median 30", "treatment": 30.0, "responders": responders},
            ],
        }
    )


def test_gamma_mixture_posterior_equals_numerical_integration():
    mix = GammaMixture((0.7, 0.3), (2.0, 1.0), (60.0, 10.0))
    for d, t, c in [(0, 5.0, 0.05), (3, 40.0, 0.05), (12, 300.0, 0.03), (30, 900.0, 0.04)]:

        def joint(lam, d=d, t=t):
            return float(mix.pdf(lam)) * lam**d * math.exp(-lam * t)

        def part(lo, hi, f=joint):
            return integrate.quad(f, lo, hi, epsabs=0.0, epsrel=1e-12, limit=500)[0]

        below = part(0.0, c)
        total = below + part(c, 2.0) + part(2.0, np.inf)
        assert float(mix.posterior_cdf(c, d, t)) == pytest.approx(below / total, rel=1e-7), (d, t)
    # one component: exactly the conjugate Gamma(a + d, b + T)
    one = GammaMixture((1.0,), (2.0,), (60.0,))
    assert float(one.posterior_cdf(0.04, 7, 120.0)) == pytest.approx(
        stats.gamma.cdf(0.04, 9.0, scale=1 / 180.0)
    )


def test_the_posterior_probability_stays_a_probability_at_long_follow_up():
    """Weights times values near 1 can sum to 1 + 1 ulp: the statistic Phi^-1(P) was then NaN (a failure)
    for about 0.6% of the trials with long durations; it must be +inf, success at any threshold."""
    from planner.endpoints.time_to_event import exponential_posterior_z

    mix = GammaMixture((0.7, 0.3), (2.0, 1.0), (60.0, 10.0))
    exposure = np.geomspace(1e2, 1e7, 20_001)
    p = mix.posterior_cdf(math.log(2.0) / 15.0, 30, exposure)
    assert np.all((p >= 0.0) & (p <= 1.0))
    z = exponential_posterior_z(mix, math.log(2.0) / 15.0)(
        exposure[:, None] / 30.0 * np.ones(30), np.ones((exposure.size, 30), bool), np.zeros(30, bool)
    )
    assert not np.isnan(z).any() and z[-1] == np.inf


def _closed_form_success(design, median):
    """Every event observed (follow-up far beyond any event time): d = n and T ~ Gamma(n, lambda); success is
    T >= t*, the exposure at which the posterior probability equals the threshold (it increases with T)."""
    n, goal, threshold = design.arms.n, design.analysis.performance_goal, design.analysis.threshold
    prior = hazard_prior(design.analysis.prior, design.endpoint.time_unit)
    h0 = math.log(2.0) / goal

    def gap(t):
        return float(prior.posterior_cdf(h0, n, t)) - threshold

    t_star = optimize.brentq(gap, 1e-6, 1e6, xtol=1e-12)
    return float(special.gammaincc(n, math.log(2.0) / median * t_star))


@pytest.mark.parametrize("threshold", [0.9, 0.975])
def test_success_probability_equals_the_closed_form_when_every_event_is_observed(threshold):
    d = _design(
        follow_up=20_000.0, threshold=threshold
    )  # P(no event by 20,000 months) = 2^(-1333) at median 15
    result = evaluate(d, n_sims=100_000, seed=3, type_one_error=False)
    for r, median in zip(result.results, (15.0, 30.0), strict=True):
        exact = _closed_form_success(d, median)
        assert r.success.value == pytest.approx(
            exact, abs=4 * math.sqrt(exact * (1 - exact) / 100_000) + 1e-4
        )
        assert r.success.mcse == pytest.approx(math.sqrt(exact * (1 - exact) / 100_000), rel=0.05, abs=1e-4)


def _reference_rate(median, trials, seed, n=30, threshold=0.95, accrual=12.0, events=None):
    """Independent per-participant simulation with censoring, one trial at a time: uniform entry over
    ``accrual`` months, exponential event times, analysis 24 months after accrual ends or (``events``) at the
    calendar time of that event, when those not yet entered are not in the analysis; posterior by its
    closed form, component by component."""
    rng = np.random.default_rng(seed)
    prior = GammaMixture((0.7, 0.3), (2.0, 1.0), (60.0, 10.0))
    h0 = math.log(2.0) / 15.0
    wins = 0
    for _ in range(trials):
        entry = rng.uniform(0.0, accrual, n)
        time = rng.exponential(median / math.log(2.0), n)
        cut = accrual + 24.0 if events is None else np.sort(entry + time)[events - 1]
        inside = entry <= cut
        entry, time = entry[inside], time[inside]
        window = cut - entry
        d = int(np.sum(time <= window))
        t = float(np.sum(np.minimum(time, window)))
        log_marginal = [
            math.log(w)
            + special.gammaln(a + d)
            - special.gammaln(a)
            + a * math.log(b)
            - (a + d) * math.log(b + t)
            for w, a, b in prior.components()
        ]
        top = max(log_marginal)
        weights = [math.exp(v - top) for v in log_marginal]
        below = [stats.gamma.cdf(h0, a + d, scale=1 / (b + t)) for _, a, b in prior.components()]
        wins += sum(w * p for w, p in zip(weights, below, strict=True)) / sum(weights) > threshold
    return wins / trials


def test_success_probability_with_censoring_agrees_with_a_participant_level_simulation():
    d = _design()
    result = evaluate(d, n_sims=100_000, seed=5, type_one_error=False)
    trials = 4_000
    for r, median in zip(result.results, (15.0, 30.0), strict=True):
        q = _reference_rate(median, trials, seed=int(median))
        p = r.success.value
        se = math.sqrt(p * (1 - p) / 100_000 + max(q * (1 - q), 1e-4) / trials)
        assert abs(p - q) <= 4 * se, (median, p, q)


def test_event_driven_success_agrees_with_a_participant_level_simulation():
    """60 participants over 36 months, the analysis at the 15th event (about month 25 at median 15): those not
    yet entered are not in the analysis."""
    d = _design(n=60, accrual_time=36.0, follow_up=None, events=15)
    result = evaluate(d, n_sims=100_000, seed=6, type_one_error=False)
    trials = 4_000
    for r, median in zip(result.results, (15.0, 30.0), strict=True):
        q = _reference_rate(median, trials, seed=int(median) + 1, n=60, accrual=36.0, events=15)
        p = r.success.value
        se = math.sqrt(p * (1 - p) / 100_000 + max(q * (1 - q), 1e-4) / trials)
        assert abs(p - q) <= 4 * se, (median, p, q)


def test_event_driven_success_equals_the_closed_form_of_type_two_censoring():
    """Everyone entering at once (accrual over 10^-9 months) and the analysis at the D-th event: the total
    follow-up sum_{i<=D} X_(i) + (n - D) X_(D) is Gamma(D, lambda) (Epstein and Sobel 1953), so success is
    P(Gamma(D, lambda) >= t*) with t* where the posterior probability given D events equals the threshold."""
    n, events = 30, 18
    d = _design(n=n, accrual_time=1e-9, follow_up=None, events=events)
    prior = hazard_prior(d.analysis.prior, "months")
    h0 = math.log(2.0) / 15.0
    t_star = optimize.brentq(
        lambda t: float(prior.posterior_cdf(h0, events, t)) - 0.95, 1e-6, 1e6, xtol=1e-12
    )
    result = evaluate(d, n_sims=100_000, seed=7, type_one_error=False)
    for r, median in zip(result.results, (15.0, 30.0), strict=True):
        exact = float(special.gammaincc(events, math.log(2.0) / median * t_star))
        assert r.success.value == pytest.approx(
            exact, abs=4 * math.sqrt(exact * (1 - exact) / 100_000) + 1e-4
        )


def test_an_optimistic_prior_is_flagged_above_alpha():
    """A prior centred on a long median (hazard mean 2 / 600 per month: median about 208 months) with a low
    threshold pushes the type I error at the goal (median 15) far above alpha: the guard says so."""
    strong = {"family": "gamma", "components": [{"weight": 1.0, "shape": 20.0, "rate": 6000.0}]}
    result = evaluate(_design(prior=strong, threshold=0.8), n_sims=20_000, seed=2)
    check = result.type_one_error
    assert check.exceeds and check.value > 0.025 + 3 * check.mcse


def test_the_fitted_durability_prior_is_rescaled_to_the_designs_time_unit():
    spec = {"family": "fitted", "name": "durability_hazard"}
    per_year = hazard_prior(parse_design_prior(spec), "years")
    per_month = hazard_prior(parse_design_prior(spec), "months")
    assert per_month.mean() == pytest.approx(per_year.mean() / 12.0, rel=1e-12)
    assert per_month.var() == pytest.approx(per_year.var() / 144.0, rel=1e-12)
    # a design in months with the fitted prior: the rule runs and the report of the prior is per month
    d = _design(prior={**spec, "robust_weight": 0.2})
    result = evaluate(d, n_sims=4_000, seed=1, type_one_error=False)
    assert 0.0 <= result.results[1].success.value <= 1.0


def parse_design_prior(spec):
    return _design(prior=spec).analysis.prior


@pytest.mark.parametrize(
    ("analysis", "message"),
    [
        ({"prior": None}, "analysis.prior: required by rule 'exponential-posterior'"),
        (
            {"prior": {"family": "beta", "components": [{"weight": 1.0, "a": 1.0, "b": 1.0}]}},
            "a 'gamma' prior",
        ),
        (
            {"performance_goal": -3.0},
            "analysis.performance_goal: the reference median time to the event must be positive, got -3.0",
        ),
        ({"threshold": None}, "analysis.threshold: required"),
    ],
)
def test_bad_bayesian_time_to_event_input_names_the_field(analysis, message):
    spec = {
        "name": "x",
        "arms": {"kind": "single-arm", "n": 30},
        "endpoint": {"kind": "time-to-event", "accrual_time": 12.0, "follow_up": 24.0},
        "analysis": {
            "rule": "exponential-posterior",
            "performance_goal": 15.0,
            "threshold": 0.95,
            "prior": PRIOR,
        },
        "scenarios": [{"name": "null", "treatment": 15.0}],
    }
    spec["analysis"] = {k: v for k, v in {**spec["analysis"], **analysis}.items() if v is not None}
    with pytest.raises(
        DesignError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")
    ):
        parse_design(spec)


# ---- the durability prior (PyMC) against numerical integration of the same model ----------------------------


def _durability_predictive_by_quadrature(tau_scale: float = 1.0) -> tuple[float, float]:
    """Median and the 10% and 90% quantiles of the MAP predictive hazard, by integration over (mu, tau) with
    Gauss-Hermite nodes for each study's random effect -- no MCMC. Returns (median, iqr of log hazard)."""
    from planner.fitting import Evidence

    rows = Evidence.load().data["durability"]
    z, wz = np.polynomial.hermite_e.hermegauss(60)
    wz = wz / wz.sum()
    mu = np.linspace(-8, 6, 281)
    tau = np.linspace(1e-4, 6 * tau_scale + 1, 241)
    M, T = np.meshgrid(mu, tau, indexing="ij")
    eta = M[..., None] + T[..., None] * z
    loglik = np.zeros(M.shape)
    for r in rows:
        cum = np.exp(eta) * r["years"]  # still ~ Binomial(at_risk, exp(-cum)), the pmf on the log scale
        y, m = r["still"], r["at_risk"]
        with np.errstate(divide="ignore"):  # exp(-cum) = 1 at the grid's smallest hazards: log 0, weight 0
            logpmf = -y * cum + (m - y) * np.log(-np.expm1(-cum))
            loglik += np.log(np.sum(wz * np.exp(logpmf), axis=-1)) + math.log(math.comb(m, y))
    logpost = loglik + stats.norm.logpdf(M, 0, 2) + stats.halfnorm.logpdf(T, scale=tau_scale)
    w = np.exp(logpost - logpost.max())
    w /= w.sum()
    # predictive of log lambda_new: a mixture of N(mu, tau^2) over the posterior grid
    grid = np.linspace(-12, 8, 1601)
    cdf = np.sum(w[..., None] * stats.norm.cdf((grid - M[..., None]) / T[..., None]), axis=(0, 1))
    q = np.interp([0.25, 0.5, 0.75], cdf, grid)
    return float(np.exp(q[1])), float(q[2] - q[0])


def test_stored_durability_prior_matches_quadrature():
    art = load_fitted()["durability_hazard"]
    median, iqr_log = _durability_predictive_by_quadrature(art.info["tau_scale"])
    # the stored Gamma mixture's median and log-scale IQR against the integration of the model
    mix = art.mixture
    grid = np.geomspace(1e-5, 1e3, 200_001)
    cdf = np.cumsum(mix.pdf(grid) * np.gradient(grid))
    q = np.interp([0.25, 0.5, 0.75], cdf / cdf[-1], np.log(grid))
    assert math.exp(q[1]) == pytest.approx(median, rel=0.05)
    assert q[2] - q[0] == pytest.approx(iqr_log, rel=0.08)
    assert art.info["time_unit"] == "years" and art.family == "gamma"


def test_durability_quadrature_is_sane():
    """With almost no heterogeneity the predictive median approaches the pooled exponential estimate:
    -log-survival MLE of sum(still) given sum(at_risk) over the intervals (numerically)."""
    from planner.fitting import Evidence

    rows = Evidence.load().data["durability"]

    def nll(log_lam):
        lam = math.exp(log_lam)
        return -sum(stats.binom.logpmf(r["still"], r["at_risk"], math.exp(-lam * r["years"])) for r in rows)

    pooled = math.exp(optimize.minimize_scalar(nll, bounds=(-6, 3), method="bounded").x)
    median, _ = _durability_predictive_by_quadrature(0.01)
    assert median == pytest.approx(pooled, rel=0.05)


# ---- time from the onset of the response, responders only ---------------------------------------------------


def test_responders_only_success_equals_the_closed_form_when_every_event_is_observed():
    """R ~ Binomial(n, p) responders enter the analysis; with every event observed, given R = r the total
    follow-up is Gamma(r, lambda), so P(success) = sum_r Binom(r; n, p) P(Gamma(r, lambda) >= t*_r), t*_r where
    the posterior probability after r events equals the threshold (r = 0: the prior decides)."""
    n, p = 30, 0.8
    d = _design(n=n, responders=p, follow_up=20_000.0, time_origin="response", onset_time=6.0)
    prior = hazard_prior(d.analysis.prior, "months")
    h0 = math.log(2.0) / 15.0
    result = evaluate(d, n_sims=100_000, seed=9, type_one_error=False)
    for r_, median in zip(result.results, (15.0, 30.0), strict=True):
        exact = float(stats.binom.pmf(0, n, p)) * (float(prior.posterior_cdf(h0, 0, 0.0)) >= 0.95)
        for r in range(1, n + 1):
            t_star = optimize.brentq(
                lambda t, r=r: float(prior.posterior_cdf(h0, r, t)) - 0.95, 1e-9, 1e7, xtol=1e-12
            )
            exact += stats.binom.pmf(r, n, p) * special.gammaincc(r, math.log(2.0) / median * t_star)
        se = math.sqrt(exact * (1 - exact) / 100_000)
        assert r_.success.value == pytest.approx(exact, abs=4 * se + 1e-4), median


def _reference_one_sample_rate(median, p, onset, trials, seed, n=40):
    """Independent loops: each participant enters uniformly over 12 months and responds with probability p,
    the response starting ``onset`` later; durations exponential; the analysis 24 months after accrual ends;
    one-sample log-rank z of the responders against median 15."""
    rng = np.random.default_rng(seed)
    crit = special.ndtri(0.975)
    wins = 0
    for _ in range(trials):
        entry = rng.uniform(0.0, 12.0, n)
        respond = rng.random(n) < p
        duration = rng.exponential(median / math.log(2.0), n)
        start = entry[respond] + onset
        window = np.maximum(36.0 - start, 0.0)
        follow = np.minimum(duration[respond], window)
        observed = int(np.sum(duration[respond] <= window))
        expected = float(np.sum(follow)) * math.log(2.0) / 15.0
        wins += expected > 0 and (expected - observed) / math.sqrt(expected) >= crit
    return wins / trials


def test_responders_only_one_sample_logrank_agrees_with_a_participant_level_simulation():
    d = parse_design(
        {
            "name": "durability among responders",
            "arms": {"kind": "single-arm", "n": 40},
            "endpoint": {
                "kind": "time-to-event",
                "accrual_time": 12.0,
                "follow_up": 24.0,
                "time_origin": "response",
                "onset_time": 9.0,
            },
            "analysis": {"rule": "one-sample-logrank", "performance_goal": 15.0},
            "scenarios": [
                {"name": "null", "treatment": 15.0, "responders": 0.7},
                {"name": "median 40", "treatment": 40.0, "responders": 0.7},
            ],
        }
    )
    result = evaluate(d, n_sims=100_000, seed=10)
    trials = 4_000
    for r, median in zip(result.results, (15.0, 40.0), strict=True):
        q = _reference_one_sample_rate(median, 0.7, 9.0, trials, seed=int(median))
        p = r.success.value
        se = math.sqrt(p * (1 - p) / 100_000 + max(q * (1 - q), 1e-4) / trials)
        assert abs(p - q) <= 4 * se, (median, p, q)
    # the guard evaluates the null at the boundary median with the scenarios' responder probability
    (null,) = null_scenarios(d)
    assert (null.treatment, null.responders) == (15.0, 0.7)
    check = result.type_one_error
    assert check.value == pytest.approx(result.results[0].success.value, abs=5 * check.mcse)


@pytest.mark.parametrize(
    ("endpoint", "scenario", "message"),
    [
        (
            {"time_origin": "response"},
            {},
            "scenarios[0].responders: required with endpoint.time_origin = 'response'",
        ),
        (
            {"time_origin": "response"},
            {"responders": 1.3},
            "scenarios[0].responders: a probability must lie in (0, 1], got 1.3",
        ),
        ({"onset_time": 3.0}, {}, "endpoint.onset_time: only used with endpoint.time_origin = 'response'"),
        ({"onset_time": -1.0, "time_origin": "response"}, {"responders": 0.5}, "endpoint.onset_time"),
        (
            {},
            {"responders": 0.5},
            "scenarios[0].responders: only used with endpoint.time_origin = 'response'",
        ),
    ],
)
def test_bad_responder_input_names_the_field(endpoint, scenario, message):
    spec = {
        "name": "x",
        "arms": {"kind": "single-arm", "n": 30},
        "endpoint": {"kind": "time-to-event", "accrual_time": 12.0, "follow_up": 24.0, **endpoint},
        "analysis": {"rule": "one-sample-logrank", "performance_goal": 15.0},
        "scenarios": [{"name": "null", "treatment": 15.0, **scenario}],
    }
    with pytest.raises(DesignError, match=re.escape(message)):
        parse_design(spec)


def test_responders_only_is_the_same_whatever_the_chunk_size():
    d = _design(
        n=200, responders=0.75, time_origin="response", onset_time=6.0
    )  # 200 x 8,000: several sub-chunks
    a = evaluate(d, n_sims=8_000, chunk_size=700, type_one_error=False)
    b = evaluate(d, n_sims=8_000, chunk_size=8_000, type_one_error=False)
    for x, y in zip(a.results, b.results, strict=True):
        assert x.success.value == y.success.value
        assert x.survival.expected_events == y.survival.expected_events


def test_the_shipped_durability_example_states_its_estimand_and_holds_alpha(tmp_path):
    """The example's report names who is analysed and from when, the measure and the prior; the calibrated
    threshold holds alpha at the null (simulated, within alpha + 2 MCSE, as the guard judges)."""
    from pathlib import Path

    from planner.design import load_design
    from planner.report import build_report

    design = load_design(Path(__file__).resolve().parent.parent / "examples" / "zimislecel_durability.toml")
    assert design.endpoint.time_origin == "response" and design.analysis.rule == "exponential-posterior"
    out = build_report(design, tmp_path, n_sims=20_000, pdf=False)
    page = out.html.read_text()
    assert "who respond (become insulin independent): the time starts at the response" in page
    assert "time from the onset of the response (6 months after entry), responders only" in page
    assert (
        "median time to the event under an exponential model, against the performance goal 15 months" in page
    )
    result = evaluate(design, n_sims=20_000)
    assert not result.type_one_error.exceeds


# ---- assurance over a design prior -----------------------------------------------------------------------


def test_assurance_over_a_gamma_hazard_prior_equals_quadrature_when_every_event_is_observed():
    """Every event observed: P(success | lambda) = Q(n, lambda t*) (see above); assurance integrates it against
    the design prior Gamma(4, 240) on the hazard per month (median duration about 42 months) by quadrature."""
    a, b = 4.0, 240.0
    d = _design(follow_up=20_000.0).with_changes(
        {
            "design_prior": {
                "treatment": {"family": "gamma", "components": [{"weight": 1.0, "shape": a, "rate": b}]}
            }
        }
    )
    prior = hazard_prior(d.analysis.prior, "months")
    h0 = math.log(2.0) / 15.0
    t_star = optimize.brentq(lambda t: float(prior.posterior_cdf(h0, 30, t)) - 0.95, 1e-6, 1e6, xtol=1e-12)
    exact = integrate.quad(
        lambda lam: special.gammaincc(30, lam * t_star) * stats.gamma.pdf(lam, a, scale=1 / b), 0, np.inf
    )[0]
    result = evaluate(d, n_sims=100_000, seed=11, type_one_error=False)
    assert result.assurance.value == pytest.approx(exact, abs=4 * result.assurance.mcse)


def test_assurance_at_a_point_design_prior_is_the_scenarios_power():
    """A point design prior at a scenario's truth (hazard log 2 / median, responders 0.8) simulates the same
    trials as the scenario (the same random streams): the same success probability."""
    d = _design(responders=0.8, time_origin="response", onset_time=6.0).with_changes(
        {
            "design_prior": {
                "treatment": {"family": "point", "value": math.log(2.0) / 30.0},
                "responders": {"family": "point", "value": 0.8},
            }
        }
    )
    result = evaluate(d, n_sims=20_000, seed=12, type_one_error=False)
    assert abs(result.assurance.value - result.results[1].success.value) <= 2 / 20_000


def test_randomized_assurance_over_the_log_hazard_ratio_equals_power_averaged_at_quadrature_nodes():
    """Log-rank, log HR ~ N(log 0.65, 0.2^2), control hazard fixed: assurance (per-trial truths) against the
    Gauss-Hermite average of the power simulated at fixed hazard ratios (scenarios) -- two independent routes."""
    base = parse_design(
        {
            "name": "randomized durability",
            "arms": {"kind": "randomized", "n": 200},
            "endpoint": {"kind": "time-to-event", "accrual_time": 12.0, "events": 100},
            "analysis": {"rule": "logrank"},
            "scenarios": [{"name": "null", "treatment": 15.0, "control": 15.0}],
        }
    )
    mu, sd = math.log(0.65), 0.2
    nodes, weights = np.polynomial.hermite_e.hermegauss(12)
    weights = weights / weights.sum()
    scenarios = [
        {"name": f"node {k}", "treatment": 15.0 / math.exp(mu + sd * z), "control": 15.0}
        for k, z in enumerate(nodes)
    ]
    at_nodes = evaluate(
        base.with_changes({"scenarios": scenarios}), n_sims=20_000, seed=14, type_one_error=False
    )
    averaged = sum(w * r.success.value for w, r in zip(weights, at_nodes.results, strict=True))
    averaged_se = math.sqrt(
        sum((w * r.success.mcse) ** 2 for w, r in zip(weights, at_nodes.results, strict=True))
    )
    d = base.with_changes(
        {
            "design_prior": {
                "control": {"family": "point", "value": math.log(2.0) / 15.0},
                "log_hazard_ratio": {
                    "family": "normal",
                    "components": [{"weight": 1.0, "mean": mu, "sd": sd}],
                },
            }
        }
    )
    result = evaluate(d, n_sims=100_000, seed=15, type_one_error=False)
    se = math.hypot(result.assurance.mcse, averaged_se)
    assert result.assurance.value == pytest.approx(averaged, abs=4 * se)


def test_proportional_hazards_within_a_weibull_model():
    """The sampler's treatment median under HR for a Weibull(shape 1.5) endpoint: S_t = S_c^HR gives
    m_t = m_c HR^(-1/1.5)."""
    from planner.assurance import DesignPriorSampler
    from planner.randomness import BlockStreams

    d = parse_design(
        {
            "name": "weibull",
            "arms": {"kind": "randomized", "n": 200},
            "endpoint": {
                "kind": "time-to-event",
                "model": "weibull",
                "shape": 1.5,
                "accrual_time": 12.0,
                "events": 100,
            },
            "analysis": {"rule": "logrank"},
            "scenarios": [{"name": "null", "treatment": 15.0, "control": 15.0}],
            "design_prior": {
                "control": {"family": "point", "value": math.log(2.0) / 15.0},
                "log_hazard_ratio": {"family": "point", "value": math.log(0.6)},
            },
        }
    )
    truth = DesignPriorSampler(d).draw(BlockStreams(1, 0), 5)
    assert np.allclose(truth.control, 15.0, rtol=1e-14)
    assert np.allclose(truth.treatment, 15.0 * 0.6 ** (-1 / 1.5), rtol=1e-12)


@pytest.mark.parametrize(
    ("design_prior", "message"),
    [
        ({}, "design_prior.treatment: required for assurance of this single-arm time-to-event design"),
        (
            {"treatment": {"family": "point", "value": -0.1}},
            "design_prior.treatment.value: a hazard must be positive, got -0.1",
        ),
        (
            {"treatment": {"family": "normal", "components": [{"weight": 1.0, "mean": 0.0, "sd": 1.0}]}},
            "design_prior.treatment: a 'gamma' prior is needed here",
        ),
        (
            {"treatment": {"family": "point", "value": 0.05}, "durable": {"family": "point", "value": 1.2}},
            "design_prior.durable.value: a durable fraction must lie in [0, 1), got 1.2",
        ),
        (
            {
                "treatment": {"family": "point", "value": 0.05},
                "log_hazard_ratio": {"family": "point", "value": 0.0},
            },
            "design_prior.log_hazard_ratio: not used by a single-arm time-to-event design",
        ),
        (
            {
                "treatment": {"family": "point", "value": 0.05},
                "responders": {"family": "point", "value": 0.5},
            },
            "design_prior.responders: only used with endpoint.time_origin = 'response'",
        ),
    ],
)
def test_bad_time_to_event_design_prior_names_the_field(design_prior, message):
    spec = {
        "name": "x",
        "arms": {"kind": "single-arm", "n": 30},
        "endpoint": {"kind": "time-to-event", "accrual_time": 12.0, "follow_up": 24.0},
        "analysis": {"rule": "one-sample-logrank", "performance_goal": 15.0},
        "scenarios": [{"name": "null", "treatment": 15.0}],
        "design_prior": design_prior,
    }
    with pytest.raises(DesignError, match=re.escape(message)):
        parse_design(spec)


# ---- figures: survival curves, power over events, the analysis over N --------------------------------------


def test_survival_curves_are_the_models_survival_functions():
    from planner import tables

    d = _design().with_changes(
        {
            "scenarios": [
                {"name": "plain", "treatment": 15.0},
                {"name": "durable", "treatment": 15.0, "durable": [0.3]},
            ]
        }
    )
    frame = tables.survival_curves(d, points=361)  # 0 to 36 months in steps of 0.1
    at_median = frame[np.isclose(frame["time"], 15.0)].set_index("scenario")["survival"]
    assert at_median["plain"] == pytest.approx(0.5, rel=1e-12)
    assert at_median["durable"] == pytest.approx(0.3 + 0.7 * 0.5, rel=1e-12)
    assert frame["time"].max() == pytest.approx(36.0)  # accrual 12 + follow-up 24


def test_survival_curve_points_are_the_designs_evaluations():
    """Each point is the evaluation of the design at that N (or those events): the same seed, the same numbers;
    an event-driven analysis sees its events exactly when every trial reaches them."""
    from planner.search import survival_curve

    d = parse_design(
        {
            "name": "randomized durability",
            "arms": {"kind": "randomized", "n": 200},
            "endpoint": {"kind": "time-to-event", "accrual_time": 12.0, "events": 100},
            "analysis": {"rule": "logrank"},
            "scenarios": [{"name": "hr 0.6", "treatment": 25.0, "control": 15.0}],
        }
    )
    by_n = survival_curve(d, "n", [150, 200, 20], n_sims=4_000, seed=3)
    assert [p.at for p in by_n] == [150, 200]  # N below the events is not a design
    direct = evaluate(d, n_sims=4_000, seed=3, type_one_error=False).results[0]
    assert by_n[1].power == direct.success.value
    assert by_n[1].expected_time == direct.survival.expected_time
    by_events = survival_curve(d, "events", [50, 100, 150, 250], n_sims=4_000, seed=3)
    assert [p.at for p in by_events] == [50, 100, 150]
    assert [p.expected_events for p in by_events] == [50.0, 100.0, 150.0]
    assert by_events[0].power < by_events[1].power < by_events[2].power
    with pytest.raises(DesignError, match="over: 'events' needs an event-driven design"):
        survival_curve(_design(), "events", [10])


def test_the_report_of_a_time_to_event_design_has_its_figures(tmp_path):
    from planner.report import build_report

    d = parse_design(
        {
            "name": "randomized durability",
            "arms": {"kind": "randomized", "n": 200},
            "endpoint": {"kind": "time-to-event", "accrual_time": 12.0, "events": 100},
            "analysis": {"rule": "logrank"},
            "scenarios": [
                {"name": "null", "treatment": 15.0, "control": 15.0},
                {"name": "hr 0.6", "treatment": 25.0, "control": 15.0},
            ],
        }
    )
    out = build_report(d, tmp_path, n_sims=2_000, pdf=False)
    page = out.html.read_text()
    for caption in (
        "Survival (no event yet) over time in months",
        "Power over the number of events",
        "Expected calendar time of the analysis",
    ):
        assert caption in page
    for name in ("survival_curves.csv", "power_over_events.csv", "analysis_time_over_n.csv"):
        assert (tmp_path / name).exists()


# --- the piecewise-exponential analysis: a Gamma posterior of the hazard's scale ----------------------------
PIECEWISE = {"model": "piecewise-exponential", "cuts": [0.0, 6.0, 18.0], "relative_hazards": [1.0, 0.6, 0.3]}


def _unit_cumulative_hazard(t):
    """H_0 of PIECEWISE written out by hand: rate 1 on [0, 6), 0.6 on [6, 18), 0.3 after."""
    t = np.asarray(t, dtype=float)
    return np.minimum(t, 6.0) + 0.6 * np.clip(t - 6.0, 0.0, 12.0) + 0.3 * np.maximum(t - 18.0, 0.0)


def _unit_inverse(h):
    h = np.asarray(h, dtype=float)
    return np.where(h < 6.0, h, np.where(h < 13.2, 6.0 + (h - 6.0) / 0.6, 18.0 + (h - 13.2) / 0.3))


def _scale_of_median(median):
    return math.log(2.0) / float(_unit_cumulative_hazard(median))


def test_piecewise_hazard_scale_is_the_hand_written_model():
    from planner.time_to_event.models import hazard_scale

    scale = hazard_scale(_design(**PIECEWISE).endpoint)
    t = np.linspace(0.0, 60.0, 601)
    assert np.allclose(scale.exposure(t), _unit_cumulative_hazard(t), atol=1e-12)
    for median in (4.0, 15.0, 40.0):
        assert scale.hazard(median) == pytest.approx(_scale_of_median(median), rel=1e-13)
        assert float(scale.median(scale.hazard(median))) == pytest.approx(median, rel=1e-12)


@pytest.mark.parametrize("threshold", [0.9, 0.975])
def test_piecewise_success_equals_the_closed_form_when_every_event_is_observed(threshold):
    """Every event observed: d = n and lambda sum H_0(T_i) ~ Gamma(n, 1), lambda the scale of the true model
    (median 15 or 30 under the relative hazards); success is sum H_0(T_i) >= w*, where the posterior probability
    that the scale is below that of the goal's median equals the threshold."""
    d = _design(follow_up=20_000.0, threshold=threshold, **PIECEWISE)
    prior = hazard_prior(d.analysis.prior, d.endpoint.time_unit)
    goal_scale = _scale_of_median(15.0)
    w_star = optimize.brentq(
        lambda w: float(prior.posterior_cdf(goal_scale, 30, w)) - threshold, 1e-6, 1e6, xtol=1e-12
    )
    result = evaluate(d, n_sims=100_000, seed=21, type_one_error=False)
    for r, median in zip(result.results, (15.0, 30.0), strict=True):
        exact = float(special.gammaincc(30, _scale_of_median(median) * w_star))
        assert r.success.value == pytest.approx(
            exact, abs=4 * math.sqrt(exact * (1 - exact) / 100_000) + 1e-4
        )
    # the exponential analysis of the same data is another rule: it must give other numbers here
    other = _closed_form_success(_design(follow_up=20_000.0, threshold=threshold), 30.0)
    assert abs(other - result.results[1].success.value) > 0.01


def _piecewise_reference_rate(median, trials, seed, n=30, threshold=0.95, accrual=12.0):
    """Independent per-participant simulation, one trial at a time: uniform entry, event times by inverting
    the hand-written H_0 scaled to the median, analysis 24 months after accrual; the posterior of the scale is
    the Gamma mixture updated with d events and exposure sum H_0(follow-up), component by component."""
    rng = np.random.default_rng(seed)
    prior = GammaMixture((0.7, 0.3), (2.0, 1.0), (60.0, 10.0))
    lam, goal_scale = _scale_of_median(median), _scale_of_median(15.0)
    wins = 0
    for _ in range(trials):
        entry = rng.uniform(0.0, accrual, n)
        time = _unit_inverse(rng.exponential(1.0, n) / lam)
        window = accrual + 24.0 - entry
        d = int(np.sum(time <= window))
        w = float(np.sum(_unit_cumulative_hazard(np.minimum(time, window))))
        log_marginal = [
            math.log(c)
            + special.gammaln(a + d)
            - special.gammaln(a)
            + a * math.log(b)
            - (a + d) * math.log(b + w)
            for c, a, b in prior.components()
        ]
        top = max(log_marginal)
        weights = [math.exp(v - top) for v in log_marginal]
        below = [stats.gamma.cdf(goal_scale, a + d, scale=1 / (b + w)) for _, a, b in prior.components()]
        wins += sum(c * p for c, p in zip(weights, below, strict=True)) / sum(weights) > threshold
    return wins / trials


def test_piecewise_success_with_censoring_agrees_with_a_participant_level_simulation():
    d = _design(**PIECEWISE)
    result = evaluate(d, n_sims=100_000, seed=22, type_one_error=False)
    trials = 4_000
    for r, median in zip(result.results, (15.0, 30.0), strict=True):
        q = _piecewise_reference_rate(median, trials, seed=int(median) + 100)
        p = r.success.value
        se = math.sqrt(p * (1 - p) / 100_000 + max(q * (1 - q), 1e-4) / trials)
        assert abs(p - q) <= 4 * se, (median, p, q)


def test_piecewise_design_prior_hazard_is_the_scale():
    """A point design prior at the scale of the median-30 model simulates the same trials as that scenario."""
    d = _design(**PIECEWISE).with_changes(
        {"design_prior": {"treatment": {"family": "point", "value": _scale_of_median(30.0)}}}
    )
    result = evaluate(d, n_sims=20_000, seed=23, type_one_error=False)
    assert abs(result.assurance.value - result.results[1].success.value) <= 2 / 20_000


def test_piecewise_bayesian_design_holds_alpha_at_its_null():
    """The guard evaluates the null (median 15 under the relative hazards) with the same analysis."""
    d = _design(threshold=0.99, **PIECEWISE)
    check = evaluate(d, n_sims=50_000, seed=24).type_one_error
    assert check is not None and check.value <= 0.025 + 3 * check.mcse
