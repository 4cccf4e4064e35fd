"""Closed-form power and sample size for fixed designs (the references the simulation is checked against).

All tests are one-sided at level ``alpha``. Sample sizes are returned unrounded,
as R's ``power.t.test`` does; rounding up to whole participants is the caller's
explicit step (:func:`math.ceil`).

References
----------
Chow S-C, Shao J, Wang H, Lokhnygina Y. Sample Size Calculations in Clinical Research,
3rd ed. CRC 2017: ch. 3 (means, noncentral t), ch. 4 (proportions).
Zhu H, Lakkis H. Sample size calculation for comparing two negative binomial rates.
Statistics in Medicine 2014;33:376-87 (their variance method 3: variances at the true rates).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import optimize, special, stats

__all__ = [
    "power_t_two_sample",
    "power_t_one_sample",
    "n_t_two_sample",
    "n_t_one_sample",
    "power_z_two_sample",
    "n_z_two_sample",
    "power_two_proportions",
    "n_two_proportions",
    "power_nb_rate_ratio",
    "restricted_proportions",
    "farrington_manning_z",
    "n_farrington_manning",
]


def _z(q: float) -> float:
    return float(special.ndtri(q))


def power_t_two_sample(delta: float, sd: float, n1: float, n2: float, alpha: float) -> float:
    """Power of the one-sided pooled two-sample t test: P(T'(df, ncp) > t_{1-alpha, df}).

    df = n1 + n2 - 2 and ncp = delta / (sd sqrt(1/n1 + 1/n2)); equals R's
    ``power.t.test(..., alternative = "one.sided")`` for n1 = n2.
    """
    df = n1 + n2 - 2
    ncp = delta / (sd * math.sqrt(1.0 / n1 + 1.0 / n2))
    return float(stats.nct.sf(stats.t.isf(alpha, df), df, ncp))


def power_t_one_sample(delta: float, sd: float, n: float, alpha: float) -> float:
    """Power of the one-sided one-sample t test of a mean shift ``delta``."""
    df = n - 1
    return float(stats.nct.sf(stats.t.isf(alpha, df), df, delta * math.sqrt(n) / sd))


def _solve_n(power_of_n: Callable[[float], float], target: float, low: float) -> float:
    """Smallest real n with power_of_n(n) = target, by an expanding bracket and Brent's method."""
    high = max(2 * low, 4.0)
    while power_of_n(high) < target:
        high *= 2
        if high > 1e9:
            return math.nan
    return float(optimize.brentq(lambda n: power_of_n(n) - target, low, high, xtol=1e-10))


def n_t_two_sample(delta: float, sd: float, alpha: float, power: float) -> float:
    """Participants per arm (equal allocation) for the one-sided pooled t test, unrounded."""
    return _solve_n(lambda n: power_t_two_sample(delta, sd, n, n, alpha), power, 2.0 + 1e-9)


def n_t_one_sample(delta: float, sd: float, alpha: float, power: float) -> float:
    """Participants for the one-sided one-sample t test, unrounded."""
    return _solve_n(lambda n: power_t_one_sample(delta, sd, n, alpha), power, 2.0 + 1e-9)


def power_z_two_sample(delta: float, sd: float, n1: float, n2: float, alpha: float) -> float:
    """Power of the one-sided two-sample z test with known sd."""
    return float(special.ndtr(delta / (sd * math.sqrt(1 / n1 + 1 / n2)) - _z(1 - alpha)))


def n_z_two_sample(
    delta: float, sd: float, alpha: float, power: float, ratio: float = 1.0
) -> tuple[float, float]:
    """(n1, n2) for the one-sided z test with n1 = ratio * n2: n2 = (1 + 1/ratio) (z sd / delta)^2, unrounded."""
    n2 = (1 + 1 / ratio) * ((_z(1 - alpha) + _z(power)) * sd / delta) ** 2
    return ratio * n2, n2


def power_two_proportions(p1: float, p2: float, n: float, alpha: float) -> float:
    """Normal-approximation power for two proportions, n per arm, as R's ``power.prop.test`` (one-sided)."""
    q1, q2 = 1 - p1, 1 - p2
    pbar, qbar = (p1 + p2) / 2, (q1 + q2) / 2
    num = math.sqrt(n) * abs(p1 - p2) - _z(1 - alpha) * math.sqrt(2 * pbar * qbar)
    return float(special.ndtr(num / math.sqrt(p1 * q1 + p2 * q2)))


def n_two_proportions(p1: float, p2: float, alpha: float, power: float) -> float:
    """Participants per arm for :func:`power_two_proportions`, unrounded."""
    return _solve_n(lambda n: power_two_proportions(p1, p2, n, alpha), power, 1.0)


def power_nb_rate_ratio(
    rate_t: float,
    rate_c: float,
    n_t: float,
    n_c: float,
    exposure: float,
    dispersion: float,
    alpha: float,
    variance: str = "true-rates",
    margin: float = 1.0,
) -> float:
    """Power of the one-sided Wald test that the treatment rate is lower (Zhu and Lakkis 2014, eq. 4):
    Phi((-log RR - z_{1-alpha} sqrt(V0)) / sqrt(V1)), V1 at the true rates, V0 under H0 by ``variance``:
    'true-rates' (V0 = V1), 'control-rate' (both arms at the control rate) or 'restricted' (both at the
    pooled rate (n_t mu_t + n_c mu_c) / (n_t + n_c)). A non-inferiority ``margin`` M > 1 (true-rates only):
    H0 RR >= M, so -log RR becomes log M - log RR."""
    mu_t, mu_c = rate_t * exposure, rate_c * exposure
    v1 = (1 / mu_t + dispersion) / n_t + (1 / mu_c + dispersion) / n_c
    if variance == "true-rates":
        v0 = v1
    else:
        mu0 = mu_c if variance == "control-rate" else (n_t * mu_t + n_c * mu_c) / (n_t + n_c)
        v0 = (1 / mu0 + dispersion) * (1 / n_t + 1 / n_c)
    if margin != 1.0 and variance != "true-rates":
        raise ValueError("a rate-ratio margin is tested with the 'true-rates' variance")
    drift = math.log(margin) - math.log(rate_t / rate_c)
    return float(special.ndtr((drift - _z(1 - alpha) * math.sqrt(v0)) / math.sqrt(v1)))


def restricted_proportions(
    x1: np.ndarray | float,
    n1: np.ndarray | float,
    x2: np.ndarray | float,
    n2: np.ndarray | float,
    theta: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Maximum likelihood estimates of (p1, p2) under p1 - p2 = theta from x1 of n1 and x2 of n2 (arrays
    broadcast; n1, n2 > 0; Farrington and Manning 1990; Miettinen and Nurminen 1985). The score equation
    n1 (q1 - p1) p2 (1 - p2) + n2 (q2 - p2) p1 (1 - p1) = 0 with p2 = p1 - theta and q the observed rates is
    the cubic (1 + t) p1^3 - (1 + t + q1 + t q2 + theta (t + 2)) p1^2 + (theta^2 + theta (2 q1 + t + 1) + q1
    + t q2) p1 - q1 theta (1 + theta) = 0, t = n2 / n1; its three real roots (trigonometric form) straddle
    the feasible interval [max(0, theta), min(1, 1 + theta)], where the log-likelihood is concave, and the
    estimate is the middle one, clipped to that interval."""
    q1 = np.asarray(x1, dtype=float) / n1
    q2 = np.asarray(x2, dtype=float) / n2
    t = np.asarray(n2, dtype=float) / n1
    a = 1.0 + t
    b = -(1.0 + t + q1 + t * q2 + theta * (t + 2.0))
    c = theta**2 + theta * (2.0 * q1 + t + 1.0) + q1 + t * q2
    d = -q1 * theta * (1.0 + theta)
    # depressed cubic y^3 + P y + Q = 0 with p1 = y - b / (3a)
    shift = b / (3.0 * a)
    P = c / a - 3.0 * shift**2
    Q = 2.0 * shift**3 - shift * c / a + d / a
    radius = 2.0 * np.sqrt(np.maximum(-P / 3.0, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        cos_arg = np.where(radius > 0, 3.0 * Q / (P * radius), 0.0)
    phi = np.arccos(np.clip(cos_arg, -1.0, 1.0)) / 3.0
    roots = np.stack([radius * np.cos(phi - 2.0 * math.pi * k / 3.0) for k in range(3)]) - shift
    p1 = np.sort(roots, axis=0)[1]
    p1 = np.clip(p1, max(0.0, theta), min(1.0, 1.0 + theta))
    return p1, p1 - theta


def farrington_manning_z(
    x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray, margin: float
) -> np.ndarray:
    """Farrington and Manning's (1990) score z for H0: p1 - p2 <= -margin (non-inferiority of arm 1 by
    ``margin`` >= 0; margin 0: superiority): (q1 - q2 + margin) / sqrt(r1 (1 - r1) / n1 + r2 (1 - r2) / n2),
    r the restricted estimates (:func:`restricted_proportions` at theta = -margin). Where the variance is 0
    (both restricted rates 0 or 1) the z is 0."""
    x1, n1, x2, n2 = (np.asarray(v, dtype=float) for v in (x1, n1, x2, n2))
    r1, r2 = restricted_proportions(x1, n1, x2, n2, -margin)
    var = r1 * (1.0 - r1) / n1 + r2 * (1.0 - r2) / n2
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x1 / n1 - x2 / n2 + margin) / np.sqrt(var)
    return np.asarray(np.where(var > 0, z, 0.0))


def n_farrington_manning(
    p1: float, p2: float, margin: float, alpha: float, power: float, allocation: float = 1.0
) -> tuple[float, float]:
    """Participants (arm 1, arm 2), unrounded, for power of the one-sided level-alpha Farrington-Manning test of
    H0: p1 - p2 <= -margin at the true rates p1, p2, with n1 = allocation x n2 (Farrington and Manning 1990,
    eq. 9): N = (z_{1-alpha} s0 + z_{power} s1)^2 / (p1 - p2 + margin)^2, s^2 = r1 (1 - r1) / f1 + r2 (1 - r2)
    / f2 with f the arms' fractions of N, at the restricted rates (s0; :func:`restricted_proportions` of the true
    rates as data) and at the true rates (s1) -- rpact's getSampleSizeRates with thetaH0 = -margin."""
    f1, f2 = allocation / (1.0 + allocation), 1.0 / (1.0 + allocation)
    r1, r2 = (float(v) for v in restricted_proportions(p1 * f1, f1, p2 * f2, f2, -margin))
    s0 = math.sqrt(r1 * (1 - r1) / f1 + r2 * (1 - r2) / f2)
    s1 = math.sqrt(p1 * (1 - p1) / f1 + p2 * (1 - p2) / f2)
    total = (_z(1 - alpha) * s0 + _z(power) * s1) ** 2 / (p1 - p2 + margin) ** 2
    return f1 * total, f2 * total
