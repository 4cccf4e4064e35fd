"""A paired count endpoint: events per patient-year before versus after treatment in the same participants
(severe hypoglycaemia in a single-arm trial), and the exact conditional test of the within-patient rate ratio.

Model: participant i has a frailty u_i (Gamma with mean 1 and variance ``dispersion`` = k; none when k = 0)
shared by both periods; events before ~ Poisson(u_i lambda_0 e_0) over the baseline exposure e_0, events after
~ Poisson(u_i lambda_1 e_1) over e_1, independent given u_i. The estimand is the rate ratio
rho = lambda_1 / lambda_0 (lower is better). Given a participant's total, the after-period events are
Binomial(total, pi), pi = rho e_1 / (e_0 + rho e_1), whatever u_i is: the frailty cancels. So given the trial's
total T of events among the m participants analysed, the after-period total A is Binomial(T, pi).

Test: H0 rho >= rho_0 (``null_ratio``: 1 for any reduction, 0.5 for a halving) against rho < rho_0; reject when
P(Binomial(T, pi_0) <= A) <= alpha -- exact conditional on T (its level is at most alpha for every frailty
distribution, baseline rate and exposure; Cox and Hinkley 1974, sec. 5.2; the conditional test of two
Poisson rates, Przyborowski and Wilenski 1940).

Power is exact: T is negative binomial, the sum of m independent NB(1 / k, mean u (lambda_0 e_0 + lambda_1 e_1))
counts, i.e. NB(size m / k, mean m (lambda_0 e_0 + lambda_1 e_1)) (Poisson when k = 0), and
P(reject) = sum over T of P(T) P(Binomial(T, pi) <= c(T)), c(T) the test's critical count; participants who
drop out before the after period are not analysed (m ~ Binomial(n, 1 - dropout)).

Defaults (priors/evidence.toml): the baseline rate 8.9 events per person-year (HypoCOMPaSS); the dispersion
0.5 and the baseline range 4-9 per person-year are judgment (the project's editable assumptions).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from planner.errors import DesignError
from planner.randomness import BLOCK_SIZE, BlockStreams

__all__ = ["PairedCounts", "paired_defaults", "power", "critical_counts", "simulate", "smallest_n"]

TAIL = 1e-15  # the total's distribution is summed to 1 - TAIL
MAX_N = 100_000


def paired_defaults() -> dict[str, Any]:
    """The evidence file's numbers for severe hypoglycaemia with their sources."""
    from planner.resources import priors_dir

    data = tomllib.loads((priors_dir() / "evidence.toml").read_text())
    judgment = data["judgment"]
    return {
        "baseline_rate": float(data["comparators"]["she_baseline"]["mean"]),
        "baseline_rate_source": data["sources"][data["comparators"]["she_baseline"]["source"]],
        "dispersion": float(judgment["she_dispersion"]),
        "baseline_rate_range": [float(v) for v in judgment["she_baseline_rate_range"]],
        "judgment_source": data["sources"][judgment["source"]],
    }


@dataclass(frozen=True)
class PairedCounts:
    """A single-arm trial comparing each participant's event rate after treatment with their own before it."""

    n: int
    baseline_rate: float
    rate_ratio: float  # true lambda_1 / lambda_0
    baseline_exposure: float = 1.0
    exposure: float = 1.0
    dispersion: float = 0.5
    null_ratio: float = 1.0
    alpha: float = 0.025
    dropout: float = 0.0

    def __post_init__(self) -> None:
        problems = []
        if isinstance(self.n, bool) or not isinstance(self.n, int | np.integer) or not 1 <= self.n <= MAX_N:
            problems.append(f"n: a whole number of participants from 1 to {MAX_N:,}, got {self.n!r}")
        for name, low in (
            ("baseline_rate", 0.0),
            ("baseline_exposure", 0.0),
            ("exposure", 0.0),
            ("null_ratio", 0.0),
        ):
            value = getattr(self, name)
            if not _finite(value) or value <= low or value > 1e6:
                problems.append(f"{name}: a positive number, got {value!r}")
        if not _finite(self.rate_ratio) or not 0.0 <= self.rate_ratio <= 1e6:
            problems.append(
                f"rate_ratio: a non-negative rate ratio (after / before), got {self.rate_ratio!r}"
            )
        if not _finite(self.dispersion) or not 0.0 <= self.dispersion <= 100.0:
            problems.append(
                f"dispersion: the frailty variance, from 0 (Poisson) to 100, got {self.dispersion!r}"
            )
        if not _finite(self.alpha) or not 0.0 < self.alpha <= 0.5:
            problems.append(f"alpha: a one-sided level in (0, 0.5], got {self.alpha!r}")
        if not _finite(self.dropout) or not 0.0 <= self.dropout < 1.0:
            problems.append(f"dropout: a probability in [0, 1), got {self.dropout!r}")
        if problems:
            raise DesignError("\n".join(problems), problems=tuple(problems))

    def share_after(self, ratio: float) -> float:
        """pi: the after period's share of a participant's events at rate ratio ``ratio``."""
        return ratio * self.exposure / (self.baseline_exposure + ratio * self.exposure)

    @property
    def mean_total_per_participant(self) -> float:
        return self.baseline_rate * (self.baseline_exposure + self.rate_ratio * self.exposure)


def _finite(value: Any) -> bool:
    return (
        isinstance(value, int | float | np.floating) and not isinstance(value, bool) and math.isfinite(value)
    )


def critical_counts(totals: np.ndarray, pi0: float, alpha: float) -> np.ndarray:
    """c(T): the largest after-period count with P(Binomial(T, pi0) <= c) <= alpha (-1: none), per total T."""
    totals = np.asarray(totals)
    c = stats.binom.ppf(alpha, totals, pi0).astype(np.int64)  # smallest a with cdf >= alpha
    over = stats.binom.cdf(c, totals, pi0) > alpha * (1 + 1e-12)
    return np.asarray(np.where(over, c - 1, c))


def _total_pmf(design: PairedCounts, m: int, ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """The totals T = 0..T_max among m participants and their probabilities (negative binomial or Poisson)."""
    mean = m * design.baseline_rate * (design.baseline_exposure + ratio * design.exposure)
    if design.dispersion == 0.0:
        dist = stats.poisson(mean)
    else:
        size = m / design.dispersion
        dist = stats.nbinom(size, size / (size + mean))
    top = int(dist.isf(TAIL)) + 1
    t = np.arange(top + 1)
    return t, dist.pmf(t)


def power(design: PairedCounts, ratio: float | None = None) -> float:
    """P(reject H0) at the true rate ratio (default: the design's), exact (module docstring)."""
    ratio = design.rate_ratio if ratio is None else float(ratio)
    pi0, pi1 = design.share_after(design.null_ratio), design.share_after(ratio)
    if design.dropout > 0.0:
        ms = np.arange(design.n + 1)
        weights = stats.binom.pmf(ms, design.n, 1.0 - design.dropout)
    else:
        ms, weights = np.array([design.n]), np.array([1.0])
    total = 0.0
    for m, w in zip(ms, weights, strict=True):
        if w < 1e-15 or m == 0:
            continue
        t, pmf = _total_pmf(design, int(m), ratio)
        crit = critical_counts(t, pi0, design.alpha)
        total += w * float(pmf @ np.where(crit >= 0, stats.binom.cdf(crit, t, pi1), 0.0))
    return total


@dataclass(frozen=True)
class SimulatedPower:
    value: float
    mcse: float
    n_sims: int


def simulate(design: PairedCounts, n_sims: int, seed: int, ratio: float | None = None) -> SimulatedPower:
    """P(reject) by simulating the trial-level statistics (the number analysed, T, A) in blocks with their own
    streams, with the Monte Carlo SE: the check of :func:`power`."""
    ratio = design.rate_ratio if ratio is None else float(ratio)
    pi0, pi1 = design.share_after(design.null_ratio), design.share_after(ratio)
    rejected = 0
    for b, start in enumerate(range(0, n_sims, BLOCK_SIZE)):
        size = min(BLOCK_SIZE, n_sims - start)
        streams = BlockStreams(seed, b)
        m = (
            streams("paired.analysed").binomial(design.n, 1.0 - design.dropout, size)
            if design.dropout > 0.0
            else np.full(size, design.n)
        )
        mean = m * design.baseline_rate * (design.baseline_exposure + ratio * design.exposure)
        if design.dispersion > 0.0:  # the sum of m Gamma frailties is Gamma(m / k, k)
            safe = np.maximum(m, 1)
            mean = mean * streams("paired.frailty").gamma(safe / design.dispersion, design.dispersion) / safe
        t = streams("paired.total").poisson(mean)
        a = streams("paired.after").binomial(t, pi1)
        crit = critical_counts(t, pi0, design.alpha)
        rejected += int(np.count_nonzero((m > 0) & (a <= crit)))
    p = rejected / n_sims
    return SimulatedPower(p, math.sqrt(p * (1 - p) / n_sims), n_sims)


def smallest_n(
    design: PairedCounts, target: float, n_max: int = 1000
) -> tuple[int | None, list[tuple[int, float]]]:
    """The smallest N with power at least ``target`` (a scan of N = 2..n_max), and the curve."""
    if not _finite(target) or not 0.0 < target < 1.0:
        raise DesignError(f"target: a power strictly between 0 and 1, got {target!r}")
    curve = []
    for n in range(2, n_max + 1):
        value = power(PairedCounts(**{**design.__dict__, "n": n}))
        curve.append((n, value))
        if value >= target:
            return n, curve
    return None, curve
