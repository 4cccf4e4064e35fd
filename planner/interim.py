"""Probability of success and conditional power given observed interim data (binary designs exact; continuous
designs in closed form with the sd known at its interim estimate).

At an interim look with x responders of m analysed (per arm), the final analysis of the design succeeds when
the final counts meet the design's rule at its planned sizes (its critical counts, :mod:`planner.rules`):
x + Y >= c(N) in one arm, and x_1 + Y_1 >= c(N_1, N_2, x_2 + Y_2) with two, Y the responders among the r = N - m
participants still to be analysed. Then

* conditional power: P(final success | data, p), Y ~ Binomial(r, p), under the current trend (p = x / m per
  arm) and under each scenario of the design (its planned effect);
* predictive probability (probability of success given the data): the conditional power averaged over the
  posterior of p, Y ~ Beta-binomial mixtures, under the analysis prior (uniform where the design has none)
  and, when the design has one, under the design prior updated with the data.

Continuous endpoints (fixed designs; one-sample-t, t-pooled, welch or posterior-probability): the observed
mean, sd and number analysed per arm. The final rule is written as a critical value c of the final estimate
E (the mean, or the difference treatment - control), found by bisection on the rule itself with each arm's
sum of squares at its observed sd (success iff E is at or beyond c in the direction of benefit). With the sd
known at its interim value, E is normal given the arms' means: E = A + a_t mu_t - a_c mu_c + noise, a = r / N
the fraction of each arm still to come; the conditional power is a normal tail. The predictive probability
averages it over the posterior: of the difference under the analysis prior (a normal mixture, flat if none;
the control mean integrated out under a flat prior, so its posterior given the difference is normal), or of
each arm's mean under the design prior. Each is a finite sum of normal tails. The uncertainty of the sd (the
t posterior and the final t's variance estimate) is not propagated, as in the usual conditional power
(e.g. rpact's getConditionalPower for means). Dropouts ('missing' strategy) lower each arm's final analysed
size to round(N (1 - rate)).

Dropouts are taken as the final analysis counts them: with the 'failure' strategy a planned response rate is
thinned to p (1 - d), and the observed counts are those of the analysis (dropouts so far as non-responders).
Spiegelhalter DJ, Freedman LS, Blackburn PR. Control Clin Trials 1986;7:8-17 (predictive power);
Lan KKG, Simon R, Halperin M. Commun Stat Sequential Anal 1982;1:207-19 (conditional power).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from planner.design import Design
from planner.errors import DesignError

__all__ = ["InterimPrediction", "interim_prediction", "parse_observed", "unavailable"]

DEFAULT_FUTILITY = 0.1  # stop for futility below this predictive probability, unless the design sets one


@dataclass(frozen=True)
class InterimPrediction:
    """What the observed interim data say about the final analysis."""

    observed: tuple[tuple[Any, ...], ...]  # (responders, analysed) or (mean, sd, analysed) per arm
    planned: tuple[int, ...]  # the final analysis' participants per arm
    predictive_analysis_prior: float
    predictive_design_prior: float | None
    conditional_power_trend: float
    conditional_power_planned: dict[str, float]
    futility_threshold: float
    decision: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "observed": [
                dict(
                    zip(
                        ("responders", "analysed") if len(o) == 2 else ("mean", "sd", "analysed"),
                        o,
                        strict=True,
                    )
                )
                for o in self.observed
            ],
            "planned": list(self.planned),
            "predictive_probability": {
                "analysis_prior": self.predictive_analysis_prior,
                "design_prior": self.predictive_design_prior,
            },
            "conditional_power": {
                "current_trend": self.conditional_power_trend,
                **self.conditional_power_planned,
            },
            "futility_threshold": self.futility_threshold,
            "decision": self.decision,
        }


def parse_observed(text: str, kind: str = "binary") -> tuple[tuple[Any, ...], ...]:
    """Binary: '12/20' (one arm) or '12/20,6/20' (treatment, control) -> ((12, 20),) or ((12, 20), (6, 20)).
    Continuous: mean/sd/analysed per arm, '-1.6/0.7/20' or '-1.6/0.7/20,-0.4/0.8/20'."""
    arms: list[tuple[Any, ...]] = []
    for part in str(text).split(","):
        pieces = part.strip().split("/")
        try:
            if kind == "continuous":
                mean, sd, m = pieces
                arms.append((float(mean), float(sd), int(m)))
            else:
                x, m = pieces
                arms.append((int(x), int(m)))
        except ValueError:
            example = (
                "mean/sd/analysed per arm, e.g. -1.6/0.7/20 or -1.6/0.7/20,-0.4/0.8/20"
                if kind == "continuous"
                else "responders/analysed per arm, e.g. 12/20 or 12/20,6/20"
            )
            raise DesignError(f"observed: give {example} (treatment, control); got {text!r}") from None
    return tuple(arms)


def unavailable(design: Design) -> str | None:
    """Why interim predictions are not available for ``design`` (a message naming the field), or None."""
    kind = design.endpoint.kind
    if kind not in ("binary", "continuous"):
        return f"endpoint.kind: interim predictions are available for binary and continuous endpoints, not {kind}"
    if design.interim is not None and not (
        kind == "binary" and not design.randomized and not _missing_dropouts(design)
    ):
        return (
            "interim: predictions for designs with interim looks are available for single-arm binary designs "
            f"(dropouts counted as failures, or none); this design is {design.arms.kind} {kind}"
            + (" with dropouts missing" if _missing_dropouts(design) else "")
        )
    if kind == "binary" and design.analysis.conditions:
        return "analysis.conditions: interim predictions of a dual-criterion rule are not available yet"
    if kind == "continuous" and design.analysis.rule not in CONTINUOUS_RULES:
        return (
            f"analysis.rule: interim predictions of continuous designs are available for "
            f"{', '.join(CONTINUOUS_RULES)}, not {design.analysis.rule}"
        )
    if kind == "continuous" and design.dropout.rate > 0.0 and design.dropout.strategy == "failure":
        return (
            "dropout.strategy: interim predictions of a continuous endpoint need 'missing' (a failure value "
            "imputed for dropouts is not normal)"
        )
    return None


def _check(design: Design, observed: tuple[tuple[Any, ...], ...]) -> None:
    reason = unavailable(design)
    if reason is not None:
        raise DesignError(reason)
    arms = len(design.arms.sizes)
    if design.endpoint.kind == "continuous":
        _check_continuous(design, observed)
        return
    if len(observed) != arms:
        raise DesignError(f"observed: the design has {arms} arm(s); give {arms} responders/analysed pair(s)")
    for (x, m), n, name in zip(observed, design.arms.sizes, ("treatment", "control"), strict=False):
        if m < 0 or x < 0:
            raise DesignError(f"observed: {name} {x}/{m}: counts cannot be negative")
        if x > m:
            raise DesignError(
                f"observed: {name} {x} responders of {m} analysed: more responders than analysed"
            )
        if m > n:
            raise DesignError(
                f"observed: {name} {m} analysed of the {n} planned: more than the arm's participants"
            )


CONTINUOUS_RULES = ("one-sample-t", "t-pooled", "welch", "posterior-probability")


def _missing_dropouts(design: Design) -> bool:
    return design.dropout.rate > 0.0 and design.dropout.strategy == "missing"


def _beta_average(mix: Any, x: int, m: int, degree: int, f: Any) -> float:
    """E[f(q)] for q from the Beta mixture ``mix`` updated with x of m, exactly for a polynomial f of degree at
    most ``degree`` (Gauss-Jacobi quadrature per component: the Beta density is its weight function)."""
    from scipy.special import roots_jacobi

    nodes = degree // 2 + 2
    weights = np.asarray(mix.posterior_weights(np.array([x]), m))[0]
    total = 0.0
    for w, a, b in zip(weights, mix.a, mix.b, strict=True):
        t, wt = roots_jacobi(nodes, b + m - x - 1.0, a + x - 1.0)  # weight (1 - t)^(b'-1) (1 + t)^(a'-1)
        total += float(w) * float(np.dot(wt / wt.sum(), f((1.0 + t) / 2.0)))
    return total


def _sequential_prediction(
    design: Design, observed: tuple[tuple[Any, ...], ...], threshold: float
) -> InterimPrediction:
    """A single-arm binary design with interim looks, x responders of m analysed: the probability of success
    at a later look (efficacy stops and the final analysis; futility stops obeyed as planned), by recursion
    over the stage counts from the observed count (exact: :mod:`planner.multistage`'s boundaries)."""
    from planner.mixtures import BetaMixture
    from planner.multistage import forward, multistage_for
    from planner.priors import analysis_mixture, resolve

    (x, m), n = observed[0], design.arms.n
    b = multistage_for(design).boundaries()
    ahead = [k for k, size in enumerate(b.analysed) if size >= m]
    last = len(b.analysed) - 1

    def success(q: Any) -> np.ndarray:
        q = np.atleast_1d(np.asarray(q, dtype=float))
        return np.asarray(forward(b, q, start=(x, m))["eff"].sum(axis=1))

    thin = 1.0 - design.dropout.rate if design.dropout.rate > 0.0 else 1.0
    trend = float(success(x / m if m > 0 else 0.0)[0])
    planned = {sc.name: float(success(min(sc.treatment * thin, 1.0))[0]) for sc in design.scenarios}
    degree = n - m
    prior = analysis_mixture(design.analysis.prior, "beta")
    predictive = _beta_average(prior, x, m, degree, success)
    by_design = None
    if design.design_prior is not None and thin == 1.0:
        part = resolve(design.design_prior.treatment)
        by_design = (
            _beta_average(part, x, m, degree, success)
            if isinstance(part, BetaMixture)
            else float(success(part.value)[0])
        )
    decision = _decision(trend, predictive, planned, threshold)
    at_look = [k for k in ahead if b.analysed[k] == m]
    if at_look:  # the data are a look's: its boundaries decide first
        k = at_look[0]
        if x >= b.efficacy[k]:
            decision = f"stop for efficacy at look {k + 1}: {x} >= {b.efficacy[k]} responders"
        elif k < last and x < b.futility[k]:
            decision = (
                f"stop for futility at look {k + 1}: {x} < {b.futility[k]} responders (the design's bound)"
            )
    return InterimPrediction(observed, (n,), predictive, by_design, trend, planned, threshold, decision)


def _check_continuous(design: Design, observed: tuple[tuple[Any, ...], ...]) -> None:
    arms = len(design.arms.sizes)
    if len(observed) != arms or any(len(o) != 3 for o in observed):
        raise DesignError(f"observed: the design has {arms} arm(s); give mean/sd/analysed for each")
    rate = design.dropout.rate
    for (mean, sd, m), n, planned, name in zip(
        observed, _final_sizes(design), design.arms.sizes, ("treatment", "control"), strict=False
    ):
        if not np.isfinite(mean):
            raise DesignError(f"observed: {name} mean {mean}: a finite number")
        if not (np.isfinite(sd) and sd > 0.0):
            raise DesignError(f"observed: {name} sd {sd}: a positive number")
        if m < 2:
            raise DesignError(f"observed: {name} {m} analysed: at least 2 (an sd needs two)")
        if m > n:
            expected = f" ({planned} participants, dropout.rate {rate:g})" if n != planned else ""
            raise DesignError(
                f"observed: {name} {m} analysed of the {n} the final analysis will have{expected}: more than "
                "the arm's participants"
            )


def _final_sizes(design: Design) -> tuple[int, ...]:
    """The participants each arm's final analysis will have: all, or round(N (1 - rate)) when dropouts are
    missing."""
    keep = 1.0 - design.dropout.rate if design.dropout.strategy == "missing" else 1.0
    return tuple(int(round(n * keep)) for n in design.arms.sizes)


def _critical_estimate(
    design: Design, finals: tuple[int, ...], sds: tuple[float, ...]
) -> tuple[float, float]:
    """(c, sign): the final rule succeeds iff sign * E >= sign * c, E the final mean (difference), each arm's
    sum of squares at its observed sd; c by bisection on the rule's own decision. c is -inf * sign when every
    final estimate succeeds and +inf * sign when none does."""
    from planner.endpoints import TrialSample
    from planner.endpoints.continuous import NormalArm
    from planner.rules import make_rule

    rule = make_rule(design)
    sign = -1.0 if design.endpoint.better == "lower" else 1.0

    def success(estimate: float) -> bool:
        arms = [
            NormalArm(np.array([n]), np.array([v]), np.array([(n - 1) * sd**2]))
            for n, v, sd in zip(finals, (estimate, 0.0), sds, strict=False)
        ]
        return bool(rule.decide(TrialSample(*arms))[0])

    scale = float(np.sqrt(sum(sd**2 / n for sd, n in zip(sds, finals, strict=True))))
    centre = float(getattr(rule, "null_value", 0.0) or 0.0)
    far = 1e3 * scale + abs(centre)
    lo, hi = centre - sign * far, centre + sign * far  # lo: short of benefit, hi: beyond it
    if success(lo):
        return -sign * np.inf, sign
    if not success(hi):
        return sign * np.inf, sign
    for _ in range(200):  # to the last bit
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        lo, hi = (lo, mid) if success(mid) else (mid, hi)
    return hi, sign


def _normal_success(mean: Any, var: Any, c: float, sign: float) -> np.ndarray:
    """P(sign * E >= sign * c), E ~ N(mean, var), elementwise over the broadcast ``mean`` and ``var`` (the
    callers weight and sum the components); a zero variance gives 0 or 1."""
    mean, var = np.broadcast_arrays(np.asarray(mean, dtype=float), np.asarray(var, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = sign * (mean - c) / np.sqrt(var)
    z = np.where(var > 0, z, np.where(sign * (mean - c) >= 0, np.inf, -np.inf))
    return np.asarray(stats.norm.cdf(z))  # type: ignore[no-any-return]


def _continuous_prediction(
    design: Design, observed: tuple[tuple[Any, ...], ...], threshold: float
) -> InterimPrediction:
    """The continuous branch of :func:`interim_prediction` (module docstring)."""
    from planner.mixtures import NormalMixture
    from planner.priors import Point, analysis_mixture, resolve

    finals = _final_sizes(design)
    means = [float(o[0]) for o in observed]
    sds = tuple(float(o[1]) for o in observed)
    seen = [int(o[2]) for o in observed]
    c, sign = _critical_estimate(design, finals, sds)
    to_come = [n - m for n, m in zip(finals, seen, strict=True)]
    frac = [
        r / n for r, n in zip(to_come, finals, strict=True)
    ]  # a: the part of each final mean still to come
    base = sum(((-1.0) ** i) * m * x / n for i, (m, x, n) in enumerate(zip(seen, means, finals, strict=True)))
    noise = sum(a * a * sd**2 / r for a, sd, r in zip(frac, sds, to_come, strict=True) if r > 0)

    def given(arm_means: list[float]) -> float:
        """P(final success) when the arms' true means are these."""
        mu = base + sum(((-1.0) ** i) * a * v for i, (a, v) in enumerate(zip(frac, arm_means, strict=False)))
        return float(_normal_success(mu, noise, c, sign))

    trend = given(means)
    planned = {
        sc.name: given([sc.treatment] + ([sc.control] if len(finals) == 2 else [])) for sc in design.scenarios
    }
    # analysis prior: the posterior of the mean (single arm) or of the difference (control mean flat)
    prior = analysis_mixture(design.analysis.prior, "normal", reference_sd=design.endpoint.sd)
    assert isinstance(prior, NormalMixture)
    vt = sds[0] ** 2 / seen[0]
    if len(finals) == 1:
        post = prior.posterior(means[0], float(np.sqrt(vt)))
        slope, shift, extra = frac[0], base, noise
    else:
        vc = sds[1] ** 2 / seen[1]
        post = prior.posterior(means[0] - means[1], float(np.sqrt(vt + vc)))
        w = 1.0 / (1.0 / vt + 1.0 / vc)  # Var(control mean | difference, data)
        g = frac[0] - frac[1]
        slope = frac[0] - g * w / vt
        shift = base + g * w * (means[1] / vc + means[0] / vt)
        extra = noise + g * g * w
    weights, centres, spreads = (np.asarray(v) for v in (post.weights, post.means, post.sds))
    predictive = float(
        weights @ _normal_success(shift + slope * centres, extra + slope**2 * spreads**2, c, sign)
    )
    by_design = None
    if design.design_prior is not None:
        dp = design.design_prior
        parts = [resolve(dp.treatment, reference_sd=design.endpoint.sd)]
        if len(finals) == 2:
            parts.append(resolve(dp.control, reference_sd=design.endpoint.sd))
        mean_total, var_total, weight_total = np.array(base), np.array(noise), np.array(1.0)
        for i, (part, x, sd, m, a) in enumerate(zip(parts, means, sds, seen, frac, strict=True)):
            if isinstance(part, Point):
                w_i, m_i, v_i = np.array([1.0]), np.array([part.value]), np.array([0.0])
            else:
                assert isinstance(part, NormalMixture)
                arm_post = part.posterior(x, sd / np.sqrt(m))
                w_i, m_i, v_i = (np.asarray(v) for v in (arm_post.weights, arm_post.means, arm_post.sds))
                v_i = v_i**2
            sgn = (-1.0) ** i
            mean_total = np.add.outer(mean_total, sgn * a * m_i)
            var_total = np.add.outer(var_total, a * a * v_i)
            weight_total = np.multiply.outer(weight_total, w_i)
        by_design = float(np.sum(weight_total * _normal_success(mean_total, var_total, c, sign)))
    return InterimPrediction(
        observed,
        finals,
        predictive,
        by_design,
        trend,
        planned,
        threshold,
        _decision(trend, predictive, planned, threshold),
    )


def _tail(need: np.ndarray, r: int, p: float) -> np.ndarray:
    """P(Y >= need), Y ~ Binomial(r, p), elementwise over ``need``."""
    return np.asarray(stats.binom.sf(np.asarray(need) - 1, r, p))


def _predictive_pmf(mix: Any, x: int, m: int, r: int) -> np.ndarray:
    """P(Y = y | x of m), y = 0..r, under a Beta mixture prior updated with the data (Beta-binomial mixture)."""
    y = np.arange(r + 1)
    weights = np.asarray(mix.posterior_weights(np.array([x]), m))[0]
    pmf = np.zeros(r + 1)
    for w, a, b in zip(weights, mix.a, mix.b, strict=True):
        pmf += w * stats.betabinom.pmf(y, r, a + x, b + m - x)
    return pmf


def _binomial_pmf(p: float, r: int) -> np.ndarray:
    return np.asarray(stats.binom.pmf(np.arange(r + 1), r, p))


def interim_prediction(
    design: Design, observed: tuple[tuple[int, int], ...] | str, *, futility_threshold: float | None = None
) -> InterimPrediction:
    """Predictive probability of final success and conditional power given ``observed`` (responders,
    analysed) per arm (or the text '12/20,6/20'), and the decision they imply: stop for futility when the
    predictive probability under the analysis prior is below ``futility_threshold`` (default 0.1); final
    success assured or no longer possible when the data decide. The design prior's predictive probability is
    given when its parts are Beta mixtures or points and dropouts are not counted as failures (the composite
    counts then do not update the prior of the rate among those who stay)."""
    from planner.priors import analysis_mixture, resolve
    from planner.rules import make_rule

    kind = design.endpoint.kind
    if isinstance(observed, str):
        observed = parse_observed(observed, kind)
    if kind == "continuous":
        observed = tuple((float(o[0]), float(o[1]), int(o[2])) for o in observed)
    else:
        observed = tuple((int(o[0]), int(o[1])) for o in observed)
    _check(design, observed)
    threshold = DEFAULT_FUTILITY if futility_threshold is None else float(futility_threshold)
    if not 0.0 < threshold < 1.0:
        raise DesignError(f"futility_threshold: a probability strictly between 0 and 1, got {threshold}")
    if kind == "continuous":
        return _continuous_prediction(design, observed, threshold)
    if design.interim is not None:
        return _sequential_prediction(design, observed, threshold)
    rule = make_rule(design)
    sizes = design.arms.sizes
    dropout = design.dropout
    thin = 1.0 - dropout.rate if dropout.rate > 0.0 and dropout.strategy == "failure" else 1.0
    an = design.analysis

    def success_probability(pmfs: list[np.ndarray]) -> float:
        """P(final success) when the remaining responders have these distributions (per arm)."""
        if len(sizes) == 1:
            (x, _m), n = observed[0], sizes[0]
            need = rule.critical(n) - x
            return float(pmfs[0][max(need, 0) :].sum()) if need <= pmfs[0].size - 1 else 0.0
        (x1, _), (x2, _) = observed
        crit = rule.critical(sizes[0], sizes[1])
        need = crit[x2 + np.arange(pmfs[1].size)] - x1  # per final control count
        tail1 = np.concatenate([np.cumsum(pmfs[0][::-1])[::-1], [0.0]])  # P(Y1 >= k), k = 0..r1 + 1
        return float(pmfs[1] @ tail1[np.clip(need, 0, pmfs[0].size)])

    remaining = [n - m for (_, m), n in zip(observed, sizes, strict=False)]
    trend = success_probability(
        [_binomial_pmf(x / m if m > 0 else 0.0, r) for (x, m), r in zip(observed, remaining, strict=True)]
    )
    planned = {
        sc.name: success_probability(
            [
                _binomial_pmf(min(p * thin, 1.0), r)
                for p, r in zip((sc.treatment, sc.control), remaining, strict=False)
            ]
        )
        for sc in design.scenarios
    }
    priors = [analysis_mixture(an.prior, "beta"), analysis_mixture(an.control_prior, "beta")][: len(sizes)]
    predictive = success_probability(
        [_predictive_pmf(mix, x, m, r) for mix, (x, m), r in zip(priors, observed, remaining, strict=True)]
    )
    by_design = None
    if design.design_prior is not None and thin == 1.0:
        from planner.mixtures import BetaMixture

        dp = design.design_prior
        parts = [resolve(dp.treatment)] + ([resolve(dp.control)] if len(sizes) == 2 else [])
        pmfs = []
        for part, (x, m), r in zip(parts, observed, remaining, strict=True):
            pmfs.append(
                _predictive_pmf(part, x, m, r)
                if isinstance(part, BetaMixture)
                else _binomial_pmf(part.value, r)
            )
        by_design = success_probability(pmfs)
    return InterimPrediction(
        observed,
        tuple(sizes),
        predictive,
        by_design,
        trend,
        planned,
        threshold,
        _decision(trend, predictive, planned, threshold),
    )


def _decision(trend: float, predictive: float, planned: dict[str, float], threshold: float) -> str:
    """What the predictions imply: success assured, no longer possible, stop for futility, or continue."""
    if trend >= 1.0 - 1e-15 and predictive >= 1.0 - 1e-15 and all(v >= 1.0 - 1e-15 for v in planned.values()):
        return "final success assured: the data already meet the final rule"
    if predictive == 0.0 and trend == 0.0:
        return "stop: final success is no longer possible"
    if predictive < threshold:
        return f"stop for futility: predictive probability {predictive:.4f} < {threshold:g}"
    return f"continue: predictive probability {predictive:.4f} >= {threshold:g}"
