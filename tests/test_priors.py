"""Priors without PyMC: stored artifacts, discounting, effective sample size, conflict, mixture fitting."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest
from scipy import integrate, special, stats

from planner.artifacts import load_fitted
from planner.design import FittedPrior
from planner.fitting import d2_d3_range_constants, ks_distance
from planner.mixfit import auto_fit, fit_mixture
from planner.mixtures import BetaMixture, GammaMixture, NormalMixture
from planner.priors import (
    box_p_value_binary,
    box_p_value_normal,
    ess,
    power_prior,
    resolve,
    robustify,
)
from planner.resources import priors_dir

EXPECTED = {
    "insulin_independence": "beta",
    "part_c_composite": "beta",
    "hba1c_change": "normal",
    "time_in_range_day365": "normal",
    "she_rate_treated": "gamma",
    "c_peptide_day365_log": "normal",
    "map_responder": "beta",
    "map_responder_tau0_25": "beta",
    "map_responder_tau0_5": "beta",
    "map_responder_tau2": "beta",
    "durability_hazard": "gamma",
}


def test_import_planner_does_not_import_pymc_and_priors_load_fast():
    code = (
        "import sys, time; import planner; from planner.artifacts import load_fitted; "
        "t = time.perf_counter(); p = load_fitted(); dt = time.perf_counter() - t; "
        "print(dt, len(p), any(m in sys.modules for m in ('pymc', 'arviz', 'pytensor')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    seconds, count, heavy = float(out[0]), int(out[1]), out[2]
    assert heavy == "False"
    assert count == len(EXPECTED)
    assert seconds < 1.0, f"loading the stored priors took {seconds:.2f} s"


def test_stored_priors_match_the_evidence_file():
    """The artifacts were fitted from the evidence file as it is now (refit with `planner priors fit`)."""
    data = json.loads((priors_dir() / "fitted" / "priors.json").read_text())
    sha = hashlib.sha256((priors_dir() / "evidence.toml").read_bytes()).hexdigest()
    assert data["metadata"]["evidence_sha256"] == sha
    fitted = load_fitted()
    assert {n: a.family for n, a in fitted.items()} == EXPECTED
    for art in fitted.values():
        d = art.info["diagnostics"]
        assert d["rhat_max"] < 1.01 and d["ess_bulk_min"] > 400 and d["divergences"] == 0
        assert (priors_dir() / "fitted" / art.info["draws_file"]).exists()
        # the mixture approximation reproduces the draws' distribution (recomputed here from the stored draws)
        draws = _stored_draws(art)
        # (the draws' own KS noise: 1.36 / sqrt(effective draws) = 0.030 at 2,000, the 95% critical value)
        assert ks_distance(art.mixture, None, draws) < 1.36 / np.sqrt(
            art.info["diagnostics"]["ess_bulk_min"]
        ), art.name
        if stats.kurtosis(draws) < 20.0:  # and their mean and sd, where the sd of the draws means something
            assert art.mixture.mean() == pytest.approx(
                art.info["draws_mean"], abs=0.05 * art.info["draws_sd"]
            )
            assert np.sqrt(art.mixture.var()) == pytest.approx(art.info["draws_sd"], rel=0.05)


def _stored_draws(art) -> np.ndarray:
    import xarray as xr

    with xr.open_dataset(priors_dir() / "fitted" / art.info["draws_file"]) as data:
        return np.asarray(data[art.parameter].values).ravel()


def test_the_durability_prior_has_a_heavy_tail_that_its_mixture_keeps():
    """The MAP predictive hazard exp(mu + tau z) over three heterogeneous studies is log-normal-like (its sd
    rests on a few draws), which is why the check above compares distributions; the mixture's upper quantiles
    follow the draws'."""
    art = load_fitted()["durability_hazard"]
    draws = _stored_draws(art)
    assert stats.kurtosis(draws) > 20.0
    for q in (0.5, 0.9, 0.99):
        value = float(np.quantile(draws, q))
        mix_cdf = float(
            np.sum([w * stats.gamma.cdf(value, a, scale=1 / r) for w, a, r in art.mixture.components()])
        )
        assert mix_cdf == pytest.approx(q, abs=0.01), q


def test_conjugate_posteriors_are_stored_exactly_with_the_em_check_beside_them():
    fitted = load_fitted()
    ii = fitted["insulin_independence"]  # 10/12 on Beta(1, 1): exactly Beta(11, 3)
    assert ii.mixture.components() == [(1.0, 11.0, 3.0)]
    assert ii.info["approximation"]["method"] == "exact conjugate posterior"
    assert 0 < ii.info["approximation"]["em_ks_distance_to_exact"] < 0.05  # the sampler agrees with it
    assert fitted["part_c_composite"].mixture.components() == [(1.0, 13.0, 1.0)]
    she = fitted["she_rate_treated"].mixture  # 0 events in 12 x 275/365 person-years on Gamma(0.5, 0.001)
    assert she.components() == [(1.0, 0.5, pytest.approx(0.001 + 12 * 275 / 365, rel=1e-12))]
    for name in ("hba1c_change", "map_responder"):  # non-conjugate: EM of the draws, with its error shown
        approx = fitted[name].info["approximation"]
        assert approx["method"].startswith("EM mixture") and 0 < approx["ks_distance_to_draws"] < 0.05


def test_map_sensitivity_to_the_heterogeneity_prior():
    """A smaller half-normal scale for tau borrows more: the MAP prior's ESS falls as the scale grows."""
    fitted = load_fitted()
    names = ["map_responder_tau0_25", "map_responder_tau0_5", "map_responder", "map_responder_tau2"]
    assert [fitted[n].info["tau_scale"] for n in names] == [0.25, 0.5, 1.0, 2.0]
    moment = [fitted[n].info["ess"]["moment"] for n in names]
    assert all(a > b for a, b in zip(moment, moment[1:], strict=False)), moment


@pytest.mark.parametrize(("a", "b"), [(11.0, 3.0), (1.0, 1.0), (2.5, 7.5), (40.0, 60.0)])
def test_moment_ess_of_beta_is_a_plus_b(a, b):
    assert ess(BetaMixture((1.0,), (a,), (b,)))["moment"] == pytest.approx(a + b, rel=1e-10)


def test_ess_of_normal_and_gamma():
    e = ess(NormalMixture((1.0,), (0.0,), (0.5,)), reference_sd=1.5)
    assert (
        e["moment"] == pytest.approx(9.0)
        and e["morita"] == pytest.approx(9.0)
        and e["elir"] == pytest.approx(9.0)
    )
    g = ess(GammaMixture((1.0,), (3.0,), (2.0,)))
    assert (
        g["moment"] == pytest.approx(2.0)
        and g["morita"] == pytest.approx(2.0)
        and g["elir"] == pytest.approx(2.0)
    )  # a Gamma(a, b) prior on a Poisson rate is b units of exposure


@pytest.mark.parametrize(("a", "b"), [(11.0, 3.0), (2.5, 7.5), (40.0, 60.0)])
def test_every_ess_of_a_beta_is_a_plus_b(a, b):
    # Morita et al. (2008) with the expected information under the prior (RBesT's definition): Beta(11, 3) -> 14,
    # not the 17.2 that the information at the mode alone gives
    e = ess(BetaMixture((1.0,), (a,), (b,)))
    for method in ("moment", "morita", "elir"):
        assert e[method] == pytest.approx(a + b, rel=1e-8), method


@pytest.mark.parametrize(
    "prior", [BetaMixture((1.0,), (11.0,), (3.0,)), NormalMixture((1.0,), (-1.8,), (0.2,))]
)
def test_robustification_lowers_ess_as_weight_grows(prior):
    weights = [0.0, 0.1, 0.2, 0.4, 0.6, 0.8]
    values = [ess(robustify(prior, w, reference_sd=0.7), reference_sd=0.7) for w in weights]
    for method in ("moment", "morita", "elir"):
        series = [v[method] for v in values]
        assert np.all(np.diff(series) < 0), (method, series)


def test_power_prior_discounts_a_conjugate_posterior_exactly():
    art = load_fitted()["insulin_independence"]
    a, b = art.mixture.a[0], art.mixture.b[0]
    half = power_prior(art, 0.5)
    assert half.a[0] == pytest.approx(1 + 0.5 * (a - 1)) and half.b[0] == pytest.approx(1 + 0.5 * (b - 1))
    assert ess(half)["moment"] < ess(art.mixture)["moment"]
    assert resolve(FittedPrior(family="fitted", name="insulin_independence", a0=0.5)) == half
    full = resolve(FittedPrior(family="fitted", name="insulin_independence", robust_weight=0.5))
    assert full.weights == (0.5, 0.5) and (full.a[1], full.b[1]) == (1.0, 1.0)


def test_box_p_value_binary_matches_brute_force():
    prior = BetaMixture((0.5, 0.5), (11.0, 1.0), (3.0, 1.0))
    n = 40
    pmf = np.array(
        [0.5 * stats.betabinom.pmf(y, n, 11, 3) + 0.5 * stats.betabinom.pmf(y, n, 1, 1) for y in range(n + 1)]
    )
    for x in (5, 20, 33):
        assert box_p_value_binary(prior, x, n) == pytest.approx(
            pmf[pmf <= pmf[x] * (1 + 1e-12)].sum(), rel=1e-9
        )
    # a phase 3 result far below the phase 1/2 evidence is in conflict with the informative prior
    informative = BetaMixture((1.0,), (11.0,), (3.0,))
    assert box_p_value_binary(informative, 10, 50) < 0.01 < box_p_value_binary(informative, 38, 50)


def test_box_p_value_normal_matches_closed_form():
    prior = NormalMixture((1.0,), (-1.8,), (0.3,))
    # one normal component: the predictive is N(-1.8, 0.3^2 + 0.2^2) and Box's p is two-sided
    z = (-1.0 + 1.8) / np.sqrt(0.3**2 + 0.2**2)
    assert box_p_value_normal(prior, -1.0, 0.2) == pytest.approx(2 * stats.norm.sf(z), abs=1e-4)


def test_robust_weight_rises_under_conflict():
    prior = BetaMixture((0.5, 0.5), (11.0, 1.0), (3.0, 1.0))
    agree = prior.posterior_weights(38, 50)[1]
    conflict = prior.posterior_weights(10, 50)[1]
    assert conflict > 0.9 and agree < 0.3


def test_mixture_fit_recovers_a_known_mixture():
    rng = np.random.default_rng(11)
    truth = BetaMixture((0.6, 0.4), (20.0, 3.0), (5.0, 9.0))
    draws = truth.sample(rng, np.random.default_rng(12), 20_000)
    fit = fit_mixture(draws, "beta", 2).mixture
    assert fit.weights == pytest.approx(truth.weights, abs=0.02)
    assert fit.a == pytest.approx(truth.a, rel=0.1) and fit.b == pytest.approx(truth.b, rel=0.1)
    assert len(auto_fit(draws, "beta", max_draws=20_000).mixture.weights) == 2
    normal = NormalMixture((0.3, 0.7), (-1.0, 1.0), (0.5, 0.3))
    fit_n = fit_mixture(normal.sample(rng, np.random.default_rng(13), 20_000), "normal", 2).mixture
    assert sorted(fit_n.weights) == pytest.approx([0.3, 0.7], abs=0.02)
    assert sorted(fit_n.means) == pytest.approx([-1.0, 1.0], abs=0.03)
    one = fit_mixture(
        GammaMixture((1.0,), (3.0,), (2.0,)).sample(rng, np.random.default_rng(14), 20_000), "gamma", 1
    )
    assert one.mixture.shape[0] == pytest.approx(3.0, rel=0.05) and one.mixture.rate[0] == pytest.approx(
        2.0, rel=0.05
    )


def test_range_constants_by_simulation():
    """d2 and d3 (mean and sd of the range of 12 standard normals) used by the time-in-range model."""
    d2, d3 = d2_d3_range_constants()
    x = np.random.default_rng(5).standard_normal((400_000, 12))
    r = x.max(axis=1) - x.min(axis=1)
    assert r.mean() == pytest.approx(d2, abs=4 * r.std() / np.sqrt(r.size) + 5e-4)
    assert r.std() == pytest.approx(d3, abs=2e-3)


def _map_predictive_by_quadrature(tau_scale: float) -> tuple[float, float]:
    """Mean and sd of the MAP predictive p_new, by numerical integration over (mu, tau) -- no MCMC."""
    from planner.fitting import Evidence

    ev = Evidence.load()
    ii = ev.phase12["insulin_independence"]
    y = np.array([ii["responders"]] + [h["responders"] for h in ev.data["historical"]])
    n = np.array([ii["n"]] + [h["n"] for h in ev.data["historical"]])
    z, wz = np.polynomial.hermite_e.hermegauss(60)
    wz = wz / wz.sum()
    mu = np.linspace(-4, 6, 401)
    tau = np.linspace(1e-4, 6 * tau_scale + 1, 401)
    M, T = np.meshgrid(mu, tau, indexing="ij")
    eta = M[..., None] + T[..., None] * z  # (mu, tau, node)
    p = special.expit(eta)
    loglik = np.zeros(M.shape)
    for yi, ni in zip(y, n, strict=True):
        lik = np.sum(wz * stats.binom.pmf(yi, ni, p), axis=-1)
        loglik += np.log(lik)
    logpost = loglik + stats.norm.logpdf(M, 0, 2) + stats.halfnorm.logpdf(T, scale=tau_scale)
    w = np.exp(logpost - logpost.max())
    w /= w.sum()
    m1 = np.sum(w * np.sum(wz * p, axis=-1))
    m2 = np.sum(w * np.sum(wz * p**2, axis=-1))
    return float(m1), float(np.sqrt(m2 - m1**2))


def test_map_predictive_widens_with_heterogeneity():
    sds = [_map_predictive_by_quadrature(s)[1] for s in (0.1, 0.25, 0.5, 1.0, 2.0)]
    assert np.all(np.diff(sds) > 0), sds


def test_stored_map_prior_matches_quadrature():
    """The PyMC MAP fit (stored draws) against numerical integration of the same model."""
    art = load_fitted()["map_responder"]
    mean, sd = _map_predictive_by_quadrature(art.info["tau_scale"])
    ess_draws = art.info["diagnostics"]["ess_bulk_min"]
    assert art.info["draws_mean"] == pytest.approx(mean, abs=4 * sd / np.sqrt(ess_draws))
    assert art.info["draws_sd"] == pytest.approx(sd, rel=0.05)


def test_numerical_integration_reference_is_sane():
    # the quadrature of the MAP model integrates a proper posterior: with almost no heterogeneity
    # the predictive mean approaches the pooled rate of all studies
    mean, _ = _map_predictive_by_quadrature(0.01)
    pooled = (10 + 42 + 16 + 15 + 21) / (12 + 48 + 36 + 24 + 30)
    assert mean == pytest.approx(pooled, abs=0.01)
    assert integrate.quad(lambda t: stats.halfnorm.pdf(t, scale=1.0), 0, np.inf)[0] == pytest.approx(1.0)
