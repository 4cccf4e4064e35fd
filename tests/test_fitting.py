"""The PyMC models: exact posteriors recovered, loud failure on poor convergence, a full refit from scratch."""

from __future__ import annotations

import json

import arviz as az
import numpy as np
import pytest
from scipy import stats

from planner.artifacts import load_fitted
from planner.fitting import Evidence, PriorFitError, beta_binomial, fit_all, fit_model, map_prior

pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::FutureWarning", "ignore::RuntimeWarning"
)


def insulin_only(pm, ev):
    return beta_binomial(pm, ev, "insulin_independence", "ii", "test")


def test_pymc_posterior_of_10_of_12_is_beta_11_3():
    idata, _, diag = fit_model(insulin_only, Evidence.load(), seed=3, draws=2000)
    draws = idata.posterior["ii_p"]
    x = draws.values.ravel()
    mcse_mean = float(az.mcse(idata, var_names=["ii_p"])["ii_p"])
    assert abs(x.mean() - 11 / 14) <= 4 * mcse_mean
    for q in (0.05, 0.25, 0.5, 0.75, 0.95):
        mcse_q = float(az.mcse(idata, var_names=["ii_p"], method="quantile", prob=q)["ii_p"])
        assert abs(np.quantile(x, q) - stats.beta.ppf(q, 11, 3)) <= 4 * mcse_q, q
    assert diag["rhat_max"] < 1.01 and diag["divergences"] == 0


def test_poor_convergence_fails_loudly():
    with pytest.raises(PriorFitError, match="ESS"):
        fit_model(insulin_only, Evidence.load(), seed=1, draws=60, tune=60, chains=2)


def test_map_predictive_narrows_with_less_heterogeneity():
    """PyMC itself: a tighter heterogeneity prior gives a narrower predictive than the stored fit (scale 1)."""
    idata, _, _ = fit_model(
        lambda pm, ev: map_prior(pm, ev, tau_scale=0.1, name="m"), Evidence.load(), seed=2
    )
    narrow = idata.posterior["m_pnew"].values.std()
    assert narrow < 0.8 * load_fitted()["map_responder"].info["draws_sd"]


def test_full_refit_from_scratch_reproduces_the_stored_priors(tmp_path):
    result = fit_all(tmp_path, log=lambda line: None)
    stored = load_fitted()
    written = json.loads((tmp_path / "priors.json").read_text())
    assert set(written["priors"]) == set(stored)
    for name, entry in written["priors"].items():
        # same evidence and seed: the same posterior up to Monte Carlo error
        ref = stored[name].info
        se = ref["draws_sd"] / np.sqrt(ref["diagnostics"]["ess_bulk_min"])
        assert entry["draws_mean"] == pytest.approx(ref["draws_mean"], abs=6 * se), name
        assert entry["draws_sd"] == pytest.approx(ref["draws_sd"], rel=0.1), name
    assert (tmp_path / "posterior_phase12.nc").exists() and (tmp_path / "posterior_map.nc").exists()
    assert result["metadata"]["evidence_sha256"] == Evidence.load().sha256
