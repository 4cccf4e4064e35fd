"""Continuous (normal) endpoints through their sufficient statistics.

An arm of M normal observations is summarised by its mean ~ N(mu, sd^2 / M) and
its within-arm sum of squares ~ sd^2 chi^2(M - 1), independent (Cochran's theorem);
the cost per simulated trial does not grow with M.

Dropout (rate d, independent of outcome): the completers M ~ Binomial(n, 1 - d).
Strategy ``"missing"`` analyses the completers. Strategy ``"failure"`` gives each of
the n - M dropouts the value ``endpoint.failure_value`` c and analyses all n; the
combined mean and sum of squares follow exactly from the completers' ones:
mean = (M ybar + D c) / n, SS = SS_M + M (ybar - mean)^2 + D (c - mean)^2.

ANCOVA needs the baseline too: outcome y and baseline x are bivariate normal within
arm with correlation rho (x standardised, which leaves the ANCOVA t statistic
unchanged). The sufficient statistics are the arm means of (x, y) ~ N2(mu, Sigma / M)
and the pooled within-arm cross-product matrix ~ Wishart2(M1 + M2 - 2, Sigma),
drawn by Bartlett's decomposition.

References
----------
Anderson TW. An Introduction to Multivariate Statistical Analysis, 3rd ed. Wiley 2003,
Sec. 7.2 (Bartlett decomposition of the Wishart distribution).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.design import Dropout
from planner.randomness import BlockStreams, binomial_draws

__all__ = [
    "NormalArm",
    "AncovaSample",
    "PooledNormalSample",
    "simulate_normal_arm",
    "simulate_pooled_normal",
    "simulate_ancova",
]


@dataclass(frozen=True)
class NormalArm:
    n: np.ndarray  # participants analysed
    mean: np.ndarray
    ss: np.ndarray  # within-arm sum of squared deviations


@dataclass(frozen=True)
class PooledNormalSample:
    """Two normal arms with a common sd by what a pooled analysis reads: the analysed sizes, the difference of
    the means (treatment - control) and the pooled within-arm sum of squares. Its minimal sufficient statistics:
    one normal and one chi-square draw per trial instead of two of each."""

    n1: np.ndarray | int
    n2: np.ndarray | int
    difference: np.ndarray
    ss: np.ndarray


@dataclass(frozen=True)
class AncovaSample:
    n1: np.ndarray
    n2: np.ndarray
    y1: np.ndarray  # arm means of the outcome
    y2: np.ndarray
    x1: np.ndarray  # arm means of the (standardised) baseline
    x2: np.ndarray
    sxx: np.ndarray  # pooled within-arm cross products
    sxy: np.ndarray
    syy: np.ndarray


def _completers(streams: BlockStreams, arm: str, size: int, n: int, dropout: Dropout) -> np.ndarray:
    if dropout.rate == 0.0:
        return np.full(size, n)
    return binomial_draws(streams(f"{arm}.completers"), n, 1.0 - dropout.rate, size)


def simulate_normal_arm(
    streams: BlockStreams,
    arm: str,
    size: int,
    n: int,
    mu: float,
    sd: float,
    dropout: Dropout,
    failure_value: float | None,
) -> NormalArm:
    """Analysed participants, mean and within-arm SS of one arm in ``size`` simulated trials."""
    if dropout.rate == 0.0:  # everyone analysed: scalar sizes draw the same values, faster
        mean = mu + (sd / np.sqrt(n)) * streams(f"{arm}.mean").standard_normal(size)
        ss = (
            (2.0 * sd**2) * streams(f"{arm}.ss").standard_gamma((n - 1) / 2.0, size)
            if n > 1
            else np.zeros(size)
        )
        return NormalArm(np.full(size, n), mean, ss)
    m = _completers(streams, arm, size, n, dropout)
    safe_m = np.maximum(m, 1)
    mean = mu + sd * streams(f"{arm}.mean").standard_normal(size) / np.sqrt(safe_m)
    # chi^2(k) = 2 Gamma(k / 2); Gamma(0) is 0, which is right for one completer.
    ss = sd**2 * 2.0 * streams(f"{arm}.ss").standard_gamma(np.maximum(m - 1, 0) / 2.0)
    mean = np.where(m > 0, mean, 0.0)
    if dropout.rate > 0.0 and dropout.strategy == "failure":
        c = float(failure_value if failure_value is not None else 0.0)  # the spec requires it here
        dropouts = n - m
        combined = (m * mean + dropouts * c) / n
        ss = ss + m * (mean - combined) ** 2 + dropouts * (c - combined) ** 2
        return NormalArm(np.full(size, n), combined, ss)
    return NormalArm(m, mean, ss)


def simulate_pooled_normal(
    streams: BlockStreams,
    size: int,
    sizes: tuple[int, int],
    means: tuple[float, float],
    sd: float,
    dropout: Dropout,
) -> PooledNormalSample:
    """Difference of means ~ N(mu_t - mu_c, sd^2 (1 / M1 + 1 / M2)) and pooled SS ~ sd^2 chi^2(M1 + M2 - 2),
    independent, for ``size`` trials; completers analysed (no dropout, or dropouts missing). Arms with no
    completer give a difference of 0 (the rule's df check then rejects nothing)."""
    m1: int | np.ndarray
    m2: int | np.ndarray
    if dropout.rate == 0.0:
        m1, m2 = sizes
        scale = sd * np.sqrt(1.0 / m1 + 1.0 / m2)
        shape = max(m1 + m2 - 2, 0) / 2.0
    else:
        m1 = _completers(streams, "treatment", size, sizes[0], dropout)
        m2 = _completers(streams, "control", size, sizes[1], dropout)
        scale = sd * np.sqrt(1.0 / np.maximum(m1, 1) + 1.0 / np.maximum(m2, 1))
        shape = np.maximum(m1 + m2 - 2, 0) / 2.0
    difference = streams("difference").standard_normal(size)  # in place below: no temporaries
    difference *= scale
    difference += means[0] - means[1]
    ss = streams("pooled_ss").standard_gamma(shape, size)
    ss *= 2.0 * sd**2
    if dropout.rate > 0.0:
        difference = np.where((m1 > 0) & (m2 > 0), difference, 0.0)
    return PooledNormalSample(m1, m2, difference, ss)


def simulate_ancova(
    streams: BlockStreams,
    size: int,
    sizes: tuple[int, int],
    means: tuple[float, float],
    sd: float,
    rho: float,
    dropout: Dropout,
) -> AncovaSample:
    """Sufficient statistics of a two-arm trial with a baseline covariate (completers analysed)."""
    m1 = _completers(streams, "treatment", size, sizes[0], dropout)
    m2 = _completers(streams, "control", size, sizes[1], dropout)
    resid_sd = sd * np.sqrt(1.0 - rho**2)

    def arm_means(arm: str, m: np.ndarray, mu: float) -> tuple[np.ndarray, np.ndarray]:
        z = streams(f"{arm}.baseline_mean").standard_normal(size)
        e = streams(f"{arm}.mean").standard_normal(size)
        root_m = np.sqrt(np.maximum(m, 1))
        x = z / root_m
        y = mu + rho * sd * x + resid_sd * e / root_m
        return x, y

    x1, y1 = arm_means("treatment", m1, means[0])
    x2, y2 = arm_means("control", m2, means[1])
    # Bartlett: W = L T T' L' with L = chol(Sigma), T lower triangular,
    # T11^2 ~ chi2(k), T22^2 ~ chi2(k - 1), T21 ~ N(0, 1).
    k = np.maximum(m1 + m2 - 2, 1)
    t11 = np.sqrt(2.0 * streams("pooled.wishart_11").standard_gamma(k / 2.0))
    t22 = np.sqrt(2.0 * streams("pooled.wishart_22").standard_gamma(np.maximum(k - 1, 0) / 2.0))
    t21 = streams("pooled.wishart_21").standard_normal(size)
    # L = [[1, 0], [rho sd, resid_sd]] for Sigma = [[1, rho sd], [rho sd, sd^2]]; A = T T'.
    a11, a21, a22 = t11**2, t21 * t11, t21**2 + t22**2
    sxx = a11
    sxy = rho * sd * a11 + resid_sd * a21
    syy = (rho * sd) ** 2 * a11 + 2 * rho * sd * resid_sd * a21 + resid_sd**2 * a22
    return AncovaSample(m1, m2, y1, y2, x1, x2, sxx, sxy, syy)
