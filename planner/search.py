"""Sample-size search, power and assurance curves over N, and calibration of Bayesian thresholds.

Power at each N is exact where it is cheap -- binary designs by enumeration, pooled and
one-sample t tests by the noncentral t distribution (averaged over the completers when
dropouts are missing) -- and simulated otherwise. Simulated curves use common random
numbers: the same seed at every N, so the Monte Carlo noise is shared and the curve is
smooth, and the search moves along it without being fooled by noise between neighbours.

For binary designs power is a saw-tooth in N (the critical count jumps), so the search
reports both the smallest N that reaches the target and the smallest N beyond which power
never falls below it again (within the range searched).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import stats

from planner.design import Design
from planner.engine import evaluate, max_type_one_error
from planner.errors import DesignError
from planner.exact import exact_available

__all__ = [
    "CurvePoint",
    "SizeResult",
    "power_curve",
    "survival_curve",
    "SurvivalPoint",
    "smallest_n",
    "calibrate_threshold",
    "calibrated_design",
    "size_and_calibrate",
    "exact_t_power",
]

Metric = Literal["power", "assurance"]


@dataclass(frozen=True)
class CurvePoint:
    n: int
    value: float
    mcse: float
    exact: bool


@dataclass(frozen=True)
class SizeResult:
    """The outcome of a sample-size search."""

    target: float
    metric: str
    scenario: str | None
    n: int | None  # smallest N reaching the target (None: not reached in the range)
    n_stable: int | None  # smallest N from which on the target is met at every larger N searched
    value: float | None  # power or assurance at n
    mcse: float | None
    curve: tuple[CurvePoint, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "metric": self.metric,
            "scenario": self.scenario,
            "n": self.n,
            "n_stable": self.n_stable,
            "value": self.value,
            "mcse": self.mcse,
            "curve": [p.__dict__ for p in self.curve],
        }


def exact_t_power(design: Design, scenario) -> float | None:
    """Exact power of a pooled or one-sample t test (noncentral t), or None where not applicable.

    Dropouts under the 'missing' strategy: the power is averaged over the binomial
    distribution of the completers in each arm.
    """
    rule = design.analysis.rule
    if design.interim is not None or rule not in ("t-pooled", "one-sample-t"):
        return None
    d = design.dropout
    if d.rate > 0 and d.strategy != "missing":
        return None
    ep = design.endpoint
    sd = scenario.sd or ep.sd
    if getattr(scenario, "control_sd", None) not in (None, sd):  # unequal sds: no noncentral t
        return None
    sign = -1.0 if ep.better == "lower" else 1.0
    alpha = design.analysis.alpha

    def completers(n):
        if d.rate == 0:
            return np.array([n]), np.array([1.0])
        m = np.arange(n + 1)
        pmf = stats.binom.pmf(m, n, 1 - d.rate)
        keep = (pmf > 1e-15) & (m >= 2)
        return m[keep], pmf[keep]

    def t_power(delta, df, ncp):  # vectorized P(T'(df, ncp) > t_{1-alpha, df})
        return stats.nct.sf(stats.t.isf(alpha, df), df, ncp)

    if rule == "one-sample-t":
        ms, ws = completers(design.arms.n)
        delta = sign * (scenario.treatment - design.analysis.performance_goal)
        return float(np.sum(ws * t_power(delta, ms - 1, delta * np.sqrt(ms) / sd)))
    (m1, w1), (m2, w2) = (completers(n) for n in design.arms.sizes)
    a, b = np.meshgrid(m1, m2, indexing="ij")
    delta = sign * (scenario.treatment - scenario.control) + design.margin  # beyond the null -margin
    power = t_power(delta, a + b - 2, delta / (sd * np.sqrt(1 / a + 1 / b)))
    return float(np.sum(np.outer(w1, w2) * power))


def _scenario(design: Design, name: str | None):
    if name is None:
        alternatives = [s for s in design.scenarios if not design.is_null(s)]
        if not alternatives:
            raise DesignError("scenario: the design has no alternative scenario to compute power under")
        return alternatives[0]
    for s in design.scenarios:
        if s.name == name:
            return s
    raise DesignError(
        f"scenario: no scenario named {name!r}; have {', '.join(s.name for s in design.scenarios)}"
    )


def _search_base(design: Design, metric: Metric, scenario) -> Design:
    """The design a search evaluates at each N: the one scenario, and no design prior for power (no assurance
    is computed at every N)."""
    changes: dict = {"scenarios": [scenario.model_dump()]}
    if metric == "power":
        changes["design_prior"] = None
    return design.with_changes(changes)


def _point(base: Design, n: int, metric: Metric, scenario, n_sims: int, seed: int) -> CurvePoint:
    """Power or assurance of ``base`` (from _search_base) at total N = n."""
    d = base.with_n(n)
    if metric == "power":
        exact_t = exact_t_power(d, scenario)
        if exact_t is not None:
            return CurvePoint(int(n), exact_t, 0.0, True)
        est = evaluate(d, n_sims=n_sims, seed=seed, type_one_error=False).results[0].success
    else:
        if d.design_prior is None:
            raise DesignError("metric: 'assurance' needs a design_prior in the design")
        est = evaluate(d, n_sims=n_sims, seed=seed, type_one_error=False).assurance
    return CurvePoint(int(n), est.value, est.mcse, est.exact)


def power_curve(
    design: Design,
    ns,
    *,
    metric: Metric = "power",
    scenario: str | None = None,
    n_sims: int | None = None,
    seed: int | None = None,
) -> tuple[CurvePoint, ...]:
    """Power (or assurance) at each total sample size in ``ns`` the design accepts (N >= ``design.min_n``:
    an event-driven design needs at least its events), with common random numbers."""
    sc = _scenario(design, scenario) if metric == "power" else design.scenarios[0]
    n_sims, seed = design.simulation_settings(n_sims, seed)
    base = _search_base(design, metric, sc)
    return tuple(_point(base, int(n), metric, sc, n_sims, seed) for n in ns if int(n) >= design.min_n)


@dataclass(frozen=True)
class SurvivalPoint:
    """A time-to-event design at one number of events or participants: power and what the analysis sees."""

    at: int
    power: float
    power_mcse: float
    expected_time: float
    expected_time_mcse: float
    expected_events: float
    expected_events_mcse: float


def survival_curve(
    design: Design,
    over: Literal["events", "n"],
    values,
    *,
    scenario: str | None = None,
    n_sims: int | None = None,
    seed: int | None = None,
) -> tuple[SurvivalPoint, ...]:
    """Power, expected calendar time of the analysis and expected events of a time-to-event design under one
    scenario at each number of events (``over='events'``, event-driven designs; at most N) or total N (at least
    the events), with common random numbers (the same seed at every point)."""
    ep = design.endpoint
    if ep.kind != "time-to-event":
        raise DesignError(f"over: survival curves need a time-to-event endpoint, got {ep.kind!r}")
    if over == "events" and ep.events is None:
        raise DesignError("over: 'events' needs an event-driven design (endpoint.events)")
    sc = _scenario(design, scenario)
    n_sims, seed = design.simulation_settings(n_sims, seed)
    path = "endpoint.events" if over == "events" else "arms.n"
    keep = [
        int(v)
        for v in values
        if (0 < int(v) <= design.arms.n if over == "events" else int(v) >= design.min_n)
    ]
    points = []
    for v in keep:
        d = design.with_changes({path: v, "scenarios": [sc.model_dump()], "design_prior": None})
        r = evaluate(d, n_sims=n_sims, seed=seed, type_one_error=False).results[0]
        s = r.survival
        points.append(
            SurvivalPoint(
                v,
                r.success.value,
                r.success.mcse,
                s.expected_time,
                s.expected_time_mcse,
                s.expected_events,
                s.expected_events_mcse,
            )
        )
    return tuple(points)


def _check_target(target: float) -> None:
    if not (isinstance(target, (int, float)) and 0.0 < target < 1.0):
        raise DesignError(f"target: must lie strictly between 0 and 1, got {target!r}")


def smallest_n(
    design: Design,
    target: float,
    *,
    metric: Metric = "power",
    scenario: str | None = None,
    n_min: int | None = None,
    n_max: int | None = None,
    n_sims: int | None = None,
    seed: int | None = None,
) -> SizeResult:
    """The smallest total N whose power (or assurance) reaches ``target``.

    Exact designs (binary, t tests): every N in [n_min, n_max] is scanned, so the saw-tooth of
    discrete power is visible and ``n_stable`` is reported. Simulated designs: bisection on N with
    common random numbers, then the estimate at the chosen N with its MCSE.
    """
    _check_target(target)
    arms = len(design.arms.sizes)
    lo = (
        n_min
        if n_min is not None
        else max((4 if design.endpoint.kind == "continuous" else 2) * arms, design.min_n)
    )
    hi = n_max if n_max is not None else max(10 * design.arms.n, 200)
    if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo < hi <= 100_000):
        raise DesignError(f"n_min, n_max: need whole numbers 1 <= n_min < n_max <= 100000, got {lo}, {hi}")
    sc = _scenario(design, scenario) if metric == "power" else design.scenarios[0]
    n_sims, seed = design.simulation_settings(n_sims, seed)
    base = _search_base(design, metric, sc)
    probe = base.with_n(lo)
    scan = (
        design.interim is None
        and metric == "power"
        and (
            (probe.endpoint.kind == "binary" and exact_available(probe.with_n(hi)))
            or exact_t_power(probe, sc) is not None
        )
    )
    if scan:
        curve = tuple(_point(base, n, metric, sc, n_sims, seed) for n in range(lo, hi + 1))
        values = np.array([p.value for p in curve])
        meets = values >= target
        first = int(np.argmax(meets)) if meets.any() else None
        stable = None
        if meets[-1]:
            below = np.flatnonzero(~meets)
            stable = curve[below[-1] + 1].n if below.size else curve[0].n
        if first is None:
            return SizeResult(target, metric, getattr(sc, "name", None), None, None, None, None, curve)
        p = curve[first]
        return SizeResult(target, metric, getattr(sc, "name", None), p.n, stable, p.value, 0.0, curve)
    # bisection with common random numbers
    cache: dict[int, CurvePoint] = {}

    def at(n: int) -> CurvePoint:
        if n not in cache:
            cache[n] = _point(base, n, metric, sc, n_sims, seed)
        return cache[n]

    if at(hi).value < target:
        return SizeResult(
            target,
            metric,
            getattr(sc, "name", None),
            None,
            None,
            at(hi).value,
            at(hi).mcse,
            tuple(sorted(cache.values(), key=lambda p: p.n)),
        )
    a, b = lo, hi
    if at(a).value >= target:
        b = a
    while b - a > 1:
        mid = (a + b) // 2
        if at(mid).value >= target:
            b = mid
        else:
            a = mid
    p = at(b)
    return SizeResult(
        target,
        metric,
        getattr(sc, "name", None),
        p.n,
        None,
        p.value,
        p.mcse,
        tuple(sorted(cache.values(), key=lambda q: q.n)),
    )


def _null_scenario_dicts(design: Design, null_values) -> list[dict]:
    nulls = [
        {"name": f"null {i}", "treatment": float(v)} | ({"control": float(v)} if design.randomized else {})
        for i, v in enumerate(null_values)
    ]
    if not nulls:
        raise DesignError("null_values: give at least one null value")
    return nulls


def calibrate_threshold(
    design: Design,
    alpha: float | None = None,
    null_values=None,
    *,
    n_sims: int | None = None,
    seed: int | None = None,
    tolerance: float = 1e-6,
    mcse_margin: float = 2.0,
) -> dict[str, Any]:
    """The smallest posterior-probability threshold whose maximum type I error over the composite null is <= alpha.

    The null is the design's own, on the estimand scale and including its boundary (the guard of
    :mod:`planner.type_one_error`: exact for binary designs, including interim looks and dropout);
    ``null_values`` adds treatment values (single arm) or common values (randomized) to check as well,
    each of which must lie in the null. Simulated designs keep a safety margin: the threshold is accepted
    when the maximum plus ``mcse_margin`` Monte Carlo SEs is at most alpha. Bisection on the threshold
    (the type I error falls as the threshold rises); the achieved maximum is reported with its MCSE.
    """
    if not design.rule_info.bayesian:
        raise DesignError(f"analysis.rule: calibration needs a Bayesian rule, got {design.analysis.rule!r}")
    alpha = design.analysis.alpha if alpha is None else alpha
    if not (isinstance(alpha, (int, float)) and 0.0 < alpha < 0.5):
        raise DesignError(f"alpha: must lie strictly between 0 and 0.5, got {alpha!r}")
    extra = _null_scenario_dicts(design, null_values) if null_values is not None else None
    if extra is not None:
        probe = design.with_changes({"scenarios": extra, "design_prior": None})
        outside = [s.treatment for s in probe.scenarios if not probe.is_null(s)]
        if outside:
            raise DesignError(f"null_values: {outside} are not in the null hypothesis of the design")

    def worst(threshold: float) -> tuple[float, float, bool, Any]:
        d = design.with_changes(
            {"analysis.threshold": float(threshold), "analysis.alpha": float(alpha), "design_prior": None}
        )
        check = max_type_one_error(d, n_sims=n_sims, seed=seed)
        value, mcse, exact = check.value, check.mcse, check.exact
        if extra is not None:
            res = evaluate(
                d.with_changes({"scenarios": extra}), n_sims=n_sims, seed=seed, type_one_error=False
            )
            top = max(res.results, key=lambda r: r.success.value)
            if top.success.value > value:
                value, mcse, exact = top.success.value, top.success.mcse, top.success.exact
        return value, mcse, exact, check

    def ok(threshold: float) -> bool:
        value, mcse, exact, _ = worst(threshold)
        return value <= alpha * (1 + 1e-9) if exact else value + mcse_margin * mcse <= alpha

    lo, hi = 0.5, 1.0 - 1e-9
    if not ok(hi):
        value, mcse, _, _ = worst(hi)
        raise DesignError(
            f"alpha: {alpha:g} cannot be reached: even a threshold of 1 - 1e-9 leaves a type I error "
            f"of {value:.4g} (MCSE {mcse:.2g})"
        )
    if ok(lo):
        hi = lo
    while hi - lo > tolerance:
        mid = 0.5 * (lo + hi)
        if ok(mid):
            hi = mid
        else:
            lo = mid
    value, mcse, exact, check = worst(hi)
    if design.endpoint.kind == "binary" and exact_available(design):
        from planner.exact import exact_power
        from planner.rules import make_rule

        d = design.with_changes({"analysis.threshold": float(hi), "design_prior": None})
        control = 1e-12 if design.randomized else None
        if float(exact_power(d, make_rule(d), 1.0, control)[0]) == 0.0:
            raise DesignError(
                f"alpha: {alpha:g} cannot be reached with N = {design.arms.n}: the only thresholds "
                "that hold it let no trial succeed, even with every participant responding"
            )
    return {
        "threshold": hi,
        "max_type_one_error": value,
        "mcse": mcse,
        "exact": exact,
        "alpha": alpha,
        "at": {"treatment": check.at.treatment, "control": check.at.control},
        "null_values": None if null_values is None else [float(v) for v in null_values],
    }


def calibrated_design(design: Design, **kwargs) -> tuple[Design, dict[str, Any]]:
    """The design with its threshold calibrated (see :func:`calibrate_threshold`), and the calibration."""
    out = calibrate_threshold(design, **kwargs)
    return design.with_changes({"analysis.threshold": out["threshold"]}), out


def size_and_calibrate(
    design: Design,
    target: float,
    *,
    scenario: str | None = None,
    n_min: int | None = None,
    n_max: int | None = None,
    n_sims: int | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """Joint search over N and threshold: the smallest N whose calibrated threshold gives power >= target.

    At each N the threshold is calibrated to alpha over the composite null, then the power under
    ``scenario`` is computed with it. Binary designs are scanned over every N (power is a saw-tooth);
    others by bisection on N with common random numbers.
    """
    _check_target(target)
    sc = _scenario(design, scenario)
    lo = n_min if n_min is not None else 10
    hi = n_max if n_max is not None else max(4 * design.arms.n, 100)
    if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo < hi <= 100_000):
        raise DesignError(f"n_min, n_max: need whole numbers 1 <= n_min < n_max <= 100000, got {lo}, {hi}")
    cache: dict[int, dict[str, Any]] = {}

    def at(n: int) -> dict[str, Any]:
        if n not in cache:
            d, cal = calibrated_design(design.with_n(int(n)), n_sims=n_sims, seed=seed)
            power = (
                evaluate(
                    d.with_changes({"scenarios": [sc.model_dump()], "design_prior": None}),
                    n_sims=n_sims,
                    seed=seed,
                    type_one_error=False,
                )
                .results[0]
                .success
            )
            cache[n] = {
                "n": n,
                "threshold": cal["threshold"],
                "max_type_one_error": cal["max_type_one_error"],
                "type_one_error_mcse": cal["mcse"],
                "power": power.value,
                "power_mcse": power.mcse,
            }
        return cache[n]

    if design.endpoint.kind == "binary":
        found = next((at(n) for n in range(lo, hi + 1) if at(n)["power"] >= target), None)
    else:
        found = None
        if at(hi)["power"] >= target:
            a, b = lo, hi
            if at(a)["power"] >= target:
                b = a
            while b - a > 1:
                mid = (a + b) // 2
                a, b = (a, mid) if at(mid)["power"] >= target else (mid, b)
            found = at(b)
    return {"target": target, "scenario": sc.name, "found": found, "curve": [cache[n] for n in sorted(cache)]}
