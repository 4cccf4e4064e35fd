"""Parametric mixture approximations of posterior draws, by the EM algorithm (numpy/scipy only).

As RBesT's ``automixfit``: fit mixtures of 1..K components of the conjugate family to
draws and keep the one with the best AIC. Beta components are fitted by weighted
maximum likelihood in the M-step (a two-dimensional Newton solve on the digamma
equations); Normal components in closed form; Gamma components by weighted ML.
Initialization is deterministic (quantile groups), so the same draws give the same fit.

References
----------
Dempster AP, Laird NM, Rubin DB. Maximum likelihood from incomplete data via the EM
algorithm. J R Stat Soc B 1977;39:1-38.
Weber S et al. Applying meta-analytic-predictive priors with the R Bayesian evidence
synthesis tools. J Stat Softw 2021;100(19) (automixfit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from planner.mixtures import BetaMixture, GammaMixture, NormalMixture

__all__ = ["MixtureFit", "fit_mixture", "auto_fit"]

_EPS = 1e-10


@dataclass(frozen=True)
class MixtureFit:
    mixture: BetaMixture | NormalMixture | GammaMixture
    log_likelihood: float
    aic: float
    iterations: int


def _component_logpdf(family: str, x: np.ndarray, p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """log density of each draw (rows) under each component (columns), from special functions."""
    x = x[:, None]
    if family == "beta":
        return special.xlogy(p1 - 1, x) + special.xlog1py(p2 - 1, -x) - special.betaln(p1, p2)
    if family == "normal":
        return -0.5 * ((x - p1) / p2) ** 2 - np.log(p2) - 0.5 * np.log(2 * np.pi)
    return special.xlogy(p1 - 1, x) - p2 * x + p1 * np.log(p2) - special.gammaln(p1)


def _weighted_beta_mle(x: np.ndarray, r: np.ndarray, start: tuple[float, float]) -> tuple[float, float]:
    s1 = np.sum(r * np.log(x)) / r.sum()
    s2 = np.sum(r * np.log1p(-x)) / r.sum()

    def equations(log_ab):
        a, b = np.exp(log_ab)
        return [
            special.digamma(a) - special.digamma(a + b) - s1,
            special.digamma(b) - special.digamma(a + b) - s2,
        ]

    sol = optimize.root(equations, np.log(start), method="hybr")
    a, b = np.exp(sol.x)
    return float(a), float(b)


def _weighted_gamma_mle(x: np.ndarray, r: np.ndarray) -> tuple[float, float]:
    mean = np.sum(r * x) / r.sum()
    mean_log = np.sum(r * np.log(x)) / r.sum()
    s = np.log(mean) - mean_log  # > 0 by Jensen
    shape = optimize.brentq(lambda a: np.log(a) - special.digamma(a) - s, 1e-6, 1e8)
    return float(shape), float(shape / mean)


def _moments_start(family: str, x: np.ndarray) -> tuple[float, float]:
    m, v = float(x.mean()), float(x.var()) + _EPS
    if family == "beta":
        c = max(m * (1 - m) / v - 1.0, 0.1)
        return m * c, (1 - m) * c
    if family == "normal":
        return m, np.sqrt(v)
    return m * m / v, m / v


def fit_mixture(draws, family: str, k: int, *, max_iter: int = 300, tol: float = 1e-8) -> MixtureFit:
    """EM fit of a k-component mixture of ``family`` ("beta", "normal", "gamma") to ``draws``."""
    x = np.asarray(draws, dtype=float).ravel()
    if family == "beta":
        x = np.clip(x, _EPS, 1 - _EPS)
    elif family == "gamma":
        x = np.maximum(x, _EPS)
    order = np.argsort(x)
    groups = np.array_split(order, k)
    w = np.array([g.size / x.size for g in groups])
    params = np.array([_moments_start(family, x[g]) for g in groups])
    previous = -np.inf
    for it in range(1, max_iter + 1):  # noqa: B007 - `it` is reported
        log_p = np.log(w) + _component_logpdf(family, x, params[:, 0], params[:, 1])
        norm = special.logsumexp(log_p, axis=1)
        ll = float(norm.sum())
        r = np.exp(log_p - norm[:, None])
        w = np.maximum(r.mean(axis=0), _EPS)
        w /= w.sum()
        for j in range(k):
            rj = r[:, j]
            if family == "normal":
                mean = np.sum(rj * x) / rj.sum()
                sd = np.sqrt(np.sum(rj * (x - mean) ** 2) / rj.sum()) + _EPS
                params[j] = (mean, sd)
            elif family == "beta":
                params[j] = _weighted_beta_mle(x, rj, tuple(params[j]))
            else:
                params[j] = _weighted_gamma_mle(x, rj)
        if abs(ll - previous) < tol * max(1.0, abs(ll)):
            break
        previous = ll
    log_p = np.log(w) + _component_logpdf(family, x, params[:, 0], params[:, 1])
    ll = float(special.logsumexp(log_p, axis=1).sum())
    order = np.argsort(-w)
    cls = {"beta": BetaMixture, "normal": NormalMixture, "gamma": GammaMixture}[family]
    mix = cls(
        tuple(float(v) for v in w[order]),
        tuple(float(v) for v in params[order, 0]),
        tuple(float(v) for v in params[order, 1]),
    )
    return MixtureFit(mix, ll, 2 * (3 * k - 1) - 2 * ll, it)


def auto_fit(draws, family: str, max_components: int = 3, max_draws: int = 4000) -> MixtureFit:
    """The mixture with 1..max_components components that has the lowest AIC.

    At most ``max_draws`` evenly spaced draws are used (MCMC draws are autocorrelated,
    so thinning loses little), which bounds the EM's cost.
    """
    draws = np.asarray(draws, dtype=float).ravel()
    if draws.size > max_draws:
        draws = draws[np.linspace(0, draws.size - 1, max_draws).round().astype(int)]
    fits = [fit_mixture(draws, family, k) for k in range(1, max_components + 1)]
    return min(fits, key=lambda f: f.aic)
