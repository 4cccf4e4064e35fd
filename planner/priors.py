"""Priors for the planner: stored fitted artifacts, discounting, effective sample size, prior-data conflict.

numpy/scipy only: the PyMC models that produce the artifacts live in
:mod:`planner.fitting` and run only through ``planner priors fit``. The planner and
the app read ``priors/fitted/priors.json`` (parametric mixture approximations of the
posterior draws stored beside it as NetCDF).

References
----------
Ibrahim JG, Chen M-H. Power prior distributions for regression models. Stat Sci 2000;15:46-60.
Schmidli H et al. Robust meta-analytic-predictive priors in clinical trials with historical
control information. Biometrics 2014;70:1023-32.
Morita S, Thall PF, Mueller P. Determining the effective sample size of a parametric prior.
Biometrics 2008;64:595-602. Neuenschwander B et al. Predictively consistent prior effective sample
sizes. Biometrics 2020;76:578-87 (ESS: :mod:`planner.ess`).
Box GEP. Sampling and Bayes' inference in scientific modelling and robustness.
J R Stat Soc A 1980;143:383-430.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from planner.artifacts import FittedArtifact, Mixture, fitted_prior_names, load_fitted
from planner.design import BetaPrior, FittedPrior, GammaPrior, NormalPrior, PointMass
from planner.errors import DesignError
from planner.mixtures import BetaMixture, GammaMixture, NormalMixture

__all__ = [
    "resolve",
    "analysis_mixture",
    "power_prior",
    "robustify",
    "ess",
    "describe",
    "design_priors",
    "prior_roles",
    "resolve_role",
    "box_p_value_binary",
    "box_p_value_normal",
    "Point",
    "ess_text",
]


@dataclass(frozen=True)
class Point:
    """A point mass: a truth taken as known."""

    value: float

    def mean(self) -> float:
        return self.value

    def var(self) -> float:
        return 0.0

    def sample(self, pick: np.random.Generator, draw: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value)


# --- discounting ---------------------------------------------------------------------------


def power_prior(artifact: FittedArtifact, a0: float) -> Mixture:
    """Discount the evidence behind a fitted prior by the power-prior weight ``a0`` in (0, 1].

    Each conjugate component moves back toward the initial vague prior:
    Beta(a, b) -> Beta(a_i + a0 (a - a_i), b_i + a0 (b - b_i)); Gamma likewise;
    Normal(m, s) -> Normal(m, s / sqrt(a0)) (flat initial prior). This is the power
    prior exactly for a one-component conjugate posterior, and a component-wise
    approximation for mixtures (e.g. MAP priors).
    """
    if not 0.0 < a0 <= 1.0:
        raise DesignError(f"a0: must lie in (0, 1], got {a0}")
    mix = artifact.mixture
    if a0 == 1.0:
        return mix
    if isinstance(mix, NormalMixture):
        return NormalMixture(mix.weights, mix.means, tuple(s / np.sqrt(a0) for s in mix.sds))
    if isinstance(mix, BetaMixture):
        ai, bi = artifact.initial.get("a", 1.0), artifact.initial.get("b", 1.0)
        return BetaMixture(
            mix.weights, tuple(ai + a0 * (a - ai) for a in mix.a), tuple(bi + a0 * (b - bi) for b in mix.b)
        )
    si, ri = artifact.initial.get("shape", 0.5), artifact.initial.get("rate", 0.0)
    return GammaMixture(
        mix.weights, tuple(si + a0 * (s - si) for s in mix.shape), tuple(ri + a0 * (r - ri) for r in mix.rate)
    )


def robustify(mix: Mixture, weight: float, *, reference_sd: float | None = None) -> Mixture:
    """Add a vague component with ``weight`` (Schmidli et al. 2014).

    Beta: Beta(1, 1). Normal: unit-information N(prior mean, reference_sd^2). Gamma: an
    exponential with the prior mean (one unit of exposure of information).
    """
    if not 0.0 <= weight < 1.0:
        raise DesignError(f"robust_weight: must lie in [0, 1), got {weight}")
    if weight == 0.0:
        return mix
    keep = tuple((1.0 - weight) * w for w in mix.weights)
    if isinstance(mix, BetaMixture):
        return BetaMixture(keep + (weight,), mix.a + (1.0,), mix.b + (1.0,))
    if isinstance(mix, NormalMixture):
        if reference_sd is None:
            raise DesignError("robust_weight: a Normal prior needs a reference sd for its vague component")
        return NormalMixture(keep + (weight,), mix.means + (mix.mean(),), mix.sds + (float(reference_sd),))
    return GammaMixture(keep + (weight,), mix.shape + (1.0,), mix.rate + (1.0 / mix.mean(),))


def resolve(spec, *, reference_sd: float | None = None) -> Mixture | Point:
    """A prior as stated in a design (explicit, fitted and discounted, or a point) -> a mixture object."""
    if isinstance(spec, PointMass):
        return Point(spec.value)
    if isinstance(spec, BetaPrior):
        return BetaMixture(*zip(*((c.weight, c.a, c.b) for c in spec.components), strict=True))
    if isinstance(spec, NormalPrior):
        return NormalMixture(*zip(*((c.weight, c.mean, c.sd) for c in spec.components), strict=True))
    if isinstance(spec, GammaPrior):
        return GammaMixture(*zip(*((c.weight, c.shape, c.rate) for c in spec.components), strict=True))
    if isinstance(spec, FittedPrior):
        artifact = load_fitted().get(spec.name)
        if artifact is None:
            raise DesignError(
                f"prior: no fitted prior {spec.name!r}; choose one of {', '.join(fitted_prior_names())}"
            )
        mix = power_prior(artifact, spec.a0)
        return robustify(mix, spec.robust_weight, reference_sd=artifact.reference_sd or reference_sd)
    raise TypeError(f"not a prior: {spec!r}")


YEARS_PER = {"days": 1.0 / 365.25, "weeks": 7.0 / 365.25, "months": 1.0 / 12.0, "years": 1.0}


def hazard_prior(spec, time_unit: str) -> GammaMixture:
    """A Gamma (mixture) prior on a hazard per ``time_unit``: an explicit prior is in the design's unit; a
    fitted one stored per year (``time_unit`` in its record) is rescaled, lambda_unit = lambda_year x years per
    unit, i.e. each Gamma rate divided by the years per unit."""
    mix = resolve(spec)
    stored = load_fitted()[spec.name].info.get("time_unit") if isinstance(spec, FittedPrior) else None
    if stored is None or stored == time_unit:
        return mix
    factor = YEARS_PER[time_unit] / YEARS_PER[stored]
    return GammaMixture(mix.weights, mix.shape, tuple(r / factor for r in mix.rate))


def analysis_mixture(spec, family: str, *, reference_sd: float | None = None) -> BetaMixture | NormalMixture:
    """The analysis prior as a mixture; ``None`` means uniform Beta(1, 1) or the flat Normal prior."""
    if spec is None:
        return BetaMixture((1.0,), (1.0,), (1.0,)) if family == "beta" else NormalMixture()
    return resolve(spec, reference_sd=reference_sd)


# --- effective sample size -------------------------------------------------------------------


def ess(mix: Mixture, *, reference_sd: float | None = None) -> dict[str, float]:
    """Moment, Morita and ELIR effective sample sizes of a prior (:mod:`planner.ess`).

    Units: participants (binary; normal with ``reference_sd`` = one participant's sd) or units of
    exposure (Gamma prior on a Poisson rate). Beta(a, b) gives a + b by every method.
    """
    from planner.ess import effective_sample_sizes

    if isinstance(mix, NormalMixture) and reference_sd is None:
        raise DesignError("reference_sd: the ESS of a Normal prior needs the sd of one participant's outcome")
    return effective_sample_sizes(mix, reference_sd=reference_sd)


ESS_METHODS = (("elir", "ELIR"), ("morita", "Morita"), ("moment", "moment"))


def ess_text(values: dict | None, unit: str | None = None) -> str:
    """'ESS 14.0 (ELIR) / 14.0 (Morita) / 14.0 (moment)'; 'undefined' where a method does not apply; a unit
    other than participants (a hazard prior's follow-up time) after a semicolon."""
    if not values:
        return "ESS not available"
    if unit:
        return f"{ess_text(values)}; {unit}"

    def one(v):
        return "undefined" if v is None or not np.isfinite(v) else ("infinite" if np.isinf(v) else f"{v:.1f}")

    return "ESS " + " / ".join(
        f"{one(values.get(key))} ({label})" for key, label in ESS_METHODS if key in values
    )


def describe(spec, *, reference_sd: float | None = None, time_unit: str | None = None) -> dict[str, Any]:
    """Mean, sd and effective sample sizes of a prior as stated in a design (for reports and the CLI); a hazard
    prior of a time-to-event design (``time_unit`` given) per that unit, its ESS in units of follow-up."""
    prior = resolve_role(spec, time_unit, reference_sd=reference_sd)
    out: dict[str, Any] = {
        "family": spec.family,
        "mean": float(prior.mean()),
        "sd": float(np.sqrt(prior.var())),
    }
    if isinstance(prior, Point):
        out["ess"] = {"moment": float("inf"), "morita": float("inf"), "elir": float("inf")}
        return out
    if isinstance(prior, NormalMixture) and reference_sd is None:
        return out
    out["ess"] = ess(prior, reference_sd=reference_sd)
    if time_unit:
        out["ess_unit"] = f"{time_unit} of follow-up"
    return out


def prior_roles(design) -> dict[str, tuple[Any, str | None]]:
    """Every prior a design states -- analysis and design priors -- by role: (spec, time unit of a hazard
    prior or None). The one list the CLI, the report and the charts read."""
    an, ep = design.analysis, design.endpoint
    survival = ep.kind == "time-to-event"
    unit = ep.time_unit if survival else None
    roles: dict[str, tuple[Any, str | None]] = {}
    if design.rule_info.bayesian:
        if an.prior is not None:
            role = (
                "analysis prior (treatment)"
                if ep.kind == "binary" and design.randomized
                else "analysis prior"
            )
            roles[role] = (an.prior, unit)
        if an.control_prior is not None:
            roles["analysis prior (control)"] = (an.control_prior, None)
    dp = design.design_prior
    if dp is not None:
        parts = (
            ("treatment", "treatment hazard" if survival else "treatment", unit),
            ("control", "control hazard" if survival else "control", unit),
            ("log_hazard_ratio", "log hazard ratio", None),
            ("durable", "durable fraction", None),
            ("responders", "probability of responding", None),
        )
        for field, label, part_unit in parts:
            spec = getattr(dp, field)
            if spec is not None:
                roles[f"design prior ({label})"] = (spec, part_unit)
    return roles


def resolve_role(spec, time_unit: str | None, *, reference_sd: float | None = None):
    """A prior of :func:`prior_roles` as a mixture (a hazard prior per its design's time unit)."""
    if time_unit and spec.family != "point":
        return hazard_prior(spec, time_unit)
    return resolve(spec, reference_sd=reference_sd)


def design_priors(design) -> dict[str, dict[str, Any]]:
    """Every prior a design states, described (mean, sd, effective sample sizes), by role."""
    ref = getattr(design.endpoint, "sd", None)
    return {
        role: describe(spec, reference_sd=ref, time_unit=unit)
        for role, (spec, unit) in prior_roles(design).items()
    }


# --- prior-data conflict --------------------------------------------------------------------


def box_p_value_binary(prior: BetaMixture, x: int, n: int) -> float:
    """Box's prior-predictive p-value of observing x responders of n: P(f(Y) <= f(x)), Y ~ prior predictive.

    The prior predictive of a Beta mixture is a mixture of beta-binomials. Small values mean conflict.
    """
    y = np.arange(n + 1)
    w, a, b = prior._arrays()
    pmf = np.sum(
        w
        * np.exp(
            special.gammaln(n + 1)
            - special.gammaln(y + 1)[:, None]
            - special.gammaln(n - y + 1)[:, None]
            + special.betaln(a + y[:, None], b + n - y[:, None])
            - special.betaln(a, b)
        ),
        axis=1,
    )
    return float(np.sum(pmf[pmf <= pmf[x] * (1 + 1e-12)]))


def box_p_value_normal(prior: NormalMixture, estimate: float, se: float) -> float:
    """Box's p-value for an estimate ~ N(theta, se^2): prior-predictive probability of a density at most
    that of the observed estimate (numerically, on a fine grid of the predictive)."""
    w, m, s = prior._arrays()
    sd = np.sqrt(s**2 + se**2)
    lo, hi = float(np.min(m - 12 * sd)), float(np.max(m + 12 * sd))
    grid = np.linspace(min(lo, estimate), max(hi, estimate), 200_001)
    dens = np.sum(w * stats.norm.pdf(grid[:, None], m, sd), axis=1)
    f_obs = float(np.sum(w * stats.norm.pdf(estimate, m, sd)))
    step = grid[1] - grid[0]
    return float(np.clip(np.sum(dens[dens <= f_obs]) * step, 0.0, 1.0))
