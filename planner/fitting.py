"""PyMC models that turn the evidence (priors/evidence.toml) into priors, fitted offline.

Run by ``planner priors fit``; never imported by the planner's hot path or the app
(they read the stored artifacts through :mod:`planner.priors`). Each model states its
assumptions in its docstring. All are sampled with NUTS and checked with ArviZ:
R-hat < 1.01, bulk ESS > 400 and no divergences, or :class:`PriorFitError` is raised.

Stored in ``priors/fitted/``: the posterior draws of each model (NetCDF) and
``priors.json`` with, per prior, a parametric mixture approximation of the draws
(:func:`planner.mixfit.auto_fit`), its effective sample size, the diagnostics and
metadata (hash of the evidence file, seed, package versions, timings).
"""

from __future__ import annotations

import hashlib
import json
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from planner.artifacts import mixture_from_components
from planner.defaults import DEFAULT_SEED
from planner.mixfit import auto_fit
from planner.priors import ess
from planner.resources import priors_dir
from planner.results import json_ready

__all__ = [
    "PriorFitError",
    "Evidence",
    "fit_all",
    "fit_model",
    "MODELS",
    "MAP_TAU_SCALES",
    "durability_map",
    "d2_d3_range_constants",
    "ks_distance",
]

# Mean and sd of the range of 12 independent standard normal draws (the control-chart
# constants d2 and d3 for subgroups of 12; e.g. Montgomery, Introduction to Statistical
# Quality Control, Appendix VI). test_fitting.py checks them by simulation.
D2_N12, D3_N12 = 3.258, 0.778

RHAT_MAX, ESS_MIN = 1.01, 400


class PriorFitError(RuntimeError):
    """NUTS did not converge well enough to store a prior."""


def d2_d3_range_constants() -> tuple[float, float]:
    return D2_N12, D3_N12


@dataclass(frozen=True)
class Evidence:
    """The evidence file, parsed, with its SHA-256 (stored with every fit)."""

    data: dict[str, Any]
    sha256: str

    @classmethod
    def load(cls, path: str | Path | None = None) -> Evidence:
        path = Path(path) if path else priors_dir() / "evidence.toml"
        raw = path.read_bytes()
        return cls(tomllib.loads(raw.decode()), hashlib.sha256(raw).hexdigest())

    @property
    def phase12(self) -> dict[str, Any]:
        return self.data["phase12"]


# --- the models ------------------------------------------------------------------------------
# Each builder adds its variables to the current PyMC model and returns
# {prior name: (name of the variable whose draws are the prior, family, description, extra)}.


def beta_binomial(pm, ev: Evidence, key: str, name: str, label: str):
    """p ~ Beta(1, 1); responders ~ Binomial(n, p). The posterior is Beta(1 + x, 1 + n - x) exactly."""
    d = ev.phase12[key]
    p = pm.Beta(f"{name}_p", 1.0, 1.0)
    pm.Binomial(f"{name}_y", n=d["n"], p=p, observed=d["responders"])
    x, n = d["responders"], d["n"]
    return {
        name: (
            f"{name}_p",
            "beta",
            label,
            {
                "initial": {"a": 1.0, "b": 1.0},
                "evidence": {"responders": x, "n": n},
                "conjugate": [[1.0, 1.0 + x, 1.0 + n - x]],
            },
        )
    }


def hba1c_change(pm, ev: Evidence):
    """Mean HbA1c change at day 365 (percentage points) of a zimislecel-treated population.

    Only the mean change (-1.81) of n = 12 is published; its standard deviation is not.
    mu ~ Normal(0, 5) (vague); sigma ~ LogNormal(log 0.7, 0.2) encodes the judgment
    default SD 0.7 with range 0.5-0.9 (about a 90% interval); observed mean ~ Normal(mu, sigma/sqrt(12)).
    The uncertainty about sigma widens the prior of mu honestly.
    """
    d, j = ev.phase12["hba1c"], ev.data["judgment"]
    mu = pm.Normal("hba1c_mu", 0.0, 5.0)
    sigma = pm.LogNormal("hba1c_sigma", np.log(j["hba1c_change_sd"]), 0.2)
    pm.Normal("hba1c_mean_obs", mu, sigma / np.sqrt(d["n"]), observed=d["change_day365_mean"])
    return {
        "hba1c_change": (
            "hba1c_mu",
            "normal",
            "mean HbA1c change at day 365 (%-points)",
            {"reference_sd": j["hba1c_change_sd"]},
        )
    }


def time_in_range(pm, ev: Evidence):
    """Mean time in range at day 365 (percent), from a logit-normal model of participants.

    logit(TIR_i / 100) ~ Normal(m, s); published: the mean of TIR (93.3) and its range
    (79.5 to 96.9) in n = 12. The logit range has mean d2 s and sd d3 s (range of 12
    normals); the sample mean of TIR has mean E[TIR] and sd SD[TIR]/sqrt(12), both by
    20-point Gauss-Hermite quadrature over the logit-normal. m ~ Normal(0, 3), s ~ HalfNormal(1.5).
    """
    import pytensor.tensor as pt

    d = ev.phase12["time_in_range"]
    lo, hi = (v / 100.0 for v in d["day365_range"])
    logit_range = float(np.log(hi / (1 - hi)) - np.log(lo / (1 - lo)))
    nodes, weights = np.polynomial.hermite_e.hermegauss(20)
    weights = weights / weights.sum()
    m = pm.Normal("tir_m", 0.0, 3.0)
    s = pm.HalfNormal("tir_s", 1.5)
    values = pt.sigmoid(m + s * nodes)
    mean = pt.sum(weights * values)
    sd = pt.sqrt(pt.sum(weights * (values - mean) ** 2))
    pm.Normal("tir_range_obs", D2_N12 * s, D3_N12 * s, observed=logit_range)
    pm.Normal("tir_mean_obs", mean, sd / np.sqrt(d["n"]), observed=d["day365_mean"] / 100.0)
    pm.Deterministic("tir_mean_percent", 100.0 * mean)
    pm.Deterministic("tir_sd_percent", 100.0 * sd)
    return {
        "time_in_range_day365": (
            "tir_mean_percent",
            "normal",
            "mean time in range at day 365 (%)",
            {"reference_sd_variable": "tir_sd_percent"},
        )
    }


def severe_hypoglycemia(pm, ev: Evidence):
    """Rate of severe hypoglycaemic events per person-year after engraftment.

    0 events in 12 participants over days 90-365 (12 x 275/365 = 9.04 person-years).
    rate ~ Gamma(0.5, 0.001) (near Jeffreys); events ~ Poisson(rate x exposure).
    The posterior is Gamma(0.5 + events, 0.001 + exposure) exactly. NUTS samples r = sqrt(rate)
    ~ HalfNormal(sqrt(1 / (2 x 0.001))), which is the same prior (r^2 is then Gamma(1/2, 0.001))
    without the heavy left tail that log(rate) has near zero events.
    """
    d = ev.phase12["severe_hypoglycemia"]
    exposure = d["participants"] * (d["window_days"][1] - d["window_days"][0]) / 365.0
    root = pm.HalfNormal("she_root_rate", sigma=np.sqrt(1.0 / (2 * 0.001)))
    rate = pm.Deterministic("she_rate", root**2)
    pm.Poisson("she_events", rate * exposure, observed=d["events"])
    return {
        "she_rate_treated": (
            "she_rate",
            "gamma",
            "severe hypoglycaemia events per person-year, treated",
            {
                "initial": {"shape": 0.5, "rate": 0.001},
                "evidence": {"events": d["events"], "person_years": exposure},
                "conjugate": [[1.0, 0.5 + d["events"], 0.001 + exposure]],
            },
        )
    }


def c_peptide(pm, ev: Evidence):
    """Stimulated C-peptide (pmol/L): log-normal participants, log-linear trajectory days 90-365.

    log C_i(t) ~ Normal(b0 + b1 log(t/365), sigma_ln) with sigma_ln^2 = log(1 + cv^2); the
    published arm means satisfy log mean_t ~ Normal(b0 + b1 log(t/365) + sigma_ln^2/2,
    sqrt(cv^2/12 + tau^2)), with tau ~ HalfNormal(0.2) for departures from the trajectory.
    cv ~ LogNormal(log 0.6, 0.1) encodes the judgment range 50-70%; b0 ~ Normal(7, 2), b1 ~ Normal(0, 2).
    The prior is for log median C-peptide at day 365, b0.
    """
    d, j = ev.phase12["c_peptide"], ev.data["judgment"]
    lo, hi = j["c_peptide_cv_range"]
    days = np.asarray(d["days"], dtype=float)
    log_means = np.log(np.asarray(d["mean"], dtype=float))
    b0 = pm.Normal("cpep_b0", 7.0, 2.0)
    b1 = pm.Normal("cpep_b1", 0.0, 2.0)
    cv = pm.LogNormal("cpep_cv", np.log(0.5 * (lo + hi)), 0.1)
    tau = pm.HalfNormal("cpep_tau", 0.2)
    var_ln = pm.math.log(1.0 + cv**2)
    pm.Normal(
        "cpep_obs",
        b0 + b1 * np.log(days / 365.0) + var_ln / 2,
        pm.math.sqrt(cv**2 / d["n"] + tau**2),
        observed=log_means,
    )
    pm.Deterministic("cpep_sd_log", pm.math.sqrt(var_ln))
    return {
        "c_peptide_day365_log": (
            "cpep_b0",
            "normal",
            "log median stimulated C-peptide at day 365 (log pmol/L)",
            {"reference_sd_variable": "cpep_sd_log"},
        )
    }


def _binomial_map(pm, name: str, studies, tau_scale: float, mu_sd: float):
    """The hierarchical binomial model behind a MAP prior: r_i ~ Binomial(n_i, p_i), logit p_i = mu + tau z_i,
    z_i ~ N(0, 1) (non-centred), mu ~ Normal(0, mu_sd), tau ~ HalfNormal(tau_scale); adds the predictive
    p_new = expit(mu + tau z_new) of a new study as ``{name}_pnew``. ``studies``: (name, responders, n)."""
    y = np.array([s[1] for s in studies])
    n = np.array([s[2] for s in studies])
    mu = pm.Normal(f"{name}_mu", 0.0, mu_sd)
    tau = pm.HalfNormal(f"{name}_tau", tau_scale)
    z = pm.Normal(f"{name}_z", 0.0, 1.0, shape=len(studies))
    pm.Binomial(f"{name}_y", n=n, p=pm.math.invlogit(mu + tau * z), observed=y)
    z_new = pm.Normal(f"{name}_znew", 0.0, 1.0)
    pm.Deterministic(f"{name}_pnew", pm.math.invlogit(mu + tau * z_new))
    return f"{name}_pnew"


def map_prior(pm, ev: Evidence, tau_scale: float = 1.0, name: str = "map_responder"):
    """Meta-analytic-predictive prior for a responder rate across islet-replacement studies.

    Studies: FORWARD insulin independence 10/12 and the historical studies in the
    evidence file (CIT-07, Edmonton, CIT-06, Lantidra), whose responder definitions
    differ. The model of :func:`_binomial_map` with mu ~ Normal(0, 2) and tau ~ HalfNormal(tau_scale): the
    between-study heterogeneity. The prior for a new study is the predictive p_new = expit(mu + tau z_new).
    """
    studies = [
        ("FORWARD", ev.phase12["insulin_independence"]["responders"], ev.phase12["insulin_independence"]["n"])
    ]
    studies += [(h["study"], h["responders"], h["n"]) for h in ev.data["historical"]]
    variable = _binomial_map(pm, name, studies, tau_scale, 2.0)
    return {
        name: (
            variable,
            "beta",
            "responder rate in a new islet-replacement study (MAP predictive)",
            {"initial": {"a": 1.0, "b": 1.0}, "studies": [s[0] for s in studies], "tau_scale": tau_scale},
        )
    }


def durability_map(pm, ev: Evidence, tau_scale: float = 1.0, name: str = "durability_hazard"):
    """Meta-analytic-predictive prior of the hazard (per year) of losing insulin independence among responders.

    Studies: the evidence file's [[durability]] entries (CIT-07, Edmonton, Lantidra): of at_risk responders at
    an interval's start, still met the study's endpoint after `years`. Within a study the hazard is constant
    (exponential), so still ~ Binomial(at_risk, exp(-lambda_i years)); log lambda_i = mu + tau z_i, z_i ~ N(0, 1)
    (non-centred); mu ~ Normal(0, 2) (hazards from 0.02 to 50 per year within 2 sd), tau ~ HalfNormal(tau_scale).
    The prior for a new study is the predictive lambda_new = exp(mu + tau z_new); its Gamma mixture is the
    conjugate prior of an exponential hazard (events ~ Poisson(lambda x exposure)). The historical islet
    programmes are allografts under other protocols and endpoints: a prior to discount (a0, robust_weight).
    """
    rows = ev.data["durability"]
    at_risk = np.array([r["at_risk"] for r in rows])
    still = np.array([r["still"] for r in rows])
    years = np.array([r["years"] for r in rows], dtype=float)
    mu = pm.Normal(f"{name}_mu", 0.0, 2.0)
    tau = pm.HalfNormal(f"{name}_tau", tau_scale)
    z = pm.Normal(f"{name}_z", 0.0, 1.0, shape=len(rows))
    pm.Binomial(f"{name}_y", n=at_risk, p=pm.math.exp(-pm.math.exp(mu + tau * z) * years), observed=still)
    z_new = pm.Normal(f"{name}_znew", 0.0, 1.0)
    pm.Deterministic(f"{name}_new", pm.math.exp(mu + tau * z_new))
    return {
        name: (
            f"{name}_new",
            "gamma",
            "hazard of losing insulin independence per responder-year, new study (MAP predictive)",
            {
                "initial": {"shape": 0.5, "rate": 0.0},
                "studies": [r["study"] for r in rows],
                "tau_scale": tau_scale,
                "time_unit": "years",
            },
        )
    }


def _phase12_models(pm, ev):
    out = {}
    out.update(
        beta_binomial(
            pm,
            ev,
            "insulin_independence",
            "insulin_independence",
            "insulin independence at 1 year (phase 1/2: 10 of 12)",
        )
    )
    out.update(
        beta_binomial(
            pm, ev, "part_c_composite", "part_c_composite", "Part C composite at 1 year (phase 1/2: 12 of 12)"
        )
    )
    for build in (hba1c_change, time_in_range, severe_hypoglycemia, c_peptide):
        out.update(build(pm, ev))
    return out


# Sensitivity of the MAP prior to the heterogeneity prior: tau ~ HalfNormal(scale) for these scales
# besides the default 1 (stored as map_responder_tau<scale> with "_" for ".", listed by `planner priors list`).
MAP_TAU_SCALES = (0.25, 0.5, 2.0)


def _map_at(scale: float) -> Callable:
    def map_sensitivity(pm, ev):
        return map_prior(pm, ev, tau_scale=scale, name=f"map_responder_tau{scale:g}".replace(".", "_"))

    map_sensitivity.__name__ = f"map_prior_tau{scale:g}".replace(".", "_")
    return map_sensitivity


MODELS: dict[str, Callable] = {
    "phase12": _phase12_models,
    "map": map_prior,
    "durability": durability_map,
    **{f"map_tau{scale:g}": _map_at(scale) for scale in MAP_TAU_SCALES},
}


# --- sampling and checks -----------------------------------------------------------------------


def fit_model(
    builder: Callable,
    ev: Evidence | None,
    *,
    seed: int,
    draws: int = 2000,
    tune: int = 500,
    chains: int = 4,
    check: bool = True,
    target_accept: float = 0.95,
    **kwargs,
):
    """Build one PyMC model, sample it with NUTS, check it; returns (InferenceData, specs, diagnostics)."""
    import arviz as az
    import pymc as pm

    with pm.Model():
        specs = builder(pm, ev, **kwargs)
        idata = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=1,
            random_seed=seed,
            progressbar=False,
            compute_convergence_checks=False,
            target_accept=target_accept,
        )
    free = [v for v in idata.posterior.data_vars]
    rhat = az.rhat(idata, var_names=free)
    ess_bulk = az.ess(idata, var_names=free, method="bulk")
    diagnostics = {
        "rhat_max": float(max(float(rhat[v].max()) for v in free)),
        "ess_bulk_min": float(min(float(ess_bulk[v].min()) for v in free)),
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "draws": draws,
        "chains": chains,
        "tune": tune,
    }
    if check:
        problems = []
        if not diagnostics["rhat_max"] < RHAT_MAX:
            problems.append(f"R-hat {diagnostics['rhat_max']:.4f} >= {RHAT_MAX}")
        if not diagnostics["ess_bulk_min"] > ESS_MIN:
            problems.append(f"bulk ESS {diagnostics['ess_bulk_min']:.0f} <= {ESS_MIN}")
        if diagnostics["divergences"]:
            problems.append(f"{diagnostics['divergences']} divergent transitions")
        if problems:
            raise PriorFitError(f"{builder.__name__}: " + "; ".join(problems))
    return idata, specs, diagnostics


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for pkg in ("pymc", "arviz", "pytensor", "numpy", "scipy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def ks_distance(mixture, reference, draws) -> float:
    """Largest distance between the mixture's distribution function and the reference's (a mixture, or the
    empirical distribution of ``draws`` when None), over the draws' quantiles: the approximation error."""
    from scipy import stats

    points = np.quantile(draws, np.linspace(0.0005, 0.9995, 2000))

    def cdf(mix):
        w = np.asarray(mix.weights)
        comps = mix.components()
        if mix.__class__.__name__ == "BetaMixture":
            parts = [stats.beta.cdf(points, a, b) for _, a, b in comps]
        elif mix.__class__.__name__ == "GammaMixture":
            parts = [stats.gamma.cdf(points, a, scale=1 / r) for _, a, r in comps]
        else:
            parts = [stats.norm.cdf(points, m, sd) for _, m, sd in comps]
        return np.asarray(parts).T @ w

    ref = (
        np.searchsorted(np.sort(draws), points, side="right") / len(draws)
        if reference is None
        else cdf(reference)
    )
    return float(np.max(np.abs(cdf(mixture) - ref)))


def _fit_and_store(model_name: str, ev: Evidence, out_dir: Path, seed: int, draws: int) -> tuple[dict, float]:
    """Fit one model, write its draws, and build the stored entry of each prior it yields."""
    t0 = time.perf_counter()
    builder = MODELS[model_name]
    idata, specs, diagnostics = fit_model(builder, ev, seed=seed, draws=draws)
    draws_file = f"posterior_{model_name}.nc"
    idata.posterior.to_netcdf(out_dir / draws_file)
    entries = {}
    for name, (var, family, description, extra) in specs.items():
        values = idata.posterior[var].values.ravel()
        fit = auto_fit(values, family)
        extra = dict(extra)
        ref_var = extra.pop("reference_sd_variable", None)
        if ref_var is not None:
            extra["reference_sd"] = float(idata.posterior[ref_var].values.mean())
        conjugate = extra.pop("conjugate", None)
        em = [list(c) for c in fit.mixture.components()]
        if conjugate is not None:
            # the posterior is known exactly: store it; the EM fit of the draws only checks the sampler
            stored = mixture_from_components(family, conjugate)
            approximation = {
                "method": "exact conjugate posterior",
                "em_components": em,
                "em_ks_distance_to_exact": ks_distance(fit.mixture, stored, values),
            }
        else:
            stored = fit.mixture
            approximation = {
                "method": f"EM mixture of {len(em)} component(s) fitted to the NUTS draws",
                "ks_distance_to_draws": ks_distance(fit.mixture, None, values),
            }
        entry = {
            "family": family,
            "components": [list(c) for c in stored.components()],
            "description": description,
            "parameter": var,
            "model": f"{model_name}:{builder.__name__}",
            "draws_file": draws_file,
            "draws_mean": float(values.mean()),
            "draws_sd": float(values.std()),
            "mixture_aic": fit.aic,
            "approximation": approximation,
            "diagnostics": diagnostics,
            **extra,
        }
        entry["ess"] = ess(stored, reference_sd=entry.get("reference_sd"))
        entries[name] = entry
    return entries, time.perf_counter() - t0


def fit_all(
    output: str | Path | None = None,
    *,
    seed: int = DEFAULT_SEED,
    evidence: str | Path | None = None,
    draws: int = 2000,
    workers: int = 2,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fit every model, store draws and mixture approximations in ``output`` (default priors/fitted).

    The models are independent and run in ``workers`` processes at once (each its own seed
    stream: the same result whatever ``workers`` is).
    """
    began = time.perf_counter()
    ev = Evidence.load(evidence)
    out_dir = Path(output) if output else priors_dir() / "fitted"
    out_dir.mkdir(parents=True, exist_ok=True)
    names = list(MODELS)
    if workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(
            min(workers, len(names)), mp_context=multiprocessing.get_context("fork")
        ) as pool:
            futures = [pool.submit(_fit_and_store, m, ev, out_dir, seed, draws) for m in names]
            outcomes = [f.result() for f in futures]
    else:
        outcomes = [_fit_and_store(m, ev, out_dir, seed, draws) for m in names]
    priors: dict[str, Any] = {}
    for entries, _ in outcomes:
        priors.update(entries)
    for name, entry in priors.items():
        log(
            f"{name}: {entry['family']} mixture with {len(entry['components'])} component(s), ESS {entry['ess']}"
        )
    metadata = {
        "evidence_sha256": ev.sha256,
        "seed": seed,
        "versions": _versions(),
        "fit_seconds": time.perf_counter() - began,
        "model_seconds": {m: seconds for m, (_, seconds) in zip(names, outcomes, strict=True)},
    }
    (out_dir / "priors.json").write_text(
        json.dumps(json_ready({"metadata": metadata, "priors": priors}), indent=2, allow_nan=False)
    )
    return {"metadata": metadata, "priors": priors}
