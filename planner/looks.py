"""The decision at a look of a sequential design: boundaries and Bayesian looks.

Boundaries come from :mod:`planner.sequential` (alpha spending, Wang-Tsiatis, beta spending, conditional-power
futility) at the information fractions of the design's planned looks. The rule's cumulative statistic is
compared with them by the rule itself (:meth:`planner.rules.look.StatisticRule.at_or_above`): a t statistic
against the t threshold equivalent to the z boundary at its df, z = Phi^-1(F_t(t; df)), as rpact does for group
sequential designs. Ties cross: a statistic equal to a boundary stops for efficacy, and one equal to a futility
bound does not stop for futility.
Used by the simulation (:mod:`planner.group_sequential`) and the exact multi-stage recursion
(:mod:`planner.multistage`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from scipy import special

from planner.design import ContinuousEndpoint, Design
from planner.mixtures import student_t_posterior_sf
from planner.sequential import (
    Boundaries,
    beta_spending_boundaries,
    conditional_power_futility,
    efficacy_boundaries,
    wang_tsiatis_boundaries,
)

__all__ = [
    "boundaries_for",
    "information_fractions",
    "beta_spending_inflation",
    "BayesianLooks",
    "NormalBayesianLooks",
    "bayesian_looks",
]


@cache
def _boundaries(fractions: tuple[float, ...], alpha: float, it: Any) -> Boundaries:
    """z-scale boundaries of an [interim] section at information ``fractions`` (cached per design)."""
    if it.futility == "beta-spending":
        boundaries: Boundaries = _beta_spending(fractions, alpha, it).boundaries
        return boundaries
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
            new = efficacy_boundaries(
                fractions, alpha, spend, gamma=it.gamma, cumulative=cumulative, futility=lower
            )
            lower = conditional_power_futility(new, threshold)
            if abs(new.efficacy[-1] - b.efficacy[-1]) < 1e-10:
                break
            b = new
        return Boundaries(new.fractions, new.efficacy, lower, new.alpha_spent, True)
    return Boundaries(plain.fractions, plain.efficacy, lower, plain.alpha_spent, False)


def information_fractions(design: Design) -> tuple[float, ...]:
    """Information fractions of the planned looks: information is proportional to 1 / (sum over arms of 1 / n);
    for the log-rank test to the number of events (Tsiatis 1981)."""
    events = design.look_events
    if events is not None:
        return tuple(e / events[-1] for e in events)
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
    factor: float | None = _beta_spending(
        information_fractions(design), design.analysis.alpha, it
    ).inflation_factor
    return factor


def _beta_spending(fractions: tuple[float, ...], alpha: float, it: Any) -> Any:
    """The beta-spending design of an [interim] section at these information fractions."""
    return beta_spending_boundaries(
        fractions,
        alpha,
        it.beta,
        it.spending,
        it.beta_spending,
        gamma=it.gamma,
        gamma_beta=it.gamma_beta,
        binding=it.binding,
    )


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
        assert it is not None
        self.final = SingleArmBinaryRule(design)
        threshold = it.efficacy_threshold if it.efficacy_threshold is not None else an.threshold
        self.interim = SingleArmBinaryRule(design.with_changes({"analysis.threshold": threshold}))
        self.prior: Any = analysis_mixture(an.prior, "beta")
        self.futility = it.futility == "predictive-probability"
        self.futility_threshold = it.futility_threshold
        self.n = design.arms.n
        self.retained = 1.0 - design.dropout.rate if design.dropout.strategy == "missing" else 1.0
        self._fut: dict[tuple[int, int], int] = {}

    def predictive_probability(self, x: Any, m: int, r: int) -> np.ndarray:
        from scipy import stats

        x = np.atleast_1d(np.asarray(x))
        need = self.final.critical(m + r) - x  # responders still needed among the r
        w = self.prior.posterior_weights(x, m)
        a = np.asarray(self.prior.a)[None, :] + x[:, None]
        b = np.asarray(self.prior.b)[None, :] + (m - x)[:, None]
        tail = stats.betabinom.sf(need[:, None] - 1, r, a, b) if r > 0 else (need[:, None] <= 0) * 1.0
        return np.asarray(np.sum(w * tail, axis=1))

    def futility_count(self, m: int, r: int) -> int:
        """Smallest x whose predictive probability reaches the threshold (x below it: stop)."""
        key = (m, r)
        if key not in self._fut:
            pp = self.predictive_probability(np.arange(m + 1), m, r)
            ok = pp >= self.futility_threshold
            self._fut[key] = int(np.argmax(ok)) if ok.any() else m + 1
        return self._fut[key]

    def decide(self, k: int, last: bool, enrolled: int, arm: Any) -> tuple[np.ndarray, np.ndarray]:
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
        assert it is not None and isinstance(ep, ContinuousEndpoint)
        self.sign = -1.0 if ep.better == "lower" else 1.0
        prior: Any = analysis_mixture(an.prior, "normal", reference_sd=ep.sd)
        self.prior: Any = prior.negated() if self.sign < 0 else prior
        self.null = self.sign * (an.performance_goal if an.performance_goal is not None else 0.0)
        self.final_threshold = an.threshold
        self.interim_threshold = it.efficacy_threshold if it.efficacy_threshold is not None else an.threshold
        self.futility = it.futility == "predictive-probability"
        self.futility_threshold = it.futility_threshold
        self.final_sizes = design.arms.sizes
        self.randomized = design.randomized
        self.unknown_variance = an.variance != "plug-in"
        self.reference_sd = ep.sd

    def _estimate(self, arms: Any) -> tuple[Any, Any, tuple[Any, ...]]:
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
            return np.asarray(self.null + special.ndtri(self.final_threshold) * se)
        lo = np.full(se.shape, self.null - 50 * se - 50)
        hi = np.full(se.shape, self.null + 50 * se + 50)
        for _ in range(80):  # bisection, vectorized: the posterior probability increases with the estimate
            mid = 0.5 * (lo + hi)
            above = self.prior.posterior_sf(self.null, mid, se) >= self.final_threshold
            hi = np.where(above, mid, hi)
            lo = np.where(above, lo, mid)
        return hi

    def predictive_probability(self, est: Any, var: Any, inv_n: Any, final_inv_n: Any) -> np.ndarray:
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
        return np.asarray(pp)

    def decide(self, k: int, last: bool, enrolled: int, arms: Any) -> tuple[np.ndarray, np.ndarray]:
        est, var, inv_n = self._estimate(arms)
        se = np.sqrt(var * sum(inv_n))
        threshold = self.final_threshold if last else self.interim_threshold
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.unknown_variance:  # Student-t posterior (planner.mixtures.student_t_posterior_sf)
                nu = arms[0].n - 1 if not self.randomized else arms[0].n + arms[1].n - 2
                prob = student_t_posterior_sf(
                    self.prior, self.null, est, sum(inv_n), var * nu, nu, self.reference_sd
                )
            else:
                prob = self.prior.posterior_sf(self.null, est, se)
            eff = prob > threshold
            if last or not self.futility:
                return eff, np.zeros_like(eff)
            final_inv_n = tuple(1.0 / n for n in self.final_sizes)
            fut = self.predictive_probability(est, var, inv_n, final_inv_n) < self.futility_threshold
        return eff, fut


@cache
def bayesian_looks(design: Design) -> BayesianLooks | NormalBayesianLooks:
    return BayesianLooks(design) if design.endpoint.kind == "binary" else NormalBayesianLooks(design)
