"""Precision-based sizing of a single-arm binary design: how precisely the response rate will be known.

For N participants, a true response rate p and the design's dropout, the number of responders among those
analysed is exactly distributed (binomial; with dropouts missing, a mixture over the number analysed; with
dropouts as failures, the composite rate p (1 - d)). For a two-sided ``level`` interval:

* the probability that the interval's lower limit exceeds a ``threshold`` (e.g. 0.5): the sum of the
  binomial probabilities of the counts whose lower limit is above it;
* the expected width of the interval (upper - lower);

both exact sums over the outcomes. Intervals: Clopper-Pearson (exact; limits from Beta quantiles) and Wilson
(score). The smallest N reaching a target is searched over N; because the probability is a saw-tooth in N
(discreteness), the smallest N from which every larger N up to the search limit also reaches it is given too.

References: Clopper CJ, Pearson ES. Biometrika 1934;26:404-13. Wilson EB. J Am Stat Assoc 1927;22:209-12.
Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of seven methods. Stat Med
1998;17:857-72 (the tests' reference values).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import special, stats

from planner.design import Design, Dropout, whole_number
from planner.errors import DesignError

__all__ = [
    "INTERVALS",
    "PrecisionPoint",
    "PrecisionSearch",
    "clopper_pearson",
    "wilson",
    "precision",
    "precision_of_design",
    "scenario_rate",
    "smallest_n_for_precision",
]

Interval = Literal["clopper-pearson", "wilson"]
INTERVALS = ("clopper-pearson", "wilson")
MAX_N = 100_000


def clopper_pearson(x: Any, n: Any, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """The exact (Clopper-Pearson) interval for x responders of n: Beta quantiles, 0 and 1 at the edges."""
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    a = (1.0 - level) / 2.0
    with np.errstate(invalid="ignore"):
        lower = np.where(x > 0, special.betaincinv(np.maximum(x, 1e-300), n - x + 1.0, a), 0.0)
        upper = np.where(x < n, special.betaincinv(x + 1.0, np.maximum(n - x, 1e-300), 1.0 - a), 1.0)
    return lower, upper


def wilson(x: Any, n: Any, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson (score) interval for x responders of n."""
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    z = float(special.ndtri(1.0 - (1.0 - level) / 2.0))
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return np.maximum(centre - half, 0.0), np.minimum(centre + half, 1.0)


_LIMITS = {"clopper-pearson": clopper_pearson, "wilson": wilson}


@dataclass(frozen=True)
class PrecisionPoint:
    """Exact precision of a design with n participants at response rate p."""

    n: int
    rate: float
    threshold: float
    interval: str
    level: float
    p_lower_above: float  # P(the interval's lower limit > threshold)
    expected_width: float
    expected_lower: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _check(rate: float, threshold: float, level: float, interval: str) -> None:
    for name, value in (("rate", rate), ("threshold", threshold)):
        if not isinstance(value, int | float) or not math.isfinite(value) or not 0.0 <= value <= 1.0:
            raise DesignError(f"{name}: a probability in [0, 1], got {value!r}")
    if not isinstance(level, int | float) or not 0.5 <= level < 1.0:
        raise DesignError(f"level: a confidence level in [0.5, 1), got {level!r}")
    if interval not in INTERVALS:
        raise DesignError(f"interval: one of {', '.join(INTERVALS)}, got {interval!r}")


def precision(
    n: int,
    rate: float,
    threshold: float,
    *,
    level: float = 0.95,
    interval: Interval = "clopper-pearson",
    dropout: Dropout | None = None,
) -> PrecisionPoint:
    """P(lower limit > threshold), the expected width and the expected lower limit: exact sums over the number
    analysed and the responders among them (module docstring)."""
    from planner.endpoints.binary import analysed_count_distribution

    n = whole_number("n", n, 1, MAX_N)
    _check(rate, threshold, level, interval)
    limits = _LIMITS[interval]
    ms, weights, q = analysed_count_distribution(n, float(rate), dropout or Dropout())
    above = width = lower_mean = 0.0
    for m, w in zip(ms, weights, strict=True):
        if m == 0:
            width += w  # nobody analysed: the interval is [0, 1]
            continue
        x = np.arange(m + 1)
        pmf = stats.binom.pmf(x, m, q)
        lower, upper = limits(x, m, level)
        above += w * float(pmf @ (lower > threshold))
        width += w * float(pmf @ (upper - lower))
        lower_mean += w * float(pmf @ lower)
    return PrecisionPoint(
        int(n), float(rate), float(threshold), interval, float(level), above, width, lower_mean
    )


def precision_of_design(
    design: Design,
    threshold: float,
    *,
    scenario: str | None = None,
    level: float = 0.95,
    interval: Interval = "clopper-pearson",
    n: int | None = None,
) -> PrecisionPoint:
    """:func:`precision` for a single-arm binary design at its N (or ``n``) under a scenario's rate (default:
    the first scenario outside the null) and its dropout."""
    return precision(
        design.arms.n if n is None else n,
        scenario_rate(design, scenario),
        threshold,
        level=level,
        interval=interval,
        dropout=design.dropout,
    )


def scenario_rate(design: Design, scenario: str | None = None) -> float:
    """The response rate precision is computed at: the named scenario's, or the first outside the null; for
    single-arm binary designs only (a message names endpoint.kind otherwise)."""
    if design.endpoint.kind != "binary" or design.randomized:
        raise DesignError(
            f"endpoint.kind: precision-based sizing is for single-arm binary designs, got {design.arms.kind} "
            f"{design.endpoint.kind}"
        )
    return float(_scenario(design, scenario).treatment)


def _scenario(design: Design, name: str | None) -> Any:
    if name is None:
        return next((s for s in design.scenarios if not design.is_null(s)), design.scenarios[0])
    for s in design.scenarios:
        if s.name == name:
            return s
    raise DesignError(f"scenario: no scenario named {name!r}; have {[s.name for s in design.scenarios]}")


@dataclass(frozen=True)
class PrecisionSearch:
    """The smallest N reaching the target, the smallest N from which every larger N (to n_max) reaches it, and
    the curve over N."""

    target: float
    quantity: str  # "p_lower_above" (at least the target) or "expected_width" (at most the target)
    smallest_n: int | None
    stable_n: int | None
    points: tuple[PrecisionPoint, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "quantity": self.quantity,
            "smallest_n": self.smallest_n,
            "stable_n": self.stable_n,
            "points": [p.to_dict() for p in self.points],
        }


def smallest_n_for_precision(
    rate: float,
    threshold: float,
    target: float,
    *,
    quantity: Literal["p_lower_above", "expected_width"] = "p_lower_above",
    level: float = 0.95,
    interval: Interval = "clopper-pearson",
    dropout: Dropout | None = None,
    n_min: int = 1,
    n_max: int = 500,
) -> PrecisionSearch:
    """Scan N = n_min..n_max: the smallest N whose P(lower limit > threshold) is at least ``target`` (or whose
    expected width is at most ``target``), and the smallest from which every larger N does."""
    if not isinstance(target, int | float) or not 0.0 < target < 1.0:
        raise DesignError(f"target: a probability (or width) strictly between 0 and 1, got {target!r}")
    if quantity not in ("p_lower_above", "expected_width"):
        raise DesignError(f"quantity: 'p_lower_above' or 'expected_width', got {quantity!r}")
    n_min = whole_number("n_min", n_min, 1, MAX_N)
    n_max = whole_number("n_max", n_max, n_min, min(MAX_N, 5_000))
    points = tuple(
        precision(n, rate, threshold, level=level, interval=interval, dropout=dropout)
        for n in range(n_min, n_max + 1)
    )

    def met(p: PrecisionPoint) -> bool:
        return p.p_lower_above >= target if quantity == "p_lower_above" else p.expected_width <= target

    ok = [met(p) for p in points]
    smallest = next((p.n for p, good in zip(points, ok, strict=True) if good), None)
    stable = None
    for i in range(len(points) - 1, -1, -1):
        if not ok[i]:
            break
        stable = points[i].n
    return PrecisionSearch(float(target), quantity, smallest, stable, points)
