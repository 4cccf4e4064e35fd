"""Effective sample size (ESS) of Beta, Normal and Gamma mixture priors: moment, Morita and ELIR.

Units: participants (Beta prior of a response rate; Normal prior of a mean with ``reference_sd``, the
sd of one participant's outcome) or units of exposure (Gamma prior of a Poisson rate). With the prior
information I(t) = -d^2/dt^2 log pi(t) and the Fisher information i(t) of one observation
(Bernoulli 1 / (t (1 - t)), Normal 1 / sd^2, Poisson 1 / t):

* **moment**: the ESS of the conjugate prior with the same mean and variance: m (1 - m) / v - 1 (Beta),
  sd^2 / v (Normal), m / v (Gamma). Conservative for mixtures.
* **Morita** (Morita, Thall and Mueller 2008), evaluated at the prior mode t as RBesT does, in the closed
  form of Neuenschwander et al. (2020, eq. 9): ESS = (I(t) - I_0(t)) / E[i_1(t)], where E[i_1(t)] is the
  expected information of one observation under the prior predictive (for a Beta prior with mean mu:
  mu / t^2 + (1 - mu) / (1 - t)^2) and I_0 the information of the epsilon-information prior, scaled by
  ``s`` (Beta(t / s, (1 - t) / s); Normal with variance s max sd_k^2; Gamma(t / s, 1 / s)). The limit
  s -> infinity (default) gives exactly a + b for Beta(a, b), sd^2 / s_0^2 for Normal(m, s_0) and b for
  Gamma(a, b); RBesT uses s = 100.
* **ELIR** (expected local information ratio, Neuenschwander et al. 2020): ESS = E_pi[I(theta) / i(theta)],
  the only predictively consistent one. Defined for Beta components with a, b >= 1 (as RBesT) and Gamma
  components with shape > 1 (otherwise the integral diverges: NaN).

References
----------
Morita S, Thall PF, Mueller P. Determining the effective sample size of a parametric prior.
Biometrics 2008;64:595-602.
Neuenschwander B, Weber S, Schmidli H, O'Hagan A. Predictively consistent prior effective sample sizes.
Biometrics 2020;76:578-87.
RBesT (R package), ``ess()``: documented values used in tests/test_ess.py.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import integrate, optimize, special, stats

from planner.mixtures import BetaMixture, GammaMixture, NormalMixture

__all__ = [
    "prior_information",
    "prior_mode",
    "ess_moment",
    "ess_morita",
    "ess_elir",
    "effective_sample_sizes",
]

Mixture = BetaMixture | NormalMixture | GammaMixture


def _component_terms(mix: Mixture, t: np.ndarray):
    """Per component: log density, d/dt log f (g) and d^2/dt^2 log f (h) at points t (shape t.shape + (K,))."""
    t = np.asarray(t, dtype=float)[..., None]
    if isinstance(mix, BetaMixture):
        a, b = np.asarray(mix.a), np.asarray(mix.b)
        logf = special.xlogy(a - 1, t) + special.xlog1py(b - 1, -t) - special.betaln(a, b)
        g = (a - 1) / t - (b - 1) / (1 - t)
        h = -(a - 1) / t**2 - (b - 1) / (1 - t) ** 2
    elif isinstance(mix, NormalMixture):
        m, s = np.asarray(mix.means), np.asarray(mix.sds)
        logf = stats.norm.logpdf(t, m, s)
        g = -(t - m) / s**2
        h = np.broadcast_to(-1.0 / s**2, logf.shape)
    else:
        a, r = np.asarray(mix.shape), np.asarray(mix.rate)
        logf = stats.gamma.logpdf(t, a, scale=1.0 / r)
        g = (a - 1) / t - r
        h = -(a - 1) / t**2
    return logf, g, h


def prior_information(mix: Mixture, t) -> np.ndarray:
    """I(t) = -d^2/dt^2 log pi(t) of a mixture density: with the components' responsibilities r_k(t),
    I = (sum r_k g_k)^2 - sum r_k (g_k^2 + h_k), g and h the derivatives of log f_k (stable in log space)."""
    logf, g, h = _component_terms(mix, t)
    logw = np.log(np.asarray(mix.weights)) + logf
    r = np.exp(logw - special.logsumexp(logw, axis=-1, keepdims=True))
    return np.sum(r * g, axis=-1) ** 2 - np.sum(r * (g**2 + h), axis=-1)


def prior_mode(mix: Mixture) -> float:
    """The highest mode of a mixture density: a fine grid, then bounded refinement."""
    mean, sd = mix.mean(), np.sqrt(mix.var())
    if isinstance(mix, BetaMixture):
        lo, hi = 1e-9, 1 - 1e-9
    elif isinstance(mix, NormalMixture):
        lo, hi = min(mix.means) - 6 * max(mix.sds), max(mix.means) + 6 * max(mix.sds)
    else:
        lo, hi = 1e-9, mean + 12 * sd
    grid = np.linspace(lo, hi, 20001)
    dens = mix.pdf(grid)
    i = int(np.argmax(dens))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    res = optimize.minimize_scalar(
        lambda x: -float(mix.pdf(x)), bounds=(a, b), method="bounded", options={"xatol": 1e-13}
    )
    return float(res.x)


def ess_moment(mix: Mixture, *, reference_sd: float | None = None) -> float:
    mean, var = mix.mean(), mix.var()
    if isinstance(mix, BetaMixture):
        return float(mean * (1 - mean) / var - 1.0)
    if isinstance(mix, NormalMixture):
        return float(_sd(reference_sd) ** 2 / var)
    return float(mean / var)


def _sd(reference_sd: float | None) -> float:
    if reference_sd is None or not reference_sd > 0:
        raise ValueError("reference_sd: the ESS of a Normal prior needs the sd of one participant's outcome")
    return float(reference_sd)


def ess_morita(mix: Mixture, *, reference_sd: float | None = None, s: float = np.inf) -> float:
    """Morita ESS at the prior mode (closed form of Neuenschwander et al. 2020, eq. 9); NaN when the
    mode lies on the boundary of the parameter space (e.g. a Beta with a <= 1), where it is undefined."""
    t = prior_mode(mix)
    info = float(prior_information(mix, t))
    if isinstance(mix, BetaMixture):
        if not 1e-6 < t < 1 - 1e-6:
            return float("nan")
        a0, b0 = t / s, (1 - t) / s
        info0 = (a0 - 1) / t**2 + (b0 - 1) / (1 - t) ** 2
        mu = mix.mean()
        expected = mu / t**2 + (1 - mu) / (1 - t) ** 2
        return float((info - info0) / expected)
    if isinstance(mix, NormalMixture):
        info0 = 1.0 / (s * max(mix.sds) ** 2)
        return float((info - info0) * _sd(reference_sd) ** 2)
    if not t > 1e-6 * mix.mean():
        return float("nan")
    info0 = (t / s - 1.0) / t**2
    expected = mix.mean() / t**2  # E[Y1] / t^2 with Y1 ~ the prior predictive of one unit of exposure
    return float((info - info0) / expected)


def ess_elir(mix: Mixture, *, reference_sd: float | None = None) -> float:
    """Expected local information ratio: E_prior[I(theta) / i(theta)] by adaptive quadrature."""
    if isinstance(mix, BetaMixture):
        if min(mix.a) < 1 or min(mix.b) < 1:
            return float("nan")  # the defining integral diverges

        # near 0 the integrand behaves as t^(a - 2), near 1 as (1 - t)^(b - 2) (a, b of the components with
        # the parameter above 1): integrate those endpoint powers out exactly (QUADPACK's algebraic weight)
        lo = min([a - 2.0 for a in mix.a if a > 1.0] or [0.0])
        hi = min([b - 2.0 for b in mix.b if b > 1.0] or [0.0])
        lo, hi = max(lo, -0.999), max(hi, -0.999)
        log_w = np.log(np.asarray(mix.weights))

        def smooth(t):  # the integrand over t^lo (1 - t)^hi, in logs (no underflow far from the mode)
            t = min(max(t, 1e-13), 1 - 1e-13)  # QUADPACK may evaluate at the end points
            logf, _, _ = _component_terms(mix, t)
            log_pdf = special.logsumexp(log_w + logf)
            scale = np.exp(log_pdf + (1 - lo) * np.log(t) + (1 - hi) * np.log1p(-t))
            return float(scale * prior_information(mix, t))

        total = integrate.quad(smooth, 0.0, 1.0, weight="alg", wvar=(lo, hi), limit=200)[0]
        return float(total)
    if isinstance(mix, NormalMixture):
        lo = min(m - 14 * s for m, s in zip(mix.means, mix.sds, strict=True))
        hi = max(m + 14 * s for m, s in zip(mix.means, mix.sds, strict=True))
        points = sorted(mix.means)
        value = integrate.quad(
            lambda t: float(mix.pdf(t) * prior_information(mix, t)),
            lo,
            hi,
            points=points,
            limit=200,
            epsabs=1e-12,
            epsrel=1e-10,
        )[0]
        return float(value * _sd(reference_sd) ** 2)
    if min(mix.shape) <= 1:
        return float("nan")  # E[1 / theta] diverges for a component with shape <= 1: the integral diverges
    hi = max(stats.gamma.isf(1e-14, a, scale=1 / r) for a, r in zip(mix.shape, mix.rate, strict=True))
    points = sorted(a / r for a, r in zip(mix.shape, mix.rate, strict=True))
    value = integrate.quad(
        lambda t: float(mix.pdf(t) * prior_information(mix, t) * t),
        0.0,
        hi,
        points=points,
        limit=200,
        epsabs=1e-12,
        epsrel=1e-10,
    )[0]
    return float(value)


def effective_sample_sizes(mix: Mixture, *, reference_sd: float | None = None) -> dict[str, float]:
    """Moment, Morita (s -> infinity) and ELIR ESS of a mixture prior."""
    return dict(_effective_sample_sizes(mix, reference_sd))


@lru_cache(maxsize=256)
def _effective_sample_sizes(mix: Mixture, reference_sd: float | None) -> tuple[tuple[str, float], ...]:
    # mixtures are frozen dataclasses of tuples: a prior's ESS is computed once (the app and the curves ask
    # for it at every evaluation, and ELIR is a numerical integral)
    return (
        ("moment", ess_moment(mix, reference_sd=reference_sd)),
        ("morita", ess_morita(mix, reference_sd=reference_sd)),
        ("elir", ess_elir(mix, reference_sd=reference_sd)),
    )
