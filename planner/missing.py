"""Missing outcomes at the final analysis of a single-arm design: multiple imputation under MAR with a delta
adjustment (MNAR), and tipping-point analyses -- how far the missing outcomes must depart from MAR before the
conclusion changes.

Binary endpoint, x responders among m observed, r missing (n = m + r):

* tipping point by enumeration: every number y = 0..r of responders among the missing, and the design's own
  rule on x + y of n; the tipping count is where the conclusion changes (Yan, Lee and Li 2009);
* multiple imputation: each imputation draws p* ~ Beta(x + 1, m - x + 1) (the posterior under a uniform prior:
  a proper imputation), shifts it on the logit scale by ``delta`` (0: MAR), and draws the r missing outcomes
  as Bernoulli(p*_delta); the completed-data proportions and their variances p(1 - p) / n are combined by
  Rubin's rules, and the one-sided test uses Rubin's (1987) degrees of freedom;
* the tipping delta: the smallest shift (on a grid) at which the imputation's conclusion changes.

Continuous endpoint, observed mean, sd and m, r missing, imputed from N(mu*, s^2) with mu* ~ N(mean, s^2 / m)
and shifted by ``delta``: as the number of imputations grows the combined estimate tends to mean + (r / n)
delta and Rubin's total variance to T(delta) = s^2 / m + m r delta^2 / (n^2 (n - 1)) (the within variance
s^2 / n + m r delta^2 / (n^2 (n - 1)) -- the completed data's sum of squares gains the shift between the
observed and imputed groups -- plus the between (r / n)^2 s^2 (1 / m + 1 / r)); the tipping delta solves
(mean + (r / n) delta - goal) / sqrt(T(delta)) = z_{1-alpha} (its sign turned when lower is better).

References: Rubin DB. Multiple Imputation for Nonresponse in Surveys. Wiley 1987. Yan X, Lee S, Li N. Missing
data handling methods in medical device clinical trials. J Biopharm Stat 2009;19:1085-98. Ratitch B, O'Kelly M,
Tosiello R. Missing data in clinical trials: from clinical assumptions to statistical analysis using
pattern mixture models. Pharm Stat 2013;12:337-47.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from planner.design import Design
from planner.errors import DesignError

__all__ = [
    "ImputationResult",
    "TippingPoint",
    "impute_binary",
    "impute_continuous",
    "tipping_point_binary",
    "tipping_delta_continuous",
    "tipping_delta_binary",
]


@dataclass(frozen=True)
class ImputationResult:
    """Rubin's rules over M imputations: the combined estimate, its total variance, the degrees of freedom and
    the one-sided p-value against the goal (in the direction of benefit)."""

    estimate: float
    variance: float
    df: float
    p_value: float
    success: bool
    imputations: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _rubin(q: np.ndarray, u: np.ndarray, goal: float, alpha: float, sign: float) -> ImputationResult:
    m = q.size
    q_bar, u_bar, b = float(q.mean()), float(u.mean()), float(q.var(ddof=1)) if m > 1 else 0.0
    total = u_bar + (1.0 + 1.0 / m) * b
    if b > 0.0:
        ratio = u_bar / ((1.0 + 1.0 / m) * b)
        df = (m - 1) * (1.0 + ratio) ** 2
    else:
        df = math.inf
    z = (
        sign * (q_bar - goal) / math.sqrt(total)
        if total > 0
        else (math.inf if sign * (q_bar - goal) > 0 else -math.inf)
    )
    p = float(stats.norm.sf(z)) if math.isinf(df) else float(stats.t.sf(z, df))
    return ImputationResult(q_bar, total, df, p, p <= alpha, m)


def _check_counts(x: int, m: int, r: int) -> None:
    for name, what, value in (
        ("observed", "responders", x),
        ("observed", "observed", m),
        ("missing", "missing", r),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise DesignError(f"{name}: {what} must be a whole number at least 0, got {value!r}")
    if x > m:
        raise DesignError(f"observed: {x} responders of {m} observed: more responders than observed")
    if m < 1:
        raise DesignError(f"observed: at least one observed outcome, got {m}")


def impute_binary(
    x: int,
    m: int,
    r: int,
    goal: float,
    *,
    delta: float = 0.0,
    imputations: int = 100,
    seed: int = 1,
    alpha: float = 0.025,
    better: str = "higher",
) -> ImputationResult:
    """Multiple imputation of r missing binary outcomes (module docstring), delta on the logit scale."""
    _check_counts(x, m, r)
    rng = np.random.default_rng(seed)
    n = m + r
    p_star = rng.beta(x + 1, m - x + 1, imputations)
    shifted = special.expit(special.logit(p_star) + delta)
    y = rng.binomial(r, shifted)
    q = (x + y) / n
    u = q * (1 - q) / n
    return _rubin(q, u, goal, alpha, -1.0 if better == "lower" else 1.0)


def impute_continuous(
    mean: float,
    sd: float,
    m: int,
    r: int,
    goal: float,
    *,
    delta: float = 0.0,
    imputations: int = 100,
    seed: int = 1,
    alpha: float = 0.025,
    better: str = "higher",
) -> ImputationResult:
    """Multiple imputation of r missing continuous outcomes (module docstring), shifted by delta: each
    imputation draws mu* ~ N(mean, sd^2 / m) and the r values, and analyses the completed data's mean."""
    if not (math.isfinite(sd) and sd > 0):
        raise DesignError(f"sd: a positive standard deviation, got {sd!r}")
    _check_counts(0, m, r)
    rng = np.random.default_rng(seed)
    n = m + r
    mu = mean + sd / math.sqrt(m) * rng.standard_normal(imputations)
    values = mu[:, None] + delta + sd * rng.standard_normal((imputations, r))
    completed_mean = (m * mean + values.sum(axis=1)) / n
    # the completed data's within sum of squares: the observed (m - 1) sd^2, the imputed ones', and between
    ss = (m - 1) * sd**2 + ((values - values.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    ss += m * r / n * (mean - values.mean(axis=1)) ** 2 if r > 0 else 0.0
    u = ss / (n - 1) / n
    return _rubin(completed_mean, u, goal, alpha, -1.0 if better == "lower" else 1.0)


@dataclass(frozen=True)
class TippingPoint:
    """Where the conclusion changes: ``value`` the tipping count (binary enumeration) or delta, ``table`` the
    conclusion at each value tried."""

    kind: str  # "responders among the missing" or "delta"
    value: float | None  # None: the conclusion never changes over the values tried
    conclusion_at_mar: bool
    table: tuple[tuple[float, bool], ...]
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": self.value,
            "conclusion_at_mar": self.conclusion_at_mar,
            "table": [list(t) for t in self.table],
            "sentence": self.sentence,
        }


def tipping_point_binary(design: Design, x: int, m: int, r: int) -> TippingPoint:
    """Every number of responders among the r missing, and the design's rule (its critical count at n = m + r):
    the smallest number that gives success (the conclusion changes there)."""
    from planner.rules import make_rule

    _check_counts(x, m, r)
    if design.endpoint.kind != "binary" or design.randomized or design.interim is not None:
        raise DesignError(
            "endpoint.kind: the tipping-point enumeration is for fixed single-arm binary designs, got "
            f"{design.arms.kind} {design.endpoint.kind}"
        )
    from planner.rules.binary import SingleArmBinaryRule

    rule = make_rule(design)
    assert isinstance(rule, SingleArmBinaryRule)  # a fixed single-arm binary design (checked above)
    crit = int(rule.critical(m + r))
    table = tuple((float(y), bool(x + y >= crit)) for y in range(r + 1))
    mar = x + r * x / m >= crit  # the missing responding as the observed do
    first = next((y for y, ok in table if ok), None)
    if first is None:
        sentence = f"No number of responders among the {r} missing gives success: {x} + {r} < {crit} needed."
    elif first == 0:
        sentence = f"Success whatever the {r} missing outcomes are: {x} responders already reach {crit}."
    else:
        sentence = (
            f"Success needs at least {int(first)} responders among the {r} missing ({first / r:.0%} of them; "
            f"the observed rate is {x / m:.0%}): {x} + {int(first)} = {crit} of {m + r}."
        )
    return TippingPoint("responders among the missing", first, bool(mar), table, sentence)


def tipping_delta_continuous(
    mean: float, sd: float, m: int, r: int, goal: float, *, alpha: float = 0.025, better: str = "higher"
) -> TippingPoint:
    """The shift of the missing outcomes at which the delta-adjusted imputation's conclusion (many imputations:
    the closed form of the module docstring) changes."""
    if not (math.isfinite(sd) and sd > 0):
        raise DesignError(f"sd: a positive standard deviation, got {sd!r}")
    _check_counts(0, m, r)
    if r == 0:
        raise DesignError("missing: no missing outcomes, so no tipping point")
    from scipy.optimize import brentq

    n, z = m + r, float(special.ndtri(1.0 - alpha))
    sign = -1.0 if better == "lower" else 1.0

    def excess(delta: float) -> float:
        total = sd**2 / m + m * r * delta**2 / (n**2 * (n - 1))
        return sign * (mean + r / n * delta - goal) / math.sqrt(total) - z

    mar = excess(0.0) >= 0.0
    # the statistic moves monotonically with the shift over the relevant range; search away from MAR
    step = sign * (-1.0 if mar else 1.0) * sd
    far = step
    while excess(far) * excess(0.0) > 0 and abs(far) < 1e4 * sd:
        far *= 2.0
    if excess(far) * excess(0.0) > 0:
        return TippingPoint(
            "delta", None, bool(mar), (), "The conclusion does not change for any shift tried."
        )
    delta = float(brentq(excess, 0.0, far, xtol=1e-12))
    sentence = (
        f"The conclusion changes when the missing outcomes are shifted by {delta:+.4g} from MAR (the estimate "
        f"{mean:g} + {r}/{n} x delta against the goal {goal:g}, Rubin's variance of many imputations)."
    )
    return TippingPoint("delta", float(delta), bool(mar), (), sentence)


def tipping_delta_binary(
    x: int,
    m: int,
    r: int,
    goal: float,
    *,
    deltas: Any = None,
    imputations: int = 200,
    seed: int = 1,
    alpha: float = 0.025,
    better: str = "higher",
) -> TippingPoint:
    """The delta-adjusted imputation (logit shift) over a grid of deltas with the same seed: the first delta
    at which the conclusion differs from MAR's."""
    grid = np.linspace(-5.0, 5.0, 101) if deltas is None else np.asarray(deltas, dtype=float)
    if grid.size == 0:
        raise DesignError("deltas: an empty grid; give at least one delta")
    results = [
        impute_binary(
            x, m, r, goal, delta=float(dl), imputations=imputations, seed=seed, alpha=alpha, better=better
        )
        for dl in grid
    ]
    mar = impute_binary(x, m, r, goal, imputations=imputations, seed=seed, alpha=alpha, better=better).success
    table = tuple((float(dl), res.success) for dl, res in zip(grid, results, strict=True))
    # towards the unfavourable side when MAR succeeds, the favourable side otherwise
    ordered = sorted(table, key=lambda t: -t[0]) if mar else sorted(table, key=lambda t: t[0])
    flip = next((dl for dl, ok in ordered if ok != mar), None)
    if flip is None:
        sentence = (
            f"The conclusion under MAR ({'success' if mar else 'no success'}) holds over every delta tried."
        )
    else:
        sentence = (
            f"The conclusion under MAR ({'success' if mar else 'no success'}) changes at a logit shift of "
            f"{flip:+.2f} of the missing outcomes ({imputations} imputations, seed {seed})."
        )
    return TippingPoint("delta", flip, bool(mar), table, sentence)
