"""Conjugate mixture priors and their closed-form posteriors (numpy/scipy only).

A mixture of conjugate components stays a mixture after the update; only the
component weights change, in proportion to each component's marginal likelihood.
These are the formulas used inside every simulated trial: no MCMC.

References
----------
Schmidli H, Gsteiger S, Roychoudhury S, O'Hagan A, Spiegelhalter D, Neuenschwander B.
Robust meta-analytic-predictive priors in clinical trials with historical control
information. Biometrics 2014;70:1023-32 (mixture updates, as in RBesT).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import special

__all__ = [
    "BetaMixture",
    "NormalMixture",
    "GammaMixture",
    "prob_greater",
    "quadrature_01",
    "student_t_posterior_sf",
]


def _pick_components(weights: tuple[float, ...], rng: np.random.Generator, size: int) -> np.ndarray:
    """Component index of each of ``size`` draws (inverse CDF of one uniform each)."""
    cum = np.cumsum(weights)
    return np.minimum(np.searchsorted(cum / cum[-1], rng.random(size), side="right"), len(weights) - 1)


@dataclass(frozen=True)
class BetaMixture:
    """Mixture of Beta(a_k, b_k) with weights w_k, for a response probability."""

    weights: tuple[float, ...]
    a: tuple[float, ...]
    b: tuple[float, ...]

    def _arrays(self):
        return np.asarray(self.weights), np.asarray(self.a), np.asarray(self.b)

    def components(self) -> list[tuple[float, float, float]]:
        """(weight, a, b) per component."""
        return list(zip(self.weights, self.a, self.b, strict=True))

    def mean(self) -> float:
        w, a, b = self._arrays()
        return float(np.sum(w * a / (a + b)))

    def var(self) -> float:
        w, a, b = self._arrays()
        m = a / (a + b)
        second = m * (a + 1) / (a + b + 1)
        return float(np.sum(w * second) - self.mean() ** 2)

    def pdf(self, t) -> np.ndarray:
        w, a, b = self._arrays()
        t = np.asarray(t, dtype=float)[..., None]
        return np.sum(
            w * np.exp(special.xlogy(a - 1, t) + special.xlog1py(b - 1, -t) - special.betaln(a, b)), axis=-1
        )

    def sample(self, pick: np.random.Generator, draw: np.random.Generator, size: int) -> np.ndarray:
        """Draws from the mixture: ``pick`` chooses components, ``draw`` the values (separate streams
        keep the values of draw i independent of how the draws are split into calls)."""
        _, a, b = self._arrays()
        k = _pick_components(self.weights, pick, size)
        return draw.beta(a[k], b[k])

    def posterior_weights(self, x, m) -> np.ndarray:
        """Posterior component weights after ``x`` responders of ``m``; shape ``x.shape + (K,)``."""
        w, a, b = self._arrays()
        x = np.asarray(x, dtype=float)[..., None]
        m = np.asarray(m, dtype=float)[..., None]
        log_w = np.log(w) + special.betaln(a + x, b + m - x) - special.betaln(a, b)
        log_w -= log_w.max(axis=-1, keepdims=True)
        post = np.exp(log_w)
        return post / post.sum(axis=-1, keepdims=True)

    def posterior_sf(self, threshold: float, x, m) -> np.ndarray:
        """P(p > threshold | x responders of m), vectorized over x and m."""
        _, a, b = self._arrays()
        wpost = self.posterior_weights(x, m)
        x = np.asarray(x, dtype=float)[..., None]
        m = np.asarray(m, dtype=float)[..., None]
        # betaincc(a, b, t) = P(Beta(a, b) > t)
        return np.sum(wpost * special.betaincc(a + x, b + m - x, threshold), axis=-1)

    def posterior_pdf(self, grid: np.ndarray, x, m) -> np.ndarray:
        """Posterior density on ``grid`` for each x; shape ``x.shape + grid.shape``."""
        _, a, b = self._arrays()
        wpost = self.posterior_weights(x, m)[..., None]  # (..., K, 1)
        x = np.asarray(x, dtype=float)[..., None, None]
        m = np.asarray(m, dtype=float)[..., None, None]
        aa, bb = a[:, None] + x, b[:, None] + m - x
        log_pdf = special.xlogy(aa - 1, grid) + special.xlog1py(bb - 1, -grid) - special.betaln(aa, bb)
        return np.sum(wpost * np.exp(log_pdf), axis=-2)

    def posterior_cdf(self, grid: np.ndarray, x, m) -> np.ndarray:
        """Posterior distribution function on ``grid`` for each x; shape ``x.shape + grid.shape``."""
        _, a, b = self._arrays()
        wpost = self.posterior_weights(x, m)[..., None]
        x = np.asarray(x, dtype=float)[..., None, None]
        m = np.asarray(m, dtype=float)[..., None, None]
        return np.sum(wpost * special.betainc(a[:, None] + x, b[:, None] + m - x, grid), axis=-2)


@cache
def quadrature_01(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes on [0, 1] after t = (1 - cos(pi u)) / 2.

    The substitution clusters nodes at 0 and 1 and removes the integrable
    t^(-1/2)-type endpoint singularities of Beta densities with a < 1.
    """
    u, wu = np.polynomial.legendre.leggauss(n_nodes)
    u = 0.5 * (u + 1.0)
    wu = 0.5 * wu
    t = 0.5 * (1.0 - np.cos(np.pi * u))
    wt = wu * 0.5 * np.pi * np.sin(np.pi * u)
    return t, wt


def prob_greater(
    first: BetaMixture,
    x1,
    m1: int,
    second: BetaMixture,
    x2,
    m2: int,
    n_nodes: int | None = None,
    margin: float = 0.0,
) -> np.ndarray:
    """P(p1 - p2 > margin | data) for independent Beta-mixture posteriors, as a table over x1 (rows) and x2
    (columns).

    Computed as the integral of f1(t) F2(t - margin) dt by Gauss-Legendre quadrature
    (see :func:`quadrature_01`), F2 = 0 below 0 and 1 above 1. The default number of nodes grows with the
    square root of the arm size, keeping several nodes per posterior standard deviation; with a margin the
    integrand has a kink where t - margin leaves [0, 1], so the interval is split there.
    """
    if n_nodes is None:
        n_nodes = int(min(4000, 200 + 40 * np.ceil(np.sqrt(max(m1, m2, 1)))))
    kink = margin if margin > 0.0 else 1.0 + margin  # where t - margin reaches 0 (or 1)
    pieces = [(0.0, 1.0)] if margin == 0.0 else [(0.0, kink), (kink, 1.0)]
    total = 0.0
    for lo, hi in pieces:
        u, wu = quadrature_01(n_nodes)
        t, wt = lo + (hi - lo) * u, (hi - lo) * wu
        f1 = first.posterior_pdf(t, np.atleast_1d(x1), m1) * wt  # (len x1, J)
        cdf2 = second.posterior_cdf(np.clip(t - margin, 0.0, 1.0), np.atleast_1d(x2), m2)  # (len x2, J)
        total = total + f1 @ cdf2.T
    return np.clip(total, 0.0, 1.0)


@dataclass(frozen=True)
class NormalMixture:
    """Mixture of Normal(mean_k, sd_k^2), or the flat (improper) prior when ``flat``."""

    weights: tuple[float, ...] = ()
    means: tuple[float, ...] = ()
    sds: tuple[float, ...] = ()

    @property
    def flat(self) -> bool:
        return not self.weights

    def _arrays(self):
        return np.asarray(self.weights), np.asarray(self.means), np.asarray(self.sds)

    def components(self) -> list[tuple[float, float, float]]:
        """(weight, mean, sd) per component."""
        return list(zip(self.weights, self.means, self.sds, strict=True))

    def mean(self) -> float:
        w, m, _ = self._arrays()
        return float(np.sum(w * m))

    def var(self) -> float:
        w, m, s = self._arrays()
        return float(np.sum(w * (s**2 + m**2)) - self.mean() ** 2)

    def pdf(self, t) -> np.ndarray:
        w, m, s = self._arrays()
        t = np.asarray(t, dtype=float)[..., None]
        return np.sum(w * np.exp(-0.5 * ((t - m) / s) ** 2) / (s * np.sqrt(2 * np.pi)), axis=-1)

    def sample(self, pick: np.random.Generator, draw: np.random.Generator, size: int) -> np.ndarray:
        _, m, s = self._arrays()
        k = _pick_components(self.weights, pick, size)
        return m[k] + s[k] * draw.standard_normal(size)

    def negated(self) -> NormalMixture:
        """The prior of -theta (used when lower values are better)."""
        return NormalMixture(self.weights, tuple(-m for m in self.means), self.sds)

    def _posterior_arrays(self, estimate, se) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The posterior given estimate ~ N(theta, se^2) per estimate: weights, means and variances of its
        components (last axis), vectorized over estimate and se; a flat prior gives N(estimate, se^2)."""
        estimate = np.asarray(estimate, dtype=float)
        se = np.asarray(se, dtype=float)
        if self.flat:
            shape = np.broadcast(estimate, se).shape + (1,)
            return (
                np.ones(shape),
                np.broadcast_to(estimate[..., None], shape),
                np.broadcast_to((se**2)[..., None], shape),
            )
        w, mu, sd = (np.asarray(v) for v in (self.weights, self.means, self.sds))
        est, s2 = estimate[..., None], (se**2)[..., None]
        marginal_var = sd**2 + s2
        log_w = np.log(w) - 0.5 * np.log(marginal_var) - 0.5 * (est - mu) ** 2 / marginal_var
        log_w -= log_w.max(axis=-1, keepdims=True)
        wpost = np.exp(log_w)
        wpost /= wpost.sum(axis=-1, keepdims=True)
        post_var = 1.0 / (1.0 / sd**2 + 1.0 / s2)
        post_mean = post_var * (mu / sd**2 + est / s2)
        return wpost, post_mean, post_var

    def posterior(self, estimate: float, se: float) -> NormalMixture:
        """The posterior mixture of theta given one estimate ~ N(theta, se^2) (conjugate, per component)."""
        w, m, v = self._posterior_arrays(estimate, se)
        return NormalMixture(tuple(map(float, w)), tuple(map(float, m)), tuple(map(float, np.sqrt(v))))

    def posterior_sf(self, threshold: float, estimate, se) -> np.ndarray:
        """P(theta > threshold | estimate ~ N(theta, se^2)), vectorized over estimate and se."""
        if self.flat:
            return special.ndtr((np.asarray(estimate, dtype=float) - threshold) / np.asarray(se, dtype=float))
        wpost, post_mean, post_var = self._posterior_arrays(estimate, se)
        return np.sum(wpost * special.ndtr((post_mean - threshold) / np.sqrt(post_var)), axis=-1)


def student_t_posterior_sf(
    prior: NormalMixture, threshold: float, estimate, c, ss, nu, reference_sd: float | None
):
    """P(theta > threshold | data) when the variance is unknown (Normal-inverse-gamma; Student-t posterior).

    Data: an estimate ``estimate`` ~ N(theta, sigma^2 c) and a sum of squares ``ss`` ~ sigma^2 chi^2_nu,
    independent (one arm: the mean, c = 1/n, nu = n - 1; two arms: the difference, c = 1/n1 + 1/n2,
    pooled nu = n1 + n2 - 2). Prior p(sigma^2) ~ 1/sigma^2 (Jeffreys). With a flat prior on theta the
    posterior is t_nu(estimate, sqrt(ss / nu * c)): the rule is the t test. A Normal mixture prior is read
    as conjugate components theta | sigma^2 ~ N(m_k, sigma^2 / kappa_k) with kappa_k = (reference_sd / sd_k)^2
    (its information in participants, the same at sigma = reference_sd); then, with a_n = (nu + 1) / 2,
    b_k = ss / 2 + (estimate - m_k)^2 / (2 (c + 1 / kappa_k)), the posterior is the mixture of
    t_{2 a_n}(m_k', sqrt(b_k / (a_n (kappa_k + 1 / c)))), m_k' = (kappa_k m_k + estimate / c) / (kappa_k + 1 / c),
    with weights proportional to w_k sqrt(kappa_k / (1 + kappa_k c)) b_k^(-a_n).

    Reference: Gelman A et al. Bayesian Data Analysis, 3rd ed., sec. 3.3 (normal model, conjugate prior).
    """
    estimate, c, ss, nu = (np.asarray(v, dtype=float) for v in (estimate, c, ss, nu))
    if prior.flat:
        return special.stdtr(nu, (estimate - threshold) / np.sqrt(ss / nu * c))
    if reference_sd is None:
        raise ValueError(
            "reference_sd: needed to read a Normal prior as conjugate (information in participants)"
        )
    w, m, sd = prior._arrays()
    kappa = (reference_sd / sd) ** 2
    est, cc, sss = estimate[..., None], c[..., None], ss[..., None]
    a_n = (nu[..., None] + 1.0) / 2.0
    b = sss / 2.0 + (est - m) ** 2 / (2.0 * (cc + 1.0 / kappa))
    log_w = np.log(w) + 0.5 * np.log(kappa / (1.0 + kappa * cc)) - a_n * np.log(b)
    log_w -= log_w.max(axis=-1, keepdims=True)
    wpost = np.exp(log_w)
    wpost /= wpost.sum(axis=-1, keepdims=True)
    precision = kappa + 1.0 / cc
    location = (kappa * m + est / cc) / precision
    scale = np.sqrt(b / (a_n * precision))
    return np.sum(wpost * special.stdtr(2.0 * a_n, (location - threshold) / scale), axis=-1)


@dataclass(frozen=True)
class GammaMixture:
    """Mixture of Gamma(shape_k, rate_k), for an event rate."""

    weights: tuple[float, ...]
    shape: tuple[float, ...]
    rate: tuple[float, ...]

    def components(self) -> list[tuple[float, float, float]]:
        """(weight, shape, rate) per component."""
        return list(zip(self.weights, self.shape, self.rate, strict=True))

    def mean(self) -> float:
        return float(np.sum(np.asarray(self.weights) * np.asarray(self.shape) / np.asarray(self.rate)))

    def var(self) -> float:
        w, a, b = (np.asarray(v) for v in (self.weights, self.shape, self.rate))
        return float(np.sum(w * (a / b**2 + (a / b) ** 2)) - self.mean() ** 2)

    def pdf(self, t) -> np.ndarray:
        w, a, b = (np.asarray(v) for v in (self.weights, self.shape, self.rate))
        t = np.asarray(t, dtype=float)[..., None]
        return np.sum(
            w * np.exp(special.xlogy(a - 1, t) - b * t + a * np.log(b) - special.gammaln(a)), axis=-1
        )

    def cdf(self, t) -> np.ndarray:
        w, a, b = (np.asarray(v) for v in (self.weights, self.shape, self.rate))
        return np.sum(w * special.gammainc(a, b * np.asarray(t, dtype=float)[..., None]), axis=-1)

    def sample(self, pick: np.random.Generator, draw: np.random.Generator, size: int) -> np.ndarray:
        a, b = np.asarray(self.shape), np.asarray(self.rate)
        k = _pick_components(self.weights, pick, size)
        return draw.standard_gamma(a[k]) / b[k]

    def posterior_weights(self, events, exposure) -> np.ndarray:
        """Posterior component weights after ``events`` in ``exposure`` (Poisson, or exponential times with
        that many events and total follow-up): w_k Gamma(a_k + d) b_k^a_k / (Gamma(a_k) (b_k + T)^(a_k + d)),
        normalized; shape ``events.shape + (K,)``."""
        w, a, b = (np.asarray(v, dtype=float) for v in (self.weights, self.shape, self.rate))
        d = np.asarray(events, dtype=float)[..., None]
        t = np.asarray(exposure, dtype=float)[..., None]
        log_w = (
            np.log(w)
            + special.gammaln(a + d)
            - special.gammaln(a)
            + special.xlogy(a, b)
            - (a + d) * np.log(b + t)
        )
        log_w -= log_w.max(axis=-1, keepdims=True)
        post = np.exp(log_w)
        return post / post.sum(axis=-1, keepdims=True)

    def posterior_cdf(self, threshold: float, events, exposure) -> np.ndarray:
        """P(rate < threshold | events in exposure): each component's posterior is
        Gamma(a_k + d, b_k + T), vectorized over events and exposure."""
        _, a, b = (np.asarray(v, dtype=float) for v in (self.weights, self.shape, self.rate))
        wpost = self.posterior_weights(events, exposure)
        d = np.asarray(events, dtype=float)[..., None]
        t = np.asarray(exposure, dtype=float)[..., None]
        # (a weighted sum of values in [0, 1] can round to just above 1)
        return np.clip(np.sum(wpost * special.gammainc(a + d, (b + t) * threshold), axis=-1), 0.0, 1.0)
