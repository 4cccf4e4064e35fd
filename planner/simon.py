"""Simon's two-stage single-arm designs: optimal, minimax and admissible, by exhaustive exact search.

A design (r1, n1, r, n) enrols n1 participants, stops for futility when at most r1 respond, otherwise
enrols n - n1 more and succeeds when more than r respond in all. With X1 ~ Bin(n1, p), X2 ~ Bin(n - n1, p):
P(success | p) = sum_{x1 > r1} P(X1 = x1) P(X2 > r - x1), PET(p) = P(X1 <= r1) and
EN(p) = n1 + (1 - PET(p)) (n - n1). A design is feasible when P(success | p0) < alpha and
P(success | p1) > 1 - beta. For every total n the feasible design with the smallest EN(p0) is kept
(ties as clinfun's ph2simon, whose strict inequalities these are: the smaller n1, and among the r that share
the EN the largest); the **minimax** design is
the kept design with the smallest n (ties: smaller EN), the **optimal** one has the smallest EN(p0), and
the **admissible** designs (Jung et al. 2004) are those minimizing q n + (1 - q) EN(p0) for some q in
[0, 1]: the lower convex hull of (n, EN(p0)) between the minimax and the optimal design.

References
----------
Simon R. Optimal two-stage designs for phase II clinical trials. Control Clin Trials 1989;10:1-10.
Jung SH, Lee T, Kim K, George SL. Admissible two-stage designs for phase II cancer clinical trials.
Stat Med 2004;23:561-9.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from planner.errors import DesignError

__all__ = ["SimonDesign", "SimonSearch", "simon_oc", "simon_search", "simon_design_data"]

MAX_N = 300


@dataclass(frozen=True)
class SimonDesign:
    r1: int
    n1: int
    r: int
    n: int
    en0: float  # expected sample size under p0
    pet0: float  # probability of early termination under p0
    alpha: float  # P(success | p0)
    power: float  # P(success | p1)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SimonSearch:
    p0: float
    p1: float
    alpha: float
    beta: float
    minimax: SimonDesign
    optimal: SimonDesign
    admissible: tuple[SimonDesign, ...]
    best_per_n: tuple[SimonDesign, ...]

    def to_dict(self) -> dict:
        return {
            "p0": self.p0,
            "p1": self.p1,
            "alpha": self.alpha,
            "beta": self.beta,
            "minimax": self.minimax.to_dict(),
            "optimal": self.optimal.to_dict(),
            "admissible": [d.to_dict() for d in self.admissible],
        }


def simon_oc(r1: int, n1: int, r: int, n: int, p: float) -> tuple[float, float, float]:
    """(P(success), PET, EN) of the two-stage design at response rate p."""
    x1 = np.arange(r1 + 1, n1 + 1)
    success = float(np.sum(stats.binom.pmf(x1, n1, p) * stats.binom.sf(r - x1, n - n1, p)))
    pet = float(stats.binom.cdf(r1, n1, p))
    return success, pet, n1 + (1.0 - pet) * (n - n1)


class _Tables:
    """Binomial pmfs and upper tails for every size up to n_max at one response rate (computed once)."""

    def __init__(self, p: float, n_max: int):
        self.pmf = [stats.binom.pmf(np.arange(m + 1), m, p) for m in range(n_max + 1)]
        k = np.arange(-n_max - 1, n_max + 1)
        self.offset = n_max + 1
        self.tail = [stats.binom.sf(k, m, p) for m in range(n_max + 1)]  # P(X > k), k from -n_max - 1

    def success(self, n1: int, n: int) -> np.ndarray:
        """P(success) for every (r1, r) with 0 <= r1 < n1, 0 <= r < n; shape (n1, n)."""
        x1 = np.arange(n1 + 1)[:, None]
        r = np.arange(n)[None, :]
        contrib = self.pmf[n1][:, None] * self.tail[n - n1][r - x1 + self.offset]
        # success(r1, r) = sum over x1 > r1 of contrib[x1, r]: reverse cumulative sum, shifted by one
        return np.cumsum(contrib[::-1], axis=0)[::-1][1:]


def _check(p0, p1, alpha, beta, n_max) -> None:
    for name, v in (("p0", p0), ("p1", p1)):
        if not (isinstance(v, (int, float)) and 0.0 < v < 1.0):
            raise DesignError(f"{name}: a response rate strictly between 0 and 1, got {v!r}")
    if not p1 > p0:
        raise DesignError(f"p1: must exceed p0 = {p0}, got {p1}")
    for name, v in (("alpha", alpha), ("beta", beta)):
        if not (isinstance(v, (int, float)) and 0.0 < v < 0.5):
            raise DesignError(f"{name}: must lie strictly between 0 and 0.5, got {v!r}")
    if isinstance(n_max, bool) or not isinstance(n_max, int) or not 2 <= n_max <= MAX_N:
        raise DesignError(f"n_max: a whole number from 2 to {MAX_N}, got {n_max!r}")


def simon_search(p0: float, p1: float, alpha: float, beta: float, n_max: int = 100) -> SimonSearch:
    """Search every (r1, n1, r, n) with n <= n_max (see the module docstring)."""
    _check(p0, p1, alpha, beta, n_max)
    t0, t1 = _Tables(p0, n_max), _Tables(p1, n_max)
    best: list[SimonDesign] = []
    for n in range(2, n_max + 1):
        found = None
        for n1 in range(1, n):
            s1 = t1.success(n1, n)
            if s1.max() < 1.0 - beta:
                continue
            s0 = t0.success(n1, n)
            ok = (s0 < alpha) & (1.0 - s1 < beta)  # strict, as ph2simon
            ok &= np.arange(n)[None, :] >= np.arange(n1)[:, None]  # r >= r1
            if not ok.any():
                continue
            pet0 = np.cumsum(t0.pmf[n1])[:n1]
            en0 = n1 + (1.0 - pet0) * (n - n1)
            rows = np.flatnonzero(ok.any(axis=1))
            i = rows[np.argmin(en0[rows])]  # smallest EN(p0): the largest feasible r1 (EN falls as r1 grows)
            j = int(np.flatnonzero(ok[i])[-1])  # every feasible r gives that EN; ph2simon keeps the largest
            cand = SimonDesign(
                int(i), n1, j, n, float(en0[i]), float(pet0[i]), float(s0[i, j]), float(s1[i, j])
            )
            if found is None or cand.en0 < found.en0 - 1e-12:
                found = cand
        if found is not None:
            best.append(found)
    if not best:
        raise DesignError(
            f"n_max: no two-stage design with N <= {n_max} has P(success | p0 = {p0}) <= {alpha} "
            f"and P(success | p1 = {p1}) >= {1 - beta}; raise n_max or relax alpha, beta"
        )
    minimax = min(best, key=lambda d: (d.n, d.en0))
    optimal = min(best, key=lambda d: (d.en0, d.n))
    admissible = _admissible([d for d in best if minimax.n <= d.n <= optimal.n])
    return SimonSearch(p0, p1, alpha, beta, minimax, optimal, tuple(admissible), tuple(best))


def _admissible(designs: list[SimonDesign]) -> list[SimonDesign]:
    """Designs minimizing q n + (1 - q) EN(p0) for some q in [0, 1] (lower convex hull in (n, EN))."""
    out = []
    for d in designs:
        for q in np.linspace(0.0, 1.0, 1001):
            score = q * d.n + (1 - q) * d.en0
            if all(score <= q * e.n + (1 - q) * e.en0 + 1e-12 for e in designs):
                out.append(d)
                break
    return out


def simon_design_data(d: SimonDesign, p0: float, p1: float, alpha: float, name: str | None = None) -> dict:
    """A Simon design as a planner design (TOML-ready dict): an exact-binomial single-arm design with one
    interim look at n1, futility counts [r1] and success only at the end (more than r responders)."""
    return {
        "name": name or f"Simon two-stage design {d.r1}/{d.n1}, {d.r}/{d.n}",
        "description": (
            f"Simon (1989) two-stage design for p0 = {p0}, p1 = {p1}: stop after {d.n1} if at most "
            f"{d.r1} respond; success if more than {d.r} of {d.n} respond."
        ),
        "arms": {"kind": "single-arm", "n": d.n},
        "endpoint": {"kind": "binary"},
        "analysis": {"rule": "exact-binomial", "alpha": alpha, "performance_goal": p0},
        # binding: Simon's type I error counts on stopping after stage 1 when at most r1 respond
        "interim": {
            "fractions": [d.n1 / d.n, 1.0],
            "futility": "counts",
            "futility_counts": [d.r1],
            "efficacy_counts": [d.n1 + 1, d.r + 1],
            "binding": True,
        },
        "scenarios": [{"name": "p0 (null)", "treatment": p0}, {"name": "p1 (alternative)", "treatment": p1}],
    }
