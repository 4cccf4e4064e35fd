"""Decision rules for binary endpoints, represented by their critical values.

Every binary rule here rejects more readily as the treatment arm's responders grow
(the binomial family has monotone likelihood ratio, so p-values fall and posterior
probabilities rise in x). A rule is therefore fully described by a critical count:
the smallest x (single arm), or for each control count x2 the smallest x1
(two arms), that leads to success. The critical values are computed once per
number of analysed participants and then serve both the vectorized simulation
(``x >= critical``) and exact enumeration (a binomial tail sum).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from scipy import optimize, special, stats

from planner.analytic import farrington_manning_z
from planner.design import Design
from planner.endpoints import BinaryArm, TrialSample
from planner.mixtures import prob_greater
from planner.priors import analysis_mixture
from planner.rules.look import StatisticRule

__all__ = [
    "never_succeeds",
    "SingleArmBinaryRule",
    "TwoArmBinaryRule",
    "fisher_pvalues",
    "boschloo_pvalue",
    "boschloo_reject_table",
]

# p-values within this relative distance of alpha count as equal to it (floating-point ties).
P_TOL = 1e-9


def _critical_from_table(reject: np.ndarray, what: str) -> np.ndarray:
    """Smallest row index that rejects, per column, after checking the table is monotone in rows."""
    rows = reject.shape[0]
    first = np.where(reject.any(axis=0), reject.argmax(axis=0), rows)
    monotone = np.arange(rows)[:, None] >= first[None, :]
    if not np.array_equal(monotone, reject):
        raise RuntimeError(f"{what}: the rejection region is not monotone in the treatment responders")
    return first


def _constant(values: np.ndarray) -> bool:
    return values.size > 0 and values.min() == values.max()


class SingleArmBinaryRule(StatisticRule):
    """One-arm rule on x responders of m analysed: exact binomial test or posterior probability."""

    def __init__(self, design: Design):
        an = design.analysis
        self.rule = an.rule
        self.goal = float(an.performance_goal)
        self.alpha = an.alpha
        self.threshold = an.threshold
        self.prior = analysis_mixture(an.prior, "beta") if an.rule == "posterior-probability" else None
        # (value, probability) of every condition: the goal's and the further ones (a dual criterion)
        self.conditions = ((self.goal, an.threshold),) + tuple(
            (c.value, c.probability) for c in an.conditions
        )
        self._n = design.arms.n
        self._critical = np.full(self._n + 1, -1, dtype=np.int64)  # -1: not yet computed

    def reject_table(self, m: int) -> np.ndarray:
        """Success (True) for x = 0..m responders of m analysed."""
        x = np.arange(m + 1)
        if self.rule == "exact-binomial":
            return stats.binom.sf(x - 1, m, self.goal) <= self.alpha * (1 + P_TOL)
        if self.rule == "z-score":
            return self.statistic(TrialSample(BinaryArm(np.full(m + 1, m), x)))[0] >= special.ndtri(
                1.0 - self.alpha
            )
        assert self.prior is not None
        success = np.ones(m + 1, dtype=bool)
        for value, probability in self.conditions:  # every condition must hold
            success &= self.prior.posterior_sf(value, x, m) > probability
        return success

    def statistic(self, sample: TrialSample) -> tuple[np.ndarray, None]:
        """z-score: the one-sample score statistic (x / m - p0) / sqrt(p0 (1 - p0) / m) (no trial: -inf)."""
        if self.rule != "z-score":
            raise ValueError(f"{self.rule} is decided on the count scale; it has no z statistic")
        arm = sample.treatment
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (arm.events / arm.n - self.goal) / np.sqrt(self.goal * (1 - self.goal) / arm.n)
        return np.nan_to_num(z, nan=-np.inf), None

    def critical(self, m: int) -> int:
        """Smallest number of responders out of m that means success (m + 1 if none)."""
        if self._critical[m] < 0:
            self._critical[m] = _critical_from_table(self.reject_table(m)[:, None], self.rule)[0]
        return int(self._critical[m])

    def decide(self, sample: TrialSample) -> np.ndarray:
        arm = sample.treatment
        if _constant(arm.n):
            return arm.events >= self.critical(int(arm.n[0]))
        for m in np.unique(arm.n):
            self.critical(int(m))
        return arm.events >= self._critical[arm.n]


class TwoArmBinaryRule(StatisticRule):
    """Two-arm rule on (x1, x2) responders of (m1, m2) analysed; arm 1 is the treatment."""

    def __init__(self, design: Design):
        an = design.analysis
        self.rule = an.rule
        self.alpha = an.alpha
        self.threshold = an.threshold
        if self.rule == "posterior-probability":
            self.priors = (analysis_mixture(an.prior, "beta"), analysis_mixture(an.control_prior, "beta"))
            # (margin, probability) of every condition on p1 - p2: the threshold's (margin 0) and the further ones
            self.conditions = ((0.0, an.threshold),) + tuple((c.value, c.probability) for c in an.conditions)
        self.margin = design.margin
        self._n2 = design.arms.sizes[1]
        self._tables: dict[tuple[int, int], np.ndarray] = {}

    @cached_property
    def _z(self) -> float:
        return float(special.ndtri(1.0 - self.alpha))

    def reject_table(self, m1: int, m2: int) -> np.ndarray:
        """Success (True) for x1 = 0..m1 (rows) and x2 = 0..m2 (columns)."""
        if self.rule == "fisher":
            return fisher_pvalues(m1, m2) <= self.alpha * (1 + P_TOL)
        if self.rule == "boschloo":
            return boschloo_reject_table(m1, m2, self.alpha)
        if self.rule == "farrington-manning":
            x1, x2 = np.meshgrid(np.arange(m1 + 1), np.arange(m2 + 1), indexing="ij")
            return farrington_manning_z(x1, m1, x2, m2, self.margin) >= self._z
        if self.rule == "z-pooled":
            x1, x2 = np.meshgrid(np.arange(m1 + 1), np.arange(m2 + 1), indexing="ij")
            table = TrialSample(BinaryArm(np.full(x1.shape, m1), x1), BinaryArm(np.full(x2.shape, m2), x2))
            return self.statistic(table)[0] >= self._z
        prior_t, prior_c = self.priors
        success = np.ones((m1 + 1, m2 + 1), dtype=bool)
        for margin, probability in self.conditions:  # every condition must hold
            table = prob_greater(
                prior_t, np.arange(m1 + 1), m1, prior_c, np.arange(m2 + 1), m2, margin=margin
            )
            success &= table > probability
        return success

    def statistic(self, sample: TrialSample) -> tuple[np.ndarray, None]:
        """z-pooled: (x1 / m1 - x2 / m2) / sqrt(p (1 - p) (1 / m1 + 1 / m2)), p pooled (0 when p is 0 or 1)."""
        if self.rule != "z-pooled":
            raise ValueError(f"{self.rule} has no z statistic for sequential looks")
        t, c = sample.treatment, sample.control
        with np.errstate(divide="ignore", invalid="ignore"):
            pooled = (t.events + c.events) / (t.n + c.n)
            var = pooled * (1 - pooled) * (1 / t.n + 1 / c.n)
            z = np.where(var > 0, (t.events / t.n - c.events / c.n) / np.sqrt(var), 0.0)
        return np.nan_to_num(z, nan=-np.inf), None

    def critical(self, m1: int, m2: int) -> np.ndarray:
        """For x2 = 0..m2, the smallest x1 out of m1 that means success (m1 + 1 if none)."""
        key = (m1, m2)
        if key not in self._tables:
            if m1 == 0 or m2 == 0:  # nothing to compare: never success
                self._tables[key] = np.full(m2 + 1, m1 + 1)
            else:
                self._tables[key] = _critical_from_table(self.reject_table(m1, m2), self.rule)
        return self._tables[key]

    def decide(self, sample: TrialSample) -> np.ndarray:
        t, c = sample.treatment, sample.control
        if _constant(t.n) and _constant(c.n):  # no dropout to missing: one table serves every trial
            return t.events >= self.critical(int(t.n[0]), int(c.n[0]))[c.events]
        keys = t.n * (self._n2 + 1) + c.n
        unique, inverse = np.unique(keys, return_inverse=True)
        width = self._n2 + 1
        stacked = np.zeros((unique.size, width), dtype=np.int64)
        for i, key in enumerate(unique):
            m1, m2 = divmod(int(key), width)
            stacked[i, : m2 + 1] = self.critical(m1, m2)
        return t.events >= stacked[inverse.ravel(), c.events]


def never_succeeds(design: Design, rule: SingleArmBinaryRule | TwoArmBinaryRule) -> bool:
    """Whether no outcome of the design's planned sizes leads to success (every participant analysed)."""
    if isinstance(rule, SingleArmBinaryRule):
        return rule.critical(design.arms.n) > design.arms.n
    m1, m2 = design.arms.sizes
    return bool(np.all(rule.critical(m1, m2) > m1))


# --- Fisher and Boschloo ---------------------------------------------------------------


def fisher_pvalues(m1: int, m2: int) -> np.ndarray:
    """One-sided Fisher exact p-values P(X1 >= x1 | x1 + x2) for all tables; shape (m1 + 1, m2 + 1).

    Built from the hypergeometric probabilities indexed by (total s, x1), with the
    upper tail summed from the far end so that small p-values keep their precision.
    """
    x1 = np.arange(m1 + 1)
    s = np.arange(m1 + m2 + 1)[:, None]
    x2 = s - x1[None, :]
    valid = (x2 >= 0) & (x2 <= m2)
    log_c = lambda n, k: special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)  # noqa: E731
    with np.errstate(invalid="ignore"):
        log_pmf = log_c(m1, x1[None, :]) + log_c(m2, np.where(valid, x2, 0)) - log_c(m1 + m2, s)
    pmf = np.where(valid, np.exp(log_pmf), 0.0)
    tail = np.cumsum(pmf[:, ::-1], axis=1)[:, ::-1]  # tail[s, x1] = P(X1 >= x1 | s)
    xx1, xx2 = np.meshgrid(np.arange(m1 + 1), np.arange(m2 + 1), indexing="ij")
    return np.minimum(tail[xx1 + xx2, xx1], 1.0)


class _NullSize:
    """Size of a region {x1 >= c(x2)} under the null p1 = p2 = p, as a function of p."""

    def __init__(self, m1: int, m2: int, grid_points: int = 1001):
        self.m1, self.m2 = m1, m2
        self.grid = np.linspace(0.0, 1.0, grid_points)
        self._sf1 = self._upper_tails(m1, self.grid)  # (G, m1 + 2)
        self._pmf2 = stats.binom.pmf(np.arange(m2 + 1)[None, :], m2, self.grid[:, None])

    @staticmethod
    def _upper_tails(m: int, p: np.ndarray) -> np.ndarray:
        pmf = stats.binom.pmf(np.arange(m + 1)[None, :], m, np.atleast_1d(p)[:, None])
        tails = np.cumsum(pmf[:, ::-1], axis=1)[:, ::-1]
        return np.concatenate([tails, np.zeros((tails.shape[0], 1))], axis=1)

    def _at(self, p: float, crit: np.ndarray) -> float:
        sf1 = self._upper_tails(self.m1, np.array([p]))[0]
        pmf2 = stats.binom.pmf(np.arange(self.m2 + 1), self.m2, p)
        return float(np.dot(pmf2, sf1[crit]))

    def on_grid(self, crit: np.ndarray) -> float:
        """max over the grid of P_p(X1 >= crit[X2]): a lower bound of the supremum."""
        return float((self._pmf2 * self._sf1[:, crit]).sum(axis=1).max())

    def sup(self, crit: np.ndarray) -> float:
        """max over p in [0, 1] of P_p(X1 >= crit[X2]): the grid, then local refinement of its highest peaks."""
        values = (self._pmf2 * self._sf1[:, crit]).sum(axis=1)
        best = float(values.max())
        peaks = np.flatnonzero((values >= np.roll(values, 1)) & (values >= np.roll(values, -1)))
        for i in peaks[np.argsort(values[peaks])[-3:]]:
            lo, hi = self.grid[max(i - 1, 0)], self.grid[min(i + 1, self.grid.size - 1)]
            res = optimize.minimize_scalar(
                lambda p: -self._at(p, crit), bounds=(lo, hi), method="bounded", options={"xatol": 1e-10}
            )
            best = max(best, -float(res.fun))
        return best


def _threshold_groups(pvalues: np.ndarray) -> np.ndarray:
    """Distinct p-values in ascending order, with floating-point ties merged (the largest kept)."""
    v = np.sort(pvalues.ravel())
    new_group = np.concatenate([v[1:] > v[:-1] * (1 + P_TOL) + 1e-300, [True]])
    return v[new_group]


def _region_critical(pf: np.ndarray, threshold: float) -> np.ndarray:
    """Smallest x1 per x2 with Fisher p-value at most ``threshold`` (p-values fall as x1 grows)."""
    inside = pf <= threshold
    return pf.shape[0] - inside.sum(axis=0)


def boschloo_reject_table(m1: int, m2: int, alpha: float) -> np.ndarray:
    """One-sided Boschloo test at level alpha: success for each (x1, x2).

    The region {Fisher p <= t} is enlarged while its size, maximized over the common
    null response rate, stays at most alpha; the largest such t is the critical value.

    References
    ----------
    Boschloo RD. Raised conditional level of significance for the 2x2-table when testing
    the equality of two probabilities. Statistica Neerlandica 1970;24:1-35.
    """
    pf = fisher_pvalues(m1, m2)
    if np.any(np.diff(pf, axis=0) > 1e-12):
        raise RuntimeError("Fisher p-values are not monotone in x1")
    thresholds = _threshold_groups(pf)
    size = _NullSize(m1, m2)
    # Binary search on the grid's lower bound of the size (cheap); a region it rejects is too large
    # for certain. Then shrink the chosen region until its refined supremum is at most alpha.
    lo, hi = -1, thresholds.size  # invariant: grid size(lo) <= alpha < grid size(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if size.on_grid(_region_critical(pf, thresholds[mid])) <= alpha:
            lo = mid
        else:
            hi = mid
    while lo >= 0 and size.sup(_region_critical(pf, thresholds[lo])) > alpha:
        lo -= 1
    if lo < 0:
        return np.zeros_like(pf, dtype=bool)
    return pf <= thresholds[lo]


def boschloo_pvalue(x1: int, m1: int, x2: int, m2: int) -> float:
    """One-sided Boschloo p-value of one table: sup_p P_p(Fisher p <= observed Fisher p)."""
    pf = fisher_pvalues(m1, m2)
    observed = pf[x1, x2] * (1 + P_TOL)
    return _NullSize(m1, m2).sup(_region_critical(pf, observed))
