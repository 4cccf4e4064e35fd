"""Several endpoints at once: correlated patient-level outcomes, composites, and multiplicity.

Single-arm designs test each endpoint against its own goal (H0: at or short of it, in its direction of benefit):
the exact binomial test for a binary endpoint, the one-sample t test for a continuous one, and for a count
(negative binomial with the endpoint's dispersion, Poisson at 0; a patient's count is the inverse of its
cdf at the copula's uniform) the exact test of the arm's total against the total under the goal rate, as
the nb-exact rule. The family-wise error is computed under every null configuration (each non-empty set of
endpoints at their goals, the others as the scenario says), and the least favourable one is named.

Patients are simulated, not sufficient statistics, because the endpoints are correlated within
patients: a Gaussian copula with the latent correlation matrix of the design. A binary endpoint
with response probability p is the event Z < Phi^-1(p); a continuous one is mu + sd Z. A
composite endpoint succeeds when all of its binary components do (e.g. insulin independent AND
free of severe hypoglycaemia). Each hypothesis is tested one-sided between the two arms (Fisher's
exact test, or the pooled z test, for binary; the pooled t test for continuous endpoints); the
p-values then go through the chosen multiple testing procedure (:mod:`planner.multiplicity`).
The pooled z test can exceed its level at small counts (a composite with a low control rate),
and then so can the family-wise error: Fisher's test is the default for that reason.

Trials are simulated in chunks bounded by the number of patient values they hold, with streams
from :mod:`planner.randomness`: the same seed gives the same numbers whatever the chunk size.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from planner.defaults import DEFAULT_N_SIMS, DEFAULT_SEED
from planner.errors import DesignError
from planner.multiple_spec import Composite, EndpointSpec, MultipleEndpoints
from planner.randomness import BLOCK_SIZE, BlockStreams
from planner.results import Estimate
from planner.rules.binary import fisher_pvalues

__all__ = [
    "EndpointSpec",
    "Composite",
    "MultipleEndpoints",
    "MultipleResult",
    "simulate_multiple",
    "familywise_error",
    "least_favourable",
    "fwer_scenario",
]

MAX_VALUES_PER_CHUNK = 1 << 22  # patient values (trials x patients x endpoints) held at once


@dataclass(frozen=True)
class MultipleResult:
    hypotheses: tuple[str, ...]
    power: tuple[Estimate, ...]  # P(hypothesis rejected) after the multiple testing procedure
    unadjusted: tuple[Estimate, ...]  # P(p <= alpha), each hypothesis on its own
    all_rejected: Estimate  # every hypothesis rejected (e.g. all key secondaries)
    any_rejected: Estimate
    n_sims: int
    seed: int

    def to_dict(self) -> dict:
        return {
            "hypotheses": list(self.hypotheses),
            "power": [e.to_dict() for e in self.power],
            "unadjusted": [e.to_dict() for e in self.unadjusted],
            "all_rejected": self.all_rejected.to_dict(),
            "any_rejected": self.any_rejected.to_dict(),
            "n_sims": self.n_sims,
            "seed": self.seed,
        }


def _count_table(mean: float, dispersion: float) -> np.ndarray:
    """The cdf of a participant's count (negative binomial with mean ``mean`` and variance mean + k mean^2, or
    Poisson) at 0, 1, ... until it is within 1e-12 of 1."""
    dist = (
        stats.poisson(mean)
        if dispersion == 0.0
        else stats.nbinom(1 / dispersion, 1 / (1 + dispersion * mean))
    )
    top = int(dist.isf(1e-12)) + 2
    return np.asarray(dist.cdf(np.arange(top)))


def _arm_outcomes(me: MultipleEndpoints, truth: dict, arm: int, streams: BlockStreams, size: int):
    """Per endpoint and composite: (events, total or mean, sum of squares or None) of one arm, shape (size,)."""
    n, k = me.sizes[arm], len(me.endpoints)
    z = streams(f"patients.{('treatment', 'control')[arm]}").standard_normal((size, n, k)) @ me._chol.T
    out, binary = {}, {}
    for j, e in enumerate(me.endpoints):
        value = truth[e.name][arm]
        if e.kind == "binary":
            success = z[:, :, j] < special.ndtri(value)
            binary[e.name] = success
            out[e.name] = (success.sum(axis=1), None)
        elif e.kind == "count":  # the inverse cdf at the copula's uniform
            assert e.exposure is not None
            table = _count_table(value * e.exposure, e.dispersion)
            counts = np.searchsorted(table, special.ndtr(z[:, :, j]), side="left")
            out[e.name] = (counts.sum(axis=1), None)
        else:
            y = value + e.sd * z[:, :, j]
            mean = y.mean(axis=1)
            dy = y - mean[:, None]
            if me.ancova:  # a baseline with correlation rho to the outcome's latent normal
                rho = e.baseline_correlation or 0.0
                noise = streams(f"patients.{('treatment', 'control')[arm]}.baseline.{j}").standard_normal(
                    (size, n)
                )
                x = rho * z[:, :, j] + np.sqrt(1.0 - rho * rho) * noise
                x_mean = x.mean(axis=1)
                dx = x - x_mean[:, None]
                out[e.name] = (mean, (dy**2).sum(axis=1), x_mean, (dx**2).sum(axis=1), (dx * dy).sum(axis=1))
            else:
                out[e.name] = (mean, (dy**2).sum(axis=1))
    for c in me.composites:
        success = np.logical_and.reduce([binary[x] for x in c.all_of])
        out[c.name] = (success.sum(axis=1), None)
    return out


def _single_arm_p_values(me: MultipleEndpoints, out) -> np.ndarray:
    """One-sided p-values of each hypothesis against its endpoint's goal (module docstring)."""
    (n,) = me.sizes
    cols = []
    for h in me.hypotheses:
        e = me._endpoint(h)
        goal = float(e.goal)  # type: ignore[arg-type]
        value, ss = out[h]
        lower = e.better == "lower"
        if e.kind == "binary":
            cols.append(stats.binom.cdf(value, n, goal) if lower else stats.binom.sf(value - 1, n, goal))
        elif e.kind == "count":
            mean = n * (e.exposure or 0.0) * goal
            null = (
                stats.poisson(mean)
                if e.dispersion == 0.0
                else stats.nbinom(n / e.dispersion, 1 / (1 + e.dispersion * mean / n))
            )
            cols.append(null.cdf(value) if lower else null.sf(value - 1))
        else:
            sign = -1.0 if lower else 1.0
            with np.errstate(divide="ignore", invalid="ignore"):
                stat = sign * (value - goal) / np.sqrt(ss / (n - 1) / n)
            cols.append(special.stdtr(n - 1, -stat))
    return np.column_stack(cols)


def _p_values(me: MultipleEndpoints, t_out, c_out) -> np.ndarray:
    if me.single_arm:
        return _single_arm_p_values(me, t_out)
    n1, n2 = me.sizes
    cols = []
    for h in me.hypotheses:
        (a, ss_a), (b, ss_b) = t_out[h][:2], c_out[h][:2]
        kind = "binary" if ss_a is None else "continuous"
        if kind == "continuous" and me.ancova:
            cols.append(_ancova_p(me, h, t_out[h], c_out[h]))
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            if kind == "binary" and me.binary_test == "fisher":
                cols.append(fisher_pvalues(n1, n2)[a, b])
            elif kind == "binary":
                pooled = (a + b) / (n1 + n2)
                var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
                stat = np.where(var > 0, (a / n1 - b / n2) / np.sqrt(var), 0.0)
                cols.append(special.ndtr(-stat))
            else:
                sign = -1.0 if me._endpoint(h).better == "lower" else 1.0
                df = n1 + n2 - 2
                stat = sign * (a - b) / np.sqrt((ss_a + ss_b) / df * (1 / n1 + 1 / n2))
                cols.append(special.stdtr(df, -stat))
    return np.column_stack(cols)


def _ancova_p(me: MultipleEndpoints, h: str, t: tuple, c: tuple) -> np.ndarray:
    """One-sided p-value of the treatment effect adjusted for the baseline (pooled within-arm slope; Senn 2007):
    effect = (ybar_t - ybar_c) - b (xbar_t - xbar_c), df n1 + n2 - 3, as the ancova rule."""
    n1, n2 = me.sizes
    yt, syy_t, xt, sxx_t, sxy_t = t
    yc, syy_c, xc, sxx_c, sxy_c = c
    sxx, sxy, syy = sxx_t + sxx_c, sxy_t + sxy_c, syy_t + syy_c
    df = n1 + n2 - 3
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = sxy / sxx
        dx = xt - xc
        effect = (yt - yc) - slope * dx
        se = np.sqrt((syy - slope * sxy) / df * (1 / n1 + 1 / n2 + dx * dx / sxx))
        sign = -1.0 if me._endpoint(h).better == "lower" else 1.0
        return np.asarray(special.stdtr(df, -sign * effect / se))


def _check_truth(me: MultipleEndpoints, truth: dict) -> None:
    for e in me.endpoints:
        if e.name not in truth:
            raise DesignError(f"truth: no values for endpoint {e.name!r}")
        values = truth[e.name]
        if len(values) != len(me.sizes):
            want = "(value,)" if me.single_arm else "(treatment, control)"
            raise DesignError(f"truth.{e.name}: need {want}, got {values!r}")
        if e.kind == "binary" and not all(0.0 <= v <= 1.0 for v in values):
            raise DesignError(f"truth.{e.name}: probabilities must lie in [0, 1], got {values!r}")
        if e.kind == "count" and not all(v >= 0.0 for v in values):
            raise DesignError(f"truth.{e.name}: event rates cannot be negative, got {values!r}")


def _p_value_chunks(me: MultipleEndpoints, truth: dict, n_sims: int, seed: int, max_values: int):
    """One-sided p-values (trials x hypotheses) of simulated trials, chunk by chunk."""
    chunk = max(1, max_values // (max(me.sizes) * len(me.endpoints)))
    for block_start in range(0, n_sims, BLOCK_SIZE):
        streams = BlockStreams(seed, block_start // BLOCK_SIZE)
        block_stop = min(block_start + BLOCK_SIZE, n_sims)
        for lo in range(block_start, block_stop, chunk):
            size = min(chunk, block_stop - lo)
            treated = _arm_outcomes(me, truth, 0, streams, size)
            control = None if me.single_arm else _arm_outcomes(me, truth, 1, streams, size)
            yield _p_values(me, treated, control)


def simulate_multiple(
    me: MultipleEndpoints,
    truth: dict[str, tuple[float, ...]],
    *,
    n_sims: int = DEFAULT_N_SIMS,
    seed: int = DEFAULT_SEED,
    max_values: int = MAX_VALUES_PER_CHUNK,
) -> MultipleResult:
    """Power per hypothesis after multiplicity adjustment, and of all hypotheses together, each with its MCSE."""
    _check_truth(me, truth)
    if not 100 <= n_sims <= 10**8:
        raise DesignError(f"n_sims: must be between 100 and 100,000,000, got {n_sims}")
    h = len(me.hypotheses)
    adjusted = np.zeros(h, dtype=np.int64)
    raw = np.zeros(h, dtype=np.int64)
    all_count = any_count = 0
    for p in _p_value_chunks(me, truth, n_sims, seed, max_values):
        rej = me.adjust(p)
        adjusted += rej.sum(axis=0)
        raw += (p <= me.alpha).sum(axis=0)
        all_count += int(rej.all(axis=1).sum())
        any_count += int(rej.any(axis=1).sum())
    est = lambda c: Estimate.from_count(int(c), n_sims)  # noqa: E731
    return MultipleResult(
        me.hypotheses,
        tuple(est(c) for c in adjusted),
        tuple(est(c) for c in raw),
        est(all_count),
        est(any_count),
        n_sims,
        seed,
    )


def familywise_error(
    me: MultipleEndpoints,
    truth: dict[str, tuple[float, ...]],
    *,
    n_sims: int = DEFAULT_N_SIMS,
    seed: int = DEFAULT_SEED,
) -> list[dict]:
    """FWER under every null configuration: each non-empty set of endpoints with treatment = control (single
    arm: at their goals).

    A hypothesis is a true null when all endpoints it involves are null. Returns, per configuration, the
    probability of rejecting at least one true null with its MCSE (:func:`least_favourable` picks the largest).
    """
    _check_truth(me, truth)
    involved = {
        h: (
            {h}
            if h in {e.name for e in me.endpoints}
            else set(next(c for c in me.composites if c.name == h).all_of)
        )
        for h in me.hypotheses
    }
    names = [e.name for e in me.endpoints]
    out = []
    for size in range(1, len(names) + 1):
        for nulls in itertools.combinations(names, size):
            if me.single_arm:
                t = {k: ((float(me._endpoint(k).goal),) if k in nulls else v) for k, v in truth.items()}  # type: ignore[arg-type]
            else:
                t = {k: ((v[1], v[1]) if k in nulls else v) for k, v in truth.items()}
            true_null = [i for i, h in enumerate(me.hypotheses) if involved[h] <= set(nulls)]
            if not true_null:
                continue
            count = _count_null_rejections(me, t, true_null, n_sims, seed)
            out.append(
                {
                    "null_endpoints": list(nulls),
                    "true_null_hypotheses": [me.hypotheses[i] for i in true_null],
                    "fwer": Estimate.from_count(count, n_sims),
                }
            )
    return out


def _count_null_rejections(me, truth, true_null, n_sims, seed) -> int:
    return sum(
        int(me.adjust(p)[:, true_null].any(axis=1).sum())
        for p in _p_value_chunks(me, truth, n_sims, seed, MAX_VALUES_PER_CHUNK)
    )


def least_favourable(configs: list[dict], alpha: float) -> dict:
    """The null configuration with the largest family-wise error, and the sentence every output prints about it
    (flagged when above alpha by more than 2 MCSE)."""
    worst = max(configs, key=lambda c: c["fwer"].value)
    est = worst["fwer"]
    where = ", ".join(worst["null_endpoints"])
    above = est.value > alpha + 2 * est.mcse
    sentence = (
        f"{'FAMILY-WISE ERROR ABOVE ALPHA' if above else 'The family-wise error is within alpha'}: the least "
        f"favourable null configuration (no effect on {where}) has FWER {est.value:.4f} (MCSE {est.mcse:.4f}) "
        + (f"> alpha {alpha:g} + 2 MCSE" if above else f"<= alpha {alpha:g} + 2 MCSE")
        + f", over {len(configs)} configurations."
    )
    return {"configuration": worst, "exceeds": above, "finding": sentence}


def fwer_scenario(design: Any) -> Any:
    """The scenario whose endpoint values the null configurations start from: the first with an effect on some
    endpoint (so each configuration leaves the other endpoints at that effect), else the first with values."""
    me = design.multiple_spec()
    with_values = [s for s in design.scenarios if s.endpoints]
    for sc in with_values:
        for e in me.endpoints:
            values = sc.endpoints[e.name]
            null = (float(e.goal),) if me.single_arm else (values[1], values[1])  # type: ignore[arg-type]
            if tuple(values) != null:
                return sc
    return with_values[0]
