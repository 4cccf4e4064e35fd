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
) -> float:
    """Power of the one-sided Wald test that the treatment rate is lower (Zhu and Lakkis 2014, eq. 4):
    Phi((-log RR - z_{1-alpha} sqrt(V0)) / sqrt(V1)), V1 at the true rates, V0 under H0 by ``variance``:
    'true-rates' (V0 = V1), 'control-rate' (both arms at the control rate) or 'restricted' (both at the
    pooled rate (n_t mu_t + n_c mu_c) / (n_t + n_c))."""
    mu_t, mu_c = rate_t * exposure, rate_c * exposure
    v1 = (1 / mu_t + dispersion) / n_t + (1 / mu_c + dispersion) / n_c
    if variance == "true-rates":
        v0 = v1
    else:
        mu0 = mu_c if variance == "control-rate" else (n_t * mu_t + n_c * mu_c) / (n_t + n_c)
        v0 = (1 / mu0 + dispersion) * (1 / n_t + 1 / n_c)
    return float(special.ndtr((-math.log(rate_t / rate_c) - _z(1 - alpha) * math.sqrt(v0)) / math.sqrt(v1)))
