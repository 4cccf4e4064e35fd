"""Exact multi-stage single-arm binary designs: boundaries on the count scale, operating
characteristics by recursion over the stage counts (no Monte Carlo error).

Model
-----
Look k analyses the participants of stages 1..k (planned cumulative sizes n_1 < ... < n_K = N).
Each analysed participant is a responder with probability q, independently: q = p (1 - d) when
dropouts count as failures (the composite estimand), q = p when dropouts are missing (then the
completers of stage k are Binomial(n_k - n_{k-1}, 1 - d), independent of the outcome, and the
boundaries are those of the completer counts actually observed). Given the completer counts the
cumulative responders X_k are sums of independent binomial stage increments, so the sub-density
P(still running at look k, X_k = x) is the sub-density of look k-1, with the stopped counts removed,
convolved with the Binomial pmf of the stage (Jennison and Turnbull 2000, sec. 12.1).

A look stops for efficacy when X_k >= e_k and for futility when X_k < f_k (interim looks); at the
last look X_K >= e_K is success, anything else failure.

Boundaries
----------
* ``exact-binomial``: e_k is the smallest count whose exact probability of a first crossing at look k
  under the null boundary q0, added to the probability of crossing before, does not exceed the
  cumulative alpha spent at t_k = n_k / N (O'Brien-Fleming-, Pocock-type, HSD or custom spending, as for
  normal-theory designs). The null is on the estimand scale: q0 equals the performance goal under both
  strategies. Non-binding designs compute e_k as if futility stops were never obeyed, so the type I error
  is at most alpha whether or not they are; binding designs compute them with the futility stops.
  ``interim.efficacy_counts`` replaces the spending boundaries by the user's counts.
* ``z-score``: the normal-theory z boundaries of :mod:`planner.sequential` applied to the score statistic,
  expressed as counts (the same decisions as the simulation's ``z >= c``), so their exact size is shown.
* ``posterior-probability``: efficacy when P(p > goal | data) exceeds the (interim) threshold, futility
  when the predictive probability of final success is below the futility threshold
  (:class:`planner.looks.BayesianLooks`).

Futility for ``exact-binomial``: ``conditional-power`` (the probability, under the current trend x / m,
that the remaining participants bring the count to the final critical count), ``predictive-probability``
(the same under the Beta(1, 1) posterior predictive), ``counts`` (stop when X_k <= r_k, Simon's
convention), or ``beta-spending`` (the largest counts whose probability of a futility stop under the
alternative ``interim.beta_alternative`` stays within the beta spent, as gsDesign's binomial designs).
The final critical count used for them is the non-binding one.

References
----------
Jennison C, Turnbull BW. Group Sequential Methods with Applications to Clinical Trials.
Chapman & Hall/CRC 2000, ch. 12 (exact calculations for binary responses).
Simon R. Optimal two-stage designs for phase II clinical trials. Control Clin Trials 1989;10:1-10.
Anderson K. gsDesign: gsBinomialExact (exact binomial group sequential boundaries and their OC).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
from scipy import stats

from planner.design import Design
from planner.errors import DesignError
from planner.sequential import spending, wang_tsiatis_boundaries

__all__ = [
    "CountBoundaries",
    "MultistageOC",
    "MultistageBinary",
    "TwoArmMultistage",
    "multistage_available",
    "MAX_PATHS",
]

# Completer paths (dropouts missing) with probability below this are left out of the enumeration.
NEGLIGIBLE_PATH = 1e-14
# Enumeration is offered ("auto") up to this many completer paths.
MAX_PATHS = 20_000
# Probabilities within this relative distance of the alpha spent count as equal to it.
ALPHA_TOL = 1e-9

COUNT_RULES = ("exact-binomial", "z-score", "posterior-probability")
# Two-arm enumeration is offered up to this many (x_t, x_c) cells summed over the looks.
MAX_TWO_ARM_CELLS = 2_000_000


@dataclass(frozen=True)
class CountBoundaries:
    """Count-scale boundaries of one completer path: success at look k when X_k >= efficacy[k];
    stop for futility when X_k < futility[k] (0 = no futility stop). ``analysed`` are cumulative."""

    analysed: tuple[int, ...]
    efficacy: tuple[int, ...]
    futility: tuple[int, ...]


@dataclass(frozen=True)
class MultistageOC:
    """Exact operating characteristics, one row per response rate: arrays of shape (P, K) or (P,)."""

    efficacy: np.ndarray  # P(stop for efficacy at look k); the last look: final success
    futility: np.ndarray  # P(stop for futility at look k); the last look: final failure
    reject_ignoring_futility: np.ndarray  # P(some look crosses its efficacy bound) if futility never stops
    expected_n: np.ndarray  # expected participants enrolled
    lost_mass: float  # probability of the completer paths left out (0 without missing dropouts)

    @property
    def success(self) -> np.ndarray:
        return self.efficacy.sum(axis=1)


def _binom_pmf(size: int, q: np.ndarray) -> np.ndarray:
    return stats.binom.pmf(np.arange(size + 1)[None, :], size, q[:, None])


def _convolve(dens: np.ndarray, pmf: np.ndarray) -> np.ndarray:
    """Sub-density of X + Y for each row: dens (P, L) of X, pmf (P, s + 1) of an independent Y."""
    rows, length = dens.shape
    s = pmf.shape[1] - 1
    out = np.zeros((rows, length + s))
    if s + 1 <= length:
        for j in range(s + 1):
            out[:, j : j + length] += dens * pmf[:, j : j + 1]
    else:
        for i in range(length):
            out[:, i : i + s + 1] += dens[:, i : i + 1] * pmf
    return out


def _tails(dens: np.ndarray) -> np.ndarray:
    """T[c] = sum_{x >= c} dens[x] for c = 0..L (last entry 0)."""
    return np.concatenate([np.cumsum(dens[::-1])[::-1], [0.0]])


def forward(
    b: CountBoundaries, q: np.ndarray, *, start: tuple[int, int] = (0, 0), flips: bool = False
) -> dict[str, np.ndarray]:
    """The recursion over the later stages of a single-arm design with count boundaries ``b``, from ``start``
    = (responders, analysed) (the trial's beginning by default), per response probability of the analysed
    (array q, shape (P,)): ``eff[:, k]`` and ``fut[:, k]`` the stops at look k (the last look's: final success and
    failure; looks before ``start`` stay 0). With ``flips``, for each interim look, the probability of stopping
    for futility when the remaining N - n_k participants would have brought the count to the final critical
    count, and of stopping for efficacy when they would not (binomial tails)."""
    x0, m0 = start
    sizes, last = b.analysed, len(b.analysed) - 1
    n, e_final = sizes[-1], b.efficacy[-1]
    eff = np.zeros((q.size, last + 1))
    fut = np.zeros((q.size, last + 1))
    flip_fut = np.zeros((q.size, last))
    flip_eff = np.zeros((q.size, last))
    dens = np.zeros((q.size, x0 + 1))
    dens[:, x0] = 1.0
    previous = m0
    for k, size in enumerate(sizes):
        if size < m0:
            continue
        dens = _convolve(dens, _binom_pmf(size - previous, q))
        previous = size
        e = b.efficacy[k]
        if flips and k < last:
            x = np.arange(dens.shape[1])
            reach = stats.binom.sf((e_final - x)[None, :] - 1, n - size, q[:, None])
            flip_eff[:, k] = (dens * (1.0 - reach) * (x >= e)).sum(axis=1)
            flip_fut[:, k] = (dens * reach * (x < b.futility[k])).sum(axis=1)
        eff[:, k] = dens[:, e:].sum(axis=1)
        dens[:, e:] = 0.0
        f = e if k == last else b.futility[k]
        fut[:, k] = dens[:, :f].sum(axis=1)
        dens[:, :f] = 0.0
    return {"eff": eff, "fut": fut, "flip_fut": flip_fut, "flip_eff": flip_eff}


def multistage_available(design: Design) -> bool:
    """True when the design is a binary design with interim looks that this module enumerates: single arm
    (exact-binomial, z-score, posterior-probability), or two arms with the pooled z test and no missing dropouts."""
    if design.interim is None or design.endpoint.kind != "binary":
        return False
    if design.randomized:
        cells = np.prod([n + 1 for n in design.arms.sizes]) * len(design.look_sizes)
        return design.analysis.rule == "z-pooled" and not _missing(design) and cells <= MAX_TWO_ARM_CELLS
    if design.analysis.rule not in COUNT_RULES:
        return False
    return _path_count(design) <= MAX_PATHS


def _stage_sizes(design: Design) -> tuple[int, ...]:
    looks = [look[0] for look in design.look_sizes]
    return tuple(b - a for a, b in zip([0, *looks[:-1]], looks, strict=True))


def _completer_support(size: int, retained: float) -> tuple[np.ndarray, np.ndarray]:
    c = np.arange(size + 1)
    pmf = stats.binom.pmf(c, size, retained)
    keep = pmf > NEGLIGIBLE_PATH
    return c[keep], pmf[keep]


def _missing(design: Design) -> bool:
    return design.dropout.rate > 0.0 and design.dropout.strategy == "missing"


def _path_count(design: Design) -> int:
    if not _missing(design):
        return 1
    total = 1
    for s in _stage_sizes(design):
        total *= _completer_support(s, 1.0 - design.dropout.rate)[0].size
    return total


class MultistageBinary:
    """Boundaries and exact operating characteristics of a single-arm binary design with interim looks."""

    def __init__(self, design: Design):
        if design.interim is None or design.randomized or design.endpoint.kind != "binary":
            raise ValueError("multi-stage enumeration needs a single-arm binary design with interim looks")
        self.design = design
        it, an = design.interim, design.analysis
        self.rule = an.rule
        self.goal = float(an.performance_goal)
        self.alpha = an.alpha
        self.planned = tuple(look[0] for look in design.look_sizes)  # cumulative enrolled per look
        self.stages = _stage_sizes(design)
        self.K = len(self.planned)
        self.n = design.arms.n
        self.missing = _missing(design)
        self.retained = 1.0 - design.dropout.rate
        self.binding = it.binding
        self.futility_kind = it.futility
        self._cache: dict[tuple[int, ...], CountBoundaries] = {}
        self._nonbinding: dict[tuple[int, ...], tuple[int, ...]] = {}
        if self.rule == "exact-binomial" and it.spending == "wang-tsiatis":
            # spend per look what the classical Wang-Tsiatis boundaries spend at these fractions
            self.spent = np.array(
                wang_tsiatis_boundaries(np.array(self.planned) / self.n, an.alpha, it.delta).alpha_spent
            )
            self.spent[-1] = an.alpha
        elif self.rule == "exact-binomial":
            self.spent = spending(
                it.spending, an.alpha, np.array(self.planned) / self.n, it.gamma, it.cumulative_alpha
            )
            self.spent[-1] = an.alpha if it.spending != "custom" else self.spent[-1]
        self._check_reachable()

    # --- boundaries -----------------------------------------------------------------------
    @cached_property
    def _bayes(self):
        from planner.looks import BayesianLooks

        return BayesianLooks(self.design)

    @cached_property
    def _z(self):
        from planner.looks import boundaries_for

        return boundaries_for(self.design)

    def _z_count(self, m: int, z: float) -> int:
        """Smallest x of m whose score z statistic is at least z (the simulation's convention)."""
        if not np.isfinite(z):
            return 0 if z < 0 else m + 1
        x = np.arange(m + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            stat = (
                (x / m - self.goal) / np.sqrt(self.goal * (1 - self.goal) / m)
                if m > 0
                else np.full(1, -np.inf)
            )
        ok = stat >= z
        return int(np.argmax(ok)) if ok.any() else m + 1

    def _spending_counts(
        self, analysed: tuple[int, ...], futility: tuple[int, ...] | None
    ) -> tuple[int, ...]:
        """Efficacy counts spending alpha exactly under the null q0 = goal (futility stops removed if given)."""
        dens = np.ones((1, 1))
        crossed = 0.0
        out = []
        previous = 0
        q0 = np.array([self.goal])
        for k, m in enumerate(analysed):
            dens = _convolve(dens, _binom_pmf(m - previous, q0))
            previous = m
            tails = _tails(dens[0])
            allowed = self.spent[k] * (1 + ALPHA_TOL) + 1e-15 - crossed
            e = int(np.argmax(tails <= allowed)) if allowed >= 0 else m + 1
            out.append(e)
            crossed += tails[e]
            dens[:, e:] = 0.0
            if futility is not None and k < self.K - 1:
                dens[:, : futility[k]] = 0.0
        return tuple(out)

    def _efficacy_counts(
        self, analysed: tuple[int, ...], futility: tuple[int, ...] | None
    ) -> tuple[int, ...]:
        it = self.design.interim
        if self.rule == "exact-binomial":
            if it.efficacy_counts is not None:
                return tuple(min(int(e), m + 1) for e, m in zip(it.efficacy_counts, analysed, strict=True))
            return self._spending_counts(analysed, futility)
        if self.rule == "z-score":
            return tuple(self._z_count(m, c) for m, c in zip(analysed, self._z.efficacy, strict=True))
        out = []
        for k, m in enumerate(analysed):
            rule = self._bayes.final if k == self.K - 1 else self._bayes.interim
            out.append(rule.critical(m))
        return tuple(out)

    def _final_count(self, analysed: tuple[int, ...]) -> int:
        """Non-binding final critical count of the path extended by the expected completers."""
        k = len(analysed)
        extended = list(analysed)
        for s in self.stages[k:]:
            extended.append(extended[-1] + (int(round(s * self.retained)) if self.missing else s))
        key = tuple(extended)
        if key not in self._nonbinding:
            self._nonbinding[key] = self._efficacy_counts(key, None)
        return self._nonbinding[key][-1]

    def _beta_spending_counts(self, analysed: tuple[int, ...]) -> tuple[int, ...]:
        """Futility counts spending beta under the alternative: at each interim look the largest f whose
        probability of a futility stop there (given no earlier stop), added to the earlier ones, does not exceed
        the cumulative beta spent at t_k = n_k / N (the efficacy counts being the non-binding ones)."""
        it = self.design.interim
        q1 = np.array(
            [it.beta_alternative * (self.retained if self.design.dropout.strategy == "failure" else 1.0)]
        )
        spent = spending(it.beta_spending, it.beta, np.array(self.planned) / self.n, it.gamma_beta)
        efficacy = self._efficacy_counts(analysed, None)
        dens = np.ones((1, 1))
        stopped, out, previous = 0.0, [], 0
        for k, m in enumerate(analysed[:-1]):
            dens = _convolve(dens, _binom_pmf(m - previous, q1))
            previous = m
            dens[:, efficacy[k] :] = 0.0
            below = np.concatenate([[0.0], np.cumsum(dens[0])])  # below[f] = P(continuing, X_k < f)
            allowed = spent[k] * (1 + ALPHA_TOL) + 1e-15 - stopped
            f = int(np.flatnonzero(below <= allowed)[-1])
            out.append(f)
            stopped += below[f]
            dens[:, :f] = 0.0
        return tuple(out) + (0,)

    def _futility_counts(self, analysed: tuple[int, ...]) -> tuple[int, ...]:
        """f_k per interim look (stop when X_k < f_k); the last entry is unused (0)."""
        it = self.design.interim
        kind = self.futility_kind
        if kind == "beta-spending":
            return self._beta_spending_counts(analysed)
        out = []
        for k, m in enumerate(analysed[:-1]):
            if kind == "none":
                out.append(0)
                continue
            if self.rule == "z-score":
                out.append(self._z_count(m, self._z.futility[k]))
                continue
            remaining = self.n - self.planned[k]
            r = int(round(remaining * self.retained)) if self.missing else remaining
            if self.rule == "posterior-probability":
                out.append(self._bayes.futility_count(m, r) if kind == "predictive-probability" else 0)
                continue
            if kind == "counts":
                out.append(int(it.futility_counts[k]) + 1)
                continue
            target = self._final_count(analysed[: k + 1])
            x = np.arange(m + 1)
            need = target - x
            if kind == "conditional-power":
                prob = stats.binom.sf(need - 1, r, x / max(m, 1))
            else:  # predictive probability under the Beta(1, 1) posterior, Beta(1 + x, 1 + m - x)
                prob = stats.betabinom.sf(need - 1, r, 1 + x, 1 + m - x)
            ok = prob >= it.futility_threshold
            out.append(int(np.argmax(ok)) if ok.any() else m + 1)
        return tuple(out) + (0,)

    def boundaries(self, analysed: tuple[int, ...] | None = None) -> CountBoundaries:
        """Count boundaries for cumulative analysed counts ``analysed`` (default: the planned looks, all analysed)."""
        if analysed is None:
            analysed = (
                tuple(int(round(n * self.retained)) for n in self.planned) if self.missing else self.planned
            )
        analysed = tuple(int(a) for a in analysed)
        if analysed not in self._cache:
            futility = self._futility_counts(analysed)
            binding = self.binding and self.rule == "exact-binomial" and self.futility_kind != "none"
            efficacy = self._efficacy_counts(analysed, futility if binding else None)
            # a futility count above the efficacy count cannot apply: efficacy is checked first
            futility = tuple(min(f, e) for f, e in zip(futility, efficacy, strict=True))
            self._cache[analysed] = CountBoundaries(analysed, efficacy, futility)
        return self._cache[analysed]

    def _check_reachable(self) -> None:
        it = self.design.interim
        if self.rule == "exact-binomial" and it.futility == "counts":
            efficacy = self._efficacy_counts(self.planned, None)
            for k, (r, e) in enumerate(zip(it.futility_counts, efficacy[:-1], strict=False)):
                if r + 1 > e:
                    raise DesignError(
                        f"interim.futility_counts[{k}]: {r} (stop at {r} or fewer responders at look "
                        f"{k + 1}) is not below the efficacy count {e} of that look"
                    )
        b = self.boundaries(self.planned)
        if all(e > m for e, m in zip(b.efficacy, b.analysed, strict=True)):
            p_all = self.goal**self.n
            raise DesignError(
                f"analysis.alpha: {self.alpha:g} cannot be reached: even {self.n} responders of {self.n} have "
                f"probability {p_all:.3g} under the performance goal {self.goal:g}"
            )

    # --- operating characteristics ---------------------------------------------------------
    def _paths(self):
        """(probability, cumulative analysed counts) of every completer path kept."""
        if not self.missing:
            yield 1.0, self.planned
            return
        supports = [_completer_support(s, self.retained) for s in self.stages]

        def walk(k, weight, analysed):
            if k == self.K:
                yield weight, analysed
                return
            values, pmf = supports[k]
            last = analysed[-1] if analysed else 0
            for c, w in zip(values, pmf, strict=True):
                if weight * w > NEGLIGIBLE_PATH:
                    yield from walk(k + 1, weight * w, (*analysed, last + int(c)))

        yield from walk(0, 1.0, ())

    def _path_oc(self, b: CountBoundaries, q: np.ndarray):
        dens = np.ones((q.size, 1))
        plain = np.ones((q.size, 1))  # futility never obeyed
        eff = np.zeros((q.size, self.K))
        fut = np.zeros((q.size, self.K))
        ignoring = np.zeros(q.size)
        previous = 0
        for k, m in enumerate(b.analysed):
            pmf = _binom_pmf(m - previous, q)
            previous = m
            dens = _convolve(dens, pmf)
            plain = _convolve(plain, pmf)
            e = b.efficacy[k]
            eff[:, k] = dens[:, e:].sum(axis=1)
            ignoring += plain[:, e:].sum(axis=1)
            dens[:, e:] = 0.0
            plain[:, e:] = 0.0
            f = e if k == self.K - 1 else b.futility[k]
            fut[:, k] = dens[:, :f].sum(axis=1)
            dens[:, :f] = 0.0
        return eff, fut, ignoring

    def oc(self, response, control=None) -> MultistageOC:
        """Exact operating characteristics at response rates ``response`` (participants who stay)."""
        p = np.atleast_1d(np.asarray(response, dtype=float))
        q = p if self.missing else p * self.retained if self.design.dropout.strategy == "failure" else p
        eff = np.zeros((p.size, self.K))
        fut = np.zeros((p.size, self.K))
        ignoring = np.zeros(p.size)
        kept = 0.0
        for weight, analysed in self._paths():
            e, f, i = self._path_oc(self.boundaries(analysed), q)
            eff += weight * e
            fut += weight * f
            ignoring += weight * i
            kept += weight
        enrolled = np.array(self.planned, dtype=float)
        expected_n = (eff + fut) @ enrolled
        return MultistageOC(eff, fut, ignoring, expected_n, max(1.0 - kept, 0.0))

    def success_probability(self, response, control=None) -> np.ndarray:
        return self.oc(response).success

    # --- the simulation's decisions ----------------------------------------------------------
    def decide(
        self, k: int, analysed_history: np.ndarray, events: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(efficacy, futility) at look k for simulated trials: ``analysed_history`` (trials, k + 1) holds the
        cumulative analysed counts at looks 0..k, ``events`` the cumulative responders at look k."""
        if not self.missing:
            b = self.boundaries()
            return events >= b.efficacy[k], events < (b.futility[k] if k < self.K - 1 else 0)
        paths, inverse = np.unique(analysed_history, axis=0, return_inverse=True)
        eff_count = np.empty(paths.shape[0], dtype=np.int64)
        fut_count = np.empty(paths.shape[0], dtype=np.int64)
        for i, prefix in enumerate(paths):
            full = self._complete(tuple(int(v) for v in prefix))
            b = self.boundaries(full)
            eff_count[i] = b.efficacy[k]
            fut_count[i] = b.futility[k] if k < self.K - 1 else 0
        inverse = inverse.ravel()
        return events >= eff_count[inverse], events < fut_count[inverse]

    def _complete(self, prefix: tuple[int, ...]) -> tuple[int, ...]:
        """Boundaries at look k depend only on the path up to k; complete a prefix with expected completers."""
        out = list(prefix)
        for s in self.stages[len(prefix) :]:
            out.append(out[-1] + (int(round(s * self.retained)) if self.missing else s))
        return tuple(out)


def _convolve_axis(dens: np.ndarray, pmf: np.ndarray, axis: int) -> np.ndarray:
    """Sub-density of (X + Y) along one axis of a 2-D sub-density, Y independent with pmf ``pmf``."""
    moved = np.moveaxis(dens, axis, 0)
    out = np.zeros((moved.shape[0] + pmf.size - 1, *moved.shape[1:]))
    for j, w in enumerate(pmf):
        out[j : j + moved.shape[0]] += w * moved
    return np.moveaxis(out, 0, axis)


class TwoArmMultistage:
    """Exact operating characteristics of a randomized binary design with interim looks and the pooled z test.

    The state is the pair of cumulative responder counts (x_t, x_c); each stage adds independent binomial
    increments in each arm (a separable 2-D convolution), and the look's normal-theory boundaries are applied
    to the pooled z statistic of every cell, with the simulation's own statistic and tie convention
    (the rule's :meth:`at_or_above`, as in the simulation), so the exact size of the approximate design is shown.
    Dropouts count as failures (q = p (1 - d) per arm); designs with missing dropouts are simulated.
    """

    def __init__(self, design: Design):
        from planner.looks import boundaries_for

        if not (design.randomized and design.interim is not None and design.analysis.rule == "z-pooled"):
            raise ValueError("two-arm enumeration needs a randomized z-pooled design with interim looks")
        self.design = design
        self.looks = design.look_sizes
        self.K = len(self.looks)
        self.bounds = boundaries_for(design)
        self.retained = 1.0 - design.dropout.rate
        self._regions = [self._region(k) for k in range(self.K)]

    def _region(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        from planner.endpoints import BinaryArm, TrialSample
        from planner.rules import rule_for

        mt, mc = self.looks[k]
        xt, xc = np.meshgrid(np.arange(mt + 1), np.arange(mc + 1), indexing="ij")
        sample = TrialSample(
            BinaryArm(np.full(xt.size, mt), xt.ravel()), BinaryArm(np.full(xt.size, mc), xc.ravel())
        )
        lo = self.bounds.futility[k]
        rule = rule_for(self.design)
        if np.isfinite(lo):
            cross, above_lower = rule.at_or_above(sample, (self.bounds.efficacy[k], lo))
            below = ~above_lower.reshape(xt.shape)
        else:
            (cross,) = rule.at_or_above(sample, (self.bounds.efficacy[k],))
            below = np.zeros(xt.shape, dtype=bool)
        cross = cross.reshape(xt.shape)
        return cross, below & ~cross

    def _one(self, pt: float, pc: float):
        qt, qc = pt * self.retained, pc * self.retained
        dens = np.ones((1, 1))
        plain = np.ones((1, 1))
        eff, fut = np.zeros(self.K), np.zeros(self.K)
        ignoring = 0.0
        previous = (0, 0)
        for k, (mt, mc) in enumerate(self.looks):
            pmf_t = stats.binom.pmf(np.arange(mt - previous[0] + 1), mt - previous[0], qt)
            pmf_c = stats.binom.pmf(np.arange(mc - previous[1] + 1), mc - previous[1], qc)
            previous = (mt, mc)
            dens = _convolve_axis(_convolve_axis(dens, pmf_t, 0), pmf_c, 1)
            plain = _convolve_axis(_convolve_axis(plain, pmf_t, 0), pmf_c, 1)
            cross, below = self._regions[k]
            eff[k] = dens[cross].sum()
            ignoring += plain[cross].sum()
            dens[cross] = 0.0
            plain[cross] = 0.0
            stop = np.ones_like(cross) if k == self.K - 1 else below
            fut[k] = dens[stop].sum()
            dens[stop] = 0.0
        return eff, fut, ignoring

    def oc(self, treatment, control=None) -> MultistageOC:
        pt = np.atleast_1d(np.asarray(treatment, dtype=float))
        pc = np.broadcast_to(np.atleast_1d(np.asarray(control, dtype=float)), pt.shape)
        rows = [self._one(float(a), float(b)) for a, b in zip(pt, pc, strict=True)]
        eff = np.array([r[0] for r in rows])
        fut = np.array([r[1] for r in rows])
        ignoring = np.array([r[2] for r in rows])
        enrolled = np.array([sum(look) for look in self.looks], dtype=float)
        return MultistageOC(eff, fut, ignoring, (eff + fut) @ enrolled, 0.0)

    def success_probability(self, treatment, control=None) -> np.ndarray:
        return self.oc(treatment, control).success


@cache
def multistage_for(design: Design):
    """The exact multi-stage evaluator of a binary design with interim looks (cached per design)."""
    return TwoArmMultistage(design) if design.randomized else MultistageBinary(design)
