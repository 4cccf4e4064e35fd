"""Simulation of group sequential trials: stage increments of sufficient statistics, cumulated.

At each look the cumulative statistic of the design's rule is put on the z scale and
compared with the spending boundaries of :mod:`planner.sequential`. A t statistic is
mapped to z through its p-value, z = Phi^-1(F_t(t; df)), as rpact does for group
sequential designs (applied as the equivalent t threshold per df). Each stage of each arm has its own random streams, so stage k's
data are the same whatever happened at other looks, and the same whatever the chunking.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import special

from planner.design import Design
from planner.endpoints import TrialSample
from planner.endpoints.binary import BinaryArm, simulate_binary_arm
from planner.endpoints.continuous import NormalArm, simulate_normal_arm
from planner.endpoints.count import CountArm, simulate_count_arm
from planner.exact import multistage_for
from planner.mixtures import student_t_posterior_sf
from planner.randomness import BlockStreams
from planner.sequential import (
    Boundaries,
    beta_spending_boundaries,
    conditional_power_futility,
    efficacy_boundaries,
    wang_tsiatis_boundaries,
)

__all__ = ["SequentialTally", "BayesianLooks", "NormalBayesianLooks", "describe_looks", "boundaries_for", "simulate_sequential", "look_statistic"]

ARMS = ("treatment", "control")


@cache
def _boundaries(fractions: tuple[float, ...], alpha: float, it) -> Boundaries:
    """z-scale boundaries of an [interim] section at information ``fractions`` (cached per design)."""
    if it.futility == "beta-spending":
        return beta_spending_boundaries(fractions, alpha, it.beta, it.spending, it.beta_spending, gamma=it.gamma,
                                        gamma_beta=it.gamma_beta, binding=it.binding).boundaries
    if it.spending == "wang-tsiatis":
        plain = wang_tsiatis_boundaries(fractions, alpha, it.delta)
        spend, cumulative = "custom", plain.alpha_spent  # binding futility re-spends the same alpha per look
    else:
        spend, cumulative = it.spending, it.cumulative_alpha
        plain = efficacy_boundaries(fractions, alpha, spend, gamma=it.gamma, cumulative=cumulative)
    if it.futility == "none":
        return plain
    threshold = it.futility_threshold
    lower = conditional_power_futility(plain, threshold)
    if it.binding:
        # iterate: futility bounds depend on the final boundary, which depends on them
        b = plain
        for _ in range(50):
            new = efficacy_boundaries(fractions, alpha, spend, gamma=it.gamma, cumulative=cumulative, futility=lower)
            lower = conditional_power_futility(new, threshold)
            if abs(new.efficacy[-1] - b.efficacy[-1]) < 1e-10:
                break
            b = new
        return Boundaries(new.fractions, new.efficacy, lower, new.alpha_spent, True)
    return Boundaries(plain.fractions, plain.efficacy, lower, plain.alpha_spent, False)


def information_fractions(design: Design) -> tuple[float, ...]:
    """Information fractions of the planned looks: information is proportional to 1 / (sum over arms of 1 / n)."""
    looks = np.array(design.look_sizes, dtype=float)
    info = 1.0 / np.sum(1.0 / looks, axis=1)
    return tuple(float(x) for x in info / info[-1])


def boundaries_for(design: Design) -> Boundaries:
    """The z-scale boundaries of a design's looks, at the information fractions of its planned stage sizes."""
    return _boundaries(information_fractions(design), design.analysis.alpha, design.interim)


def beta_spending_inflation(design: Design) -> float | None:
    """Maximum-information inflation factor implied by beta-spending futility (None for other designs)."""
    it = design.interim
    if it is None or it.futility != "beta-spending":
        return None
    return beta_spending_boundaries(information_fractions(design), design.analysis.alpha, it.beta, it.spending,
                                    it.beta_spending, gamma=it.gamma, gamma_beta=it.gamma_beta,
                                    binding=it.binding).inflation_factor


def _combine(a, b):
    """Cumulative statistics of one arm after adding a stage."""
    if a is None:
        return b
    if isinstance(b, BinaryArm):
        return BinaryArm(a.n + b.n, a.events + b.events)
    if isinstance(b, CountArm):
        return CountArm(a.n + b.n, a.events + b.events, b.exposure)
    n = a.n + b.n
    safe = np.maximum(n, 1)
    mean = (a.n * a.mean + b.n * b.mean) / safe
    ss = a.ss + b.ss + a.n * b.n / safe * (a.mean - b.mean) ** 2
    return NormalArm(n, mean, ss)


def _stage(design: Design, arm: str, k: int, streams: BlockStreams, size: int, n: int, truth, sd):
    ep, name = design.endpoint, f"{arm}.stage{k}"
    if ep.kind == "binary":
        return simulate_binary_arm(streams, name, size, n, truth, design.dropout)
    if ep.kind == "continuous":
        return simulate_normal_arm(streams, name, size, n, truth, sd, design.dropout, ep.failure_value)
    return simulate_count_arm(streams, name, size, n, truth, ep.exposure, ep.dispersion, design.dropout)


def look_statistic(design: Design, sample: TrialSample) -> tuple[np.ndarray, np.ndarray | None]:
    """The cumulative statistic of the design's rule (larger = more benefit) and, for t tests, its df.

    z-type rules return (z, None). t-type rules return (t, df): the boundary z >= c is then
    applied as t >= F_t^-1(Phi(c); df), the same test without a special function per trial.
    """
    rule, an = design.analysis.rule, design.analysis
    sign = -1.0 if getattr(design.endpoint, "better", "higher") == "lower" else 1.0
    t, c = sample.treatment, sample.control
    with np.errstate(divide="ignore", invalid="ignore"):
        if rule == "z-score":
            p0 = an.performance_goal
            return np.nan_to_num((t.events / t.n - p0) / np.sqrt(p0 * (1 - p0) / t.n), nan=-np.inf), None
        if rule == "z-pooled":
            pooled = (t.events + c.events) / (t.n + c.n)
            var = pooled * (1 - pooled) * (1 / t.n + 1 / c.n)
            z = np.where(var > 0, (t.events / t.n - c.events / c.n) / np.sqrt(var), 0.0)
            return np.nan_to_num(z, nan=-np.inf), None
        if rule == "one-sample-t":
            df = t.n - 1
            stat = sign * (t.mean - an.performance_goal) / np.sqrt(t.ss / df / t.n)
            return np.nan_to_num(stat, nan=-np.inf), df
        if rule == "t-pooled":
            df = t.n + c.n - 2
            stat = sign * (t.mean - c.mean) / np.sqrt((t.ss + c.ss) / df * (1 / t.n + 1 / c.n))
            return np.nan_to_num(stat, nan=-np.inf), df
        from planner.rules.count import log_rate_ratio_z

        z = log_rate_ratio_z(t, c, design.endpoint.dispersion, design.analysis.nb_variance or "true-rates")
        return np.nan_to_num(sign * z, nan=-np.inf), None


@cache
def _t_thresholds(z: float, max_df: int) -> np.ndarray:
    """t values equivalent to the z boundary for df = 0..max_df (df 0: no test, +inf)."""
    if not np.isfinite(z):
        return np.full(max_df + 1, z)
    out = np.empty(max_df + 1)
    out[0] = np.inf
    out[1:] = special.stdtrit(np.arange(1, max_df + 1), special.ndtr(z))
    return out


def _at_or_above(stat, df, z: float, max_df: int) -> np.ndarray:
    if df is None:
        return stat >= z
    return stat >= _t_thresholds(float(z), max_df)[np.clip(df, 0, max_df)]


class BayesianLooks:
    """Single-arm binary Bayesian looks: posterior-probability efficacy, predictive-probability futility.

    Both are monotone in the responders x (binomial MLR), so each look is a pair of critical
    counts per number analysed m: efficacy when x >= e(m), futility when x < f(m).
    The predictive probability of final success after x of m, with r more participants to be
    analysed, is sum_k w_k(x) P(BetaBinomial(r, a_k + x, b_k + m - x) >= c(m + r) - x), with
    c the final critical count and w_k(x) the posterior weights of the Beta-mixture prior.
    """

    def __init__(self, design: Design):
        from planner.priors import analysis_mixture
        from planner.rules.binary import SingleArmBinaryRule

        it, an = design.interim, design.analysis
        self.final = SingleArmBinaryRule(design)
        threshold = it.efficacy_threshold if it.efficacy_threshold is not None else an.threshold
        self.interim = SingleArmBinaryRule(design.with_changes({"analysis.threshold": threshold}))
        self.prior = analysis_mixture(an.prior, "beta")
        self.futility = it.futility == "predictive-probability"
        self.futility_threshold = it.futility_threshold
        self.n = design.arms.n
        self.retained = 1.0 - design.dropout.rate if design.dropout.strategy == "missing" else 1.0
        self._fut: dict[tuple[int, int], int] = {}

    def predictive_probability(self, x, m: int, r: int) -> np.ndarray:
        from scipy import stats

        x = np.atleast_1d(np.asarray(x))
        need = self.final.critical(m + r) - x  # responders still needed among the r
        w = self.prior.posterior_weights(x, m)
        a = np.asarray(self.prior.a)[None, :] + x[:, None]
        b = np.asarray(self.prior.b)[None, :] + (m - x)[:, None]
        tail = stats.betabinom.sf(need[:, None] - 1, r, a, b) if r > 0 else (need[:, None] <= 0) * 1.0
        return np.sum(w * tail, axis=1)

    def futility_count(self, m: int, r: int) -> int:
        """Smallest x whose predictive probability reaches the threshold (x below it: stop)."""
        key = (m, r)
        if key not in self._fut:
            pp = self.predictive_probability(np.arange(m + 1), m, r)
            ok = pp >= self.futility_threshold
            self._fut[key] = int(np.argmax(ok)) if ok.any() else m + 1
        return self._fut[key]

    def decide(self, k: int, last: bool, enrolled: int, arm) -> tuple[np.ndarray, np.ndarray]:
        """(efficacy, futility) at look k for the cumulative arm (analysed n, responders)."""
        rule = self.final if last else self.interim
        ms = np.unique(arm.n)
        eff_crit = np.zeros(int(ms.max()) + 1, dtype=np.int64)
        fut_crit = np.zeros_like(eff_crit)
        r = int(round((self.n - enrolled) * self.retained))
        for m in ms:
            eff_crit[m] = rule.critical(int(m))
            fut_crit[m] = self.futility_count(int(m), r) if (self.futility and not last) else 0
        return arm.events >= eff_crit[arm.n], arm.events < fut_crit[arm.n]


class NormalBayesianLooks:
    """Continuous Bayesian looks: posterior-probability efficacy, predictive-probability futility.

    The likelihood of the mean (one arm) or of the mean difference (two arms) is Normal with
    the plug-in standard error, and the prior a Normal mixture (flat when none is given), so
    the posterior is a Normal mixture. The final analysis succeeds when its estimate exceeds
    c, where P(theta > theta0 | c, se_final) = threshold (se_final from the current sd and the
    final sizes). Efficacy uses the Student-t posterior of an unknown variance (``analysis.variance``,
    default; with a flat prior the t test at each look) or the plug-in Normal one; the futility rule's
    predictive probability uses the plug-in sd. With a fraction rho of the information still to come, the
    final estimate is
    (1 - rho) current + rho future, future | theta ~ N(theta, se_rem^2), so given the data it is
    a Normal mixture with means (1 - rho) est + rho mu_k and variances rho^2 (v_k + se_rem^2);
    the predictive probability of final success is its mass above c.
    """

    def __init__(self, design: Design):
        from planner.priors import analysis_mixture

        it, an, ep = design.interim, design.analysis, design.endpoint
        self.sign = -1.0 if ep.better == "lower" else 1.0
        prior = analysis_mixture(an.prior, "normal", reference_sd=ep.sd)
        self.prior = prior.negated() if self.sign < 0 else prior
        self.null = self.sign * (an.performance_goal if an.performance_goal is not None else 0.0)
        self.final_threshold = an.threshold
        self.interim_threshold = it.efficacy_threshold if it.efficacy_threshold is not None else an.threshold
        self.futility = it.futility == "predictive-probability"
        self.futility_threshold = it.futility_threshold
        self.final_sizes = design.arms.sizes
        self.randomized = design.randomized
        self.unknown_variance = an.variance != "plug-in"
        self.reference_sd = ep.sd

    def _estimate(self, arms):
        t = arms[0]
        if not self.randomized:
            var = t.ss / np.maximum(t.n - 1, 1)
            return self.sign * t.mean, var, (1.0 / t.n,)
        c = arms[1]
        var = (t.ss + c.ss) / np.maximum(t.n + c.n - 2, 1)
        return self.sign * (t.mean - c.mean), var, (1.0 / t.n, 1.0 / c.n)

    def _critical(self, se: np.ndarray) -> np.ndarray:
        """Final estimate at which P(theta > null | estimate) equals the final threshold."""
        if self.prior.flat:
            return self.null + special.ndtri(self.final_threshold) * se
        lo = np.full(se.shape, self.null - 50 * se - 50)
        hi = np.full(se.shape, self.null + 50 * se + 50)
        for _ in range(80):  # bisection, vectorized: the posterior probability increases with the estimate
            mid = 0.5 * (lo + hi)
            above = self.prior.posterior_sf(self.null, mid, se) >= self.final_threshold
            hi = np.where(above, mid, hi)
            lo = np.where(above, lo, mid)
        return hi

    def predictive_probability(self, est, var, inv_n, final_inv_n) -> np.ndarray:
        se_now = np.sqrt(var * sum(inv_n))
        se_final = np.sqrt(var * sum(final_inv_n))
        rho = 1.0 - (se_final / se_now) ** 2  # fraction of the information still to come
        se_rem2 = se_final**2 / np.maximum(rho, 1e-12)  # variance of the future data's estimate
        c = self._critical(se_final)
        if self.prior.flat:
            comps = [(np.ones_like(est), est, se_now**2)]
        else:
            w, mu, sd = self.prior._arrays()
            s2 = se_now[..., None] ** 2
            mv = sd**2 + s2
            logw = np.log(w) - 0.5 * np.log(mv) - 0.5 * (est[..., None] - mu) ** 2 / mv
            wpost = np.exp(logw - logw.max(axis=-1, keepdims=True))
            wpost /= wpost.sum(axis=-1, keepdims=True)
            v = 1.0 / (1.0 / sd**2 + 1.0 / s2)
            m = v * (mu / sd**2 + est[..., None] / s2)
            comps = [(wpost[..., k], m[..., k], v[..., k]) for k in range(w.size)]
        pp = np.zeros_like(est)
        for wk, mk, vk in comps:
            mean = (1 - rho) * est + rho * mk
            sd = rho * np.sqrt(vk + se_rem2)
            pp += wk * special.ndtr((mean - c) / np.maximum(sd, 1e-300))
        return pp

    def decide(self, k: int, last: bool, enrolled: int, arms) -> tuple[np.ndarray, np.ndarray]:
        est, var, inv_n = self._estimate(arms)
        se = np.sqrt(var * sum(inv_n))
        threshold = self.final_threshold if last else self.interim_threshold
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.unknown_variance:  # Student-t posterior (planner.mixtures.student_t_posterior_sf)
                nu = arms[0].n - 1 if not self.randomized else arms[0].n + arms[1].n - 2
                prob = student_t_posterior_sf(self.prior, self.null, est, sum(inv_n), var * nu, nu, self.reference_sd)
            else:
                prob = self.prior.posterior_sf(self.null, est, se)
            eff = prob > threshold
            if last or not self.futility:
                return eff, np.zeros_like(eff)
            final_inv_n = tuple(1.0 / n for n in self.final_sizes)
            fut = self.predictive_probability(est, var, inv_n, final_inv_n) < self.futility_threshold
        return eff, fut


def describe_looks(design: Design) -> dict:
    """The rule at each look, for results and reports."""
    looks = design.look_sizes
    if design.analysis.rule == "exact-binomial":
        b = multistage_for(design).boundaries()
        fut = [f"fut x<{f}" if f > 0 else "" for f in b.futility]
        labels = [f"look {k + 1} (n={n}: x>={e}" + (f", {fut[k]}" if fut[k] and k < len(looks) - 1 else "") + ")"
                  for k, (n, e) in enumerate(zip(b.analysed, b.efficacy, strict=True))]
        return {"labels": labels, "participants": [sum(look) for look in looks],
                "efficacy_counts": list(b.efficacy), "futility_counts": list(b.futility[:-1]),
                "analysed": list(b.analysed)}
    if design.rule_info.bayesian:
        it, an = design.interim, design.analysis
        eff = it.efficacy_threshold if it.efficacy_threshold is not None else an.threshold
        fut = f", futility if predictive probability < {it.futility_threshold:g}" if it.futility != "none" else ""
        labels = [f"look {k + 1} (n={sum(look)}: P(benefit) > {eff if k < len(looks) - 1 else an.threshold:g}"
                  + (fut if k < len(looks) - 1 else "") + ")" for k, look in enumerate(looks)]
        return {"labels": labels, "participants": [sum(look) for look in looks]}
    b = boundaries_for(design)
    labels = []
    for k, (f, c, lo) in enumerate(zip(b.fractions, b.efficacy, b.futility, strict=True)):
        fut = "" if not np.isfinite(lo) else f", fut z<{lo:.2f}"
        labels.append(f"look {k + 1} (t={f:.2f}, z>={c:.2f}{fut})")
    out = {"labels": labels, "participants": [sum(look) for look in looks],
           "information_fractions": list(b.fractions), "efficacy_z": list(b.efficacy),
           "futility_z": [float(x) for x in b.futility], "cumulative_alpha": list(b.alpha_spent)}
    inflation = beta_spending_inflation(design)
    if inflation is not None:
        out["beta_spending_inflation_factor"] = inflation
    return out


@cache
def _bayesian_looks(design: Design):
    return BayesianLooks(design) if design.endpoint.kind == "binary" else NormalBayesianLooks(design)


@dataclass
class SequentialTally:
    """Integer counts over simulated trials, per look (so results do not depend on chunking)."""

    efficacy: np.ndarray  # stopped for efficacy at look k (the last look: final success)
    futility: np.ndarray  # stopped for futility at look k (the last look: final failure)
    reject_ignoring_futility: int  # efficacy crossed at some look if futility were never obeyed
    enrolled: int  # total participants enrolled, summed over trials
    enrolled_sq: int  # sum of squares, for the Monte Carlo SE of the expected sample size

    @classmethod
    def empty(cls, looks: int) -> SequentialTally:
        return cls(np.zeros(looks, dtype=np.int64), np.zeros(looks, dtype=np.int64), 0, 0, 0)

    def add(self, other: SequentialTally) -> None:
        self.efficacy += other.efficacy
        self.futility += other.futility
        self.reject_ignoring_futility += other.reject_ignoring_futility
        self.enrolled += other.enrolled
        self.enrolled_sq += other.enrolled_sq


def simulate_sequential(design: Design, scenario, streams: BlockStreams, size: int) -> SequentialTally:
    """Simulate ``size`` group sequential trials; tally where each stopped and why."""
    bayes = _bayesian_looks(design) if design.rule_info.bayesian else None
    counts = multistage_for(design) if design.analysis.rule == "exact-binomial" else None
    b = None if (bayes or counts) else boundaries_for(design)
    history = []  # cumulative analysed participants of the treatment arm, per look (count-scale rules)
    looks = design.look_sizes
    randomized = design.randomized
    truths = (scenario.treatment, scenario.control)
    sd = getattr(scenario, "sd", None) or getattr(design.endpoint, "sd", None)
    tally = SequentialTally.empty(len(looks))
    active = np.ones(size, dtype=bool)
    ever_crossed = np.zeros(size, dtype=bool)
    cumulative = [None, None]
    previous = (0, 0)
    for k, look in enumerate(looks):
        for a in range(2 if randomized else 1):
            inc = _stage(design, ARMS[a], k, streams, size, look[a] - previous[a], truths[a], sd)
            cumulative[a] = _combine(cumulative[a], inc)
        previous = look if randomized else (look[0], 0)
        last = k == len(looks) - 1
        if counts is not None:
            history.append(np.broadcast_to(cumulative[0].n, (size,)))
            cross, below = counts.decide(k, np.stack(history, axis=1), cumulative[0].events)
        elif isinstance(bayes, BayesianLooks):
            cross, below = bayes.decide(k, last, look[0], cumulative[0])
        elif bayes is not None:
            cross, below = bayes.decide(k, last, sum(look), cumulative)
        else:
            stat, df = look_statistic(design, TrialSample(cumulative[0], cumulative[1]))
            cross = _at_or_above(stat, df, b.efficacy[k], design.arms.n)
            below = ~_at_or_above(stat, df, b.futility[k], design.arms.n) if np.isfinite(b.futility[k]) else False
        ever_crossed |= cross
        stop_eff = active & cross
        stop_fut = active & ~cross & (below | last)
        tally.efficacy[k] = np.count_nonzero(stop_eff)
        tally.futility[k] = np.count_nonzero(stop_fut)
        stopped = int(np.count_nonzero(stop_eff | stop_fut))
        tally.enrolled += stopped * int(sum(look))
        tally.enrolled_sq += stopped * int(sum(look)) ** 2
        active &= ~(stop_eff | stop_fut)
    tally.reject_ignoring_futility = int(np.count_nonzero(ever_crossed))
    return tally
