"""Group sequential boundaries by alpha spending, computed by numerical integration (no simulation).

The standardized statistics Z_1..Z_K at information fractions t_1 < ... < t_K = 1 are
jointly normal with Cov(Z_j, Z_k) = sqrt(t_j / t_k) and E Z_k = drift sqrt(t_k) (the
canonical joint distribution). Boundaries c_k are found one look at a time so that the
probability of first crossing at look k under H0 equals the alpha spent there,
alpha(t_k) - alpha(t_{k-1}); the crossing probabilities come from the recursive
integration of Armitage, McPherson and Rowe on the score scale S_k = Z_k sqrt(t_k),
with Simpson's rule on a fine grid of the continuation region.

References
----------
Lan KKG, DeMets DL. Discrete sequential boundaries for clinical trials. Biometrika 1983;70:659-63.
Hwang IK, Shih WJ, DeCani JS. Group sequential designs using a family of type I error
probability spending functions. Statistics in Medicine 1990;9:1439-45.
Wang SK, Tsiatis AA. Approximately optimal one-parameter boundaries for group sequential trials.
Biometrics 1987;43:193-9 (the Delta family: Delta = 0 O'Brien-Fleming, 0.5 Pocock).
Pampallona S, Tsiatis AA, Kim K. Interim monitoring of group sequential trials using spending functions
for the type I and type II error probabilities. Drug Inf J 2001;35:1113-21 (beta spending).
Jennison C, Turnbull BW. Group Sequential Methods with Applications to Clinical Trials.
Chapman & Hall/CRC 2000, ch. 7 (spending functions) and ch. 19 (numerical computations).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special

Grid = np.ndarray | None  # a look's grid (points, weights, sub-density); None before the first look

__all__ = [
    "at_or_above",
    "at_or_above_threshold",
    "spending",
    "Boundaries",
    "efficacy_boundaries",
    "crossing_probabilities",
    "inflation_factor",
    "conditional_power_futility",
    "wang_tsiatis_boundaries",
    "beta_spending_boundaries",
    "BetaSpendingDesign",
]

GRID_POINTS = 401  # odd, for Simpson's rule; boundaries agree with rpact to about 1e-7
WIDTH = 9.0  # the grid covers mean +- WIDTH standard deviations


def spending(
    kind: str, alpha: float, t: ArrayLike, gamma: float | None = None, cumulative: ArrayLike | None = None
) -> np.ndarray:
    """Cumulative alpha spent at information fractions ``t``.

    kind: ``"obrien-fleming"`` (Lan-DeMets: 2 - 2 Phi(z_{1-alpha/2} / sqrt t)), ``"pocock"``
    (Lan-DeMets: alpha log(1 + (e - 1) t)), ``"hsd"`` (Hwang-Shih-DeCani with ``gamma``:
    alpha (1 - e^{-gamma t}) / (1 - e^{-gamma}), alpha t when gamma = 0) or ``"custom"``
    (``cumulative`` given, nondecreasing, ending at alpha).
    """
    t = np.asarray(t, dtype=float)
    if kind == "obrien-fleming":
        spent: np.ndarray = 2.0 - 2.0 * special.ndtr(special.ndtri(1.0 - alpha / 2.0) / np.sqrt(t))
        return spent
    if kind == "pocock":
        return alpha * np.log1p((np.e - 1.0) * t)
    if kind == "hsd":
        if gamma is None:
            raise ValueError("gamma: required for Hwang-Shih-DeCani spending")
        if gamma == 0.0:
            return alpha * t
        hsd: np.ndarray = alpha * (1.0 - np.exp(-gamma * t)) / (1.0 - np.exp(-gamma))
        return hsd
    if kind == "custom":
        return np.asarray(cumulative, dtype=float)
    raise ValueError(f"unknown spending function {kind!r}")


def _simpson(lo: float, hi: float, n: int = GRID_POINTS) -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(lo, hi, n)
    h = (hi - lo) / (n - 1)
    w = np.full(n, 2.0)
    w[1::2] = 4.0
    w[0] = w[-1] = 1.0
    return x, w * h / 3.0


@dataclass(frozen=True)
class Boundaries:
    """Boundaries on the z scale at each look; futility -inf where there is none."""

    fractions: tuple[float, ...]
    efficacy: tuple[float, ...]
    futility: tuple[float, ...]
    alpha_spent: tuple[float, ...]  # cumulative
    binding_futility: bool = False


class _Recursion:
    """Sub-densities of the score S_k on the continuation region, look by look."""

    def __init__(self, fractions: ArrayLike, drift: float):
        self.t = np.asarray(fractions, dtype=float)
        self.drift = drift

    def first(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t1 = self.t[0]
        mean, sd = self.drift * t1, np.sqrt(t1)
        x, w = _simpson(mean - WIDTH * sd, mean + WIDTH * sd)
        dens = np.exp(-0.5 * ((x - mean) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
        return x, w, dens

    def cross_up(self, k: int, x: np.ndarray, w: np.ndarray, dens: np.ndarray, z: float) -> float:
        """P(continued to look k-1 with S there in the grid, and Z_k >= z)."""
        dt = self.t[k] - self.t[k - 1]
        b = z * np.sqrt(self.t[k])
        return float(np.sum(w * dens * special.ndtr((x + self.drift * dt - b) / np.sqrt(dt))))

    def cross_down(self, k: int, x: np.ndarray, w: np.ndarray, dens: np.ndarray, z: float) -> float:
        dt = self.t[k] - self.t[k - 1]
        a = z * np.sqrt(self.t[k])
        return float(np.sum(w * dens * special.ndtr((a - x - self.drift * dt) / np.sqrt(dt))))

    def advance(
        self, k: int, x: np.ndarray, w: np.ndarray, dens: np.ndarray, lower_z: float, upper_z: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sub-density of S_k on (lower, upper) given the sub-density of S_{k-1}."""
        dt = self.t[k] - self.t[k - 1]
        sd = np.sqrt(dt)
        mean_lo = x.min() + self.drift * dt
        mean_hi = x.max() + self.drift * dt
        lo = max(lower_z * np.sqrt(self.t[k]), mean_lo - WIDTH * sd)
        hi = min(upper_z * np.sqrt(self.t[k]), mean_hi + WIDTH * sd)
        if hi <= lo:  # nothing continues
            y = np.full(GRID_POINTS, lo)
            return y, np.zeros(GRID_POINTS), np.zeros(GRID_POINTS)
        y, wy = _simpson(lo, hi)
        kernel = np.exp(-0.5 * ((y[:, None] - x[None, :] - self.drift * dt) / sd) ** 2) / (
            sd * np.sqrt(2 * np.pi)
        )
        return y, wy, kernel @ (w * dens)


def _restrict(rec: _Recursion, lower_z: float, upper_z: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first look's density of S_1, on a grid of its continuation region (lower, upper) only."""
    t1 = rec.t[0]
    mean, sd = rec.drift * t1, np.sqrt(t1)
    lo = max(lower_z * sd, mean - WIDTH * sd)
    hi = min(upper_z * sd, mean + WIDTH * sd)
    if hi <= lo:  # nothing continues
        return np.full(GRID_POINTS, lo), np.zeros(GRID_POINTS), np.zeros(GRID_POINTS)
    y, wy = _simpson(lo, hi)
    return y, wy, np.exp(-0.5 * ((y - mean) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))


def _excess(z: float, rec: _Recursion, k: int, x: Grid, w: Grid, dens: Grid, target: float) -> float:
    assert x is not None and w is not None and dens is not None  # looks after the first have a grid
    return rec.cross_up(k, x, w, dens, z) - target


def _efficacy_bound(rec: _Recursion, k: int, x: Grid, w: Grid, dens: Grid, target: float) -> float:
    """The z bound at look k whose first-crossing probability under H0 is ``target`` (the alpha spent there)."""
    if k == 0:
        return float(special.ndtri(1.0 - target)) if target > 0 else np.inf
    if target <= 0:
        return np.inf
    if _excess(-10.0, rec, k, x, w, dens, target) < 0:  # too little continues to spend the alpha due
        return -10.0
    return float(optimize.brentq(_excess, -10.0, 40.0, args=(rec, k, x, w, dens, target), xtol=1e-12))


def efficacy_boundaries(
    fractions: ArrayLike,
    alpha: float,
    kind: str = "obrien-fleming",
    *,
    gamma: float | None = None,
    cumulative: ArrayLike | None = None,
    futility: ArrayLike | None = None,
) -> Boundaries:
    """Efficacy boundaries spending ``alpha`` (one-sided) at the information ``fractions``.

    ``futility`` (z values, -inf for none) is *binding* when given here: the boundaries are
    then computed with stopping for futility, and spend exactly alpha only if futility stops
    are always obeyed. Leave it out for non-binding futility (boundaries as if there were none).
    """
    t = np.asarray(fractions, dtype=float)
    if not (np.all(np.diff(t) > 0) and 0 < t[0] and abs(t[-1] - 1.0) < 1e-12):
        raise ValueError(f"fractions: must increase strictly to 1, got {list(t)}")
    spent = spending(kind, alpha, t, gamma, cumulative)
    spent[-1] = alpha if kind != "custom" else spent[-1]
    lower = np.full(t.size, -np.inf) if futility is None else np.asarray(futility, dtype=float)
    rec = _Recursion(t, 0.0)
    x, w, dens = rec.first()
    bounds = []
    for k in range(t.size):
        c = _efficacy_bound(rec, k, x, w, dens, spent[k] - (spent[k - 1] if k else 0.0))
        bounds.append(c)
        if k + 1 < t.size:
            if k == 0:
                x, w, dens = _restrict(rec, lower[0], c)
            else:
                x, w, dens = rec.advance(k, x, w, dens, lower[k], c)
    return Boundaries(tuple(t), tuple(bounds), tuple(lower), tuple(spent), futility is not None)


def crossing_probabilities(
    b: Boundaries, drift: float, *, use_futility: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Per look: P(stop for efficacy), P(stop for futility) under E Z_k = drift sqrt(t_k).

    With ``use_futility`` False, the futility bounds are ignored (the non-binding type I error).
    """
    t = np.asarray(b.fractions)
    lower = np.asarray(b.futility) if use_futility else np.full(t.size, -np.inf)
    rec = _Recursion(t, drift)
    x, w, dens = rec.first()
    up, down = [], []
    for k in range(t.size):
        c = b.efficacy[k]
        if k == 0:
            mean = drift * t[0]
            up.append(float(special.ndtr(mean / np.sqrt(t[0]) - c)))
            down.append(
                float(special.ndtr(lower[0] - mean / np.sqrt(t[0]))) if np.isfinite(lower[0]) else 0.0
            )
        else:
            up.append(rec.cross_up(k, x, w, dens, c))
            down.append(rec.cross_down(k, x, w, dens, lower[k]) if np.isfinite(lower[k]) else 0.0)
        if k + 1 < t.size:
            if k == 0:
                x, w, dens = _restrict(rec, lower[0], c)
            else:
                x, w, dens = rec.advance(k, x, w, dens, lower[k], c)
    return np.array(up), np.array(down)


def inflation_factor(b: Boundaries, power: float) -> float:
    """Maximum information of the sequential design over that of the fixed design with the same power.

    Solves P(reject | drift) = power for the drift, then returns (drift / (z_{1-alpha} + z_power))^2.
    """
    alpha = b.alpha_spent[-1]
    fixed_drift = special.ndtri(1.0 - alpha) + special.ndtri(power)
    drift = optimize.brentq(
        lambda d: crossing_probabilities(b, d)[0].sum() - power, 0.0, 3 * fixed_drift + 5, xtol=1e-12
    )
    return float((drift / fixed_drift) ** 2)


def conditional_power_futility(
    b: Boundaries, threshold: float, drift: float | None = None
) -> tuple[float, ...]:
    """Futility z bounds: stop at interim k when the conditional power of the final test is below ``threshold``.

    The conditional power at Z_k = z of reaching Z_K >= c_K is
    1 - Phi((c_K - z sqrt(t_k) - theta (1 - t_k)) / sqrt(1 - t_k)) on the standardized scale, with
    theta the assumed drift (``drift``: the design's; ``None``: the current trend z / sqrt(t_k)).
    Solving for z gives each bound in closed form; the last look has no futility bound.
    """
    t = np.asarray(b.fractions)
    c = b.efficacy[-1]
    q = special.ndtri(1.0 - threshold)
    out = []
    for tk in t[:-1]:
        if drift is None:  # theta = z / sqrt(tk): z (sqrt(tk) + (1 - tk)/sqrt(tk)) = c - q sqrt(1 - tk)
            z = (c - q * np.sqrt(1 - tk)) * np.sqrt(tk)
        else:
            z = (c - drift * (1 - tk) - q * np.sqrt(1 - tk)) / np.sqrt(tk)
        out.append(float(z))
    return tuple(out) + (-np.inf,)


def wang_tsiatis_boundaries(fractions: ArrayLike, alpha: float, delta: float) -> Boundaries:
    """Classical Wang-Tsiatis boundaries c_k = C t_k^(Delta - 1/2), C such that the level is exactly alpha.

    Delta = 0 gives O'Brien and Fleming's (1979) boundaries, Delta = 0.5 Pocock's (1977) constant ones
    (rpact's typeOfDesign "WT", "OF" and "P"). The cumulative alpha spent at each look is reported.
    """
    t = np.asarray(fractions, dtype=float)
    shape = t ** (delta - 0.5)

    def level(c: float) -> float:
        b = Boundaries(tuple(t), tuple(c * shape), tuple(np.full(t.size, -np.inf)), tuple(np.zeros(t.size)))
        return float(crossing_probabilities(b, 0.0)[0].sum())

    c = optimize.brentq(lambda v: level(v) - alpha, 0.5, 12.0, xtol=1e-13)
    b = Boundaries(tuple(t), tuple(c * shape), tuple(np.full(t.size, -np.inf)), tuple(np.zeros(t.size)))
    up, _ = crossing_probabilities(b, 0.0)
    return Boundaries(b.fractions, b.efficacy, b.futility, tuple(np.cumsum(up)))


@dataclass(frozen=True)
class BetaSpendingDesign:
    """Efficacy and beta-spending futility bounds, the drift they were built for, and the maximum-N inflation."""

    boundaries: Boundaries
    drift: float  # E Z_K at full information under the alternative the power refers to
    inflation_factor: float  # maximum information over that of the fixed design with the same alpha and power
    beta_spent: tuple[float, ...]  # cumulative


def _looks_at_drift(
    t: np.ndarray, alpha_spent: np.ndarray, beta_spent: np.ndarray, drift: float, binding: bool
) -> tuple[list[float], list[float]]:
    """Efficacy bounds c_k (under H0; with the futility stops if binding) and futility bounds l_k spending beta
    under the drift, look by look; returns (c, l)."""
    null, alt = _Recursion(t, 0.0), _Recursion(t, drift)
    c, low = [], []
    xn = wn = dn = xa = wa = da = None
    for k in range(t.size):
        ck = _efficacy_bound(null, k, xn, wn, dn, alpha_spent[k] - (alpha_spent[k - 1] if k else 0.0))
        btarget = beta_spent[k] - (beta_spent[k - 1] if k else 0.0)
        if k == 0:
            mean = drift * np.sqrt(t[0])
            lk = float(mean + special.ndtri(btarget)) if btarget > 0 else -np.inf
        elif btarget <= 0:
            lk = -np.inf
        else:

            def short(
                z: float, k: int = k, xa: Grid = xa, wa: Grid = wa, da: Grid = da, btarget: float = btarget
            ) -> float:
                assert xa is not None and wa is not None and da is not None
                return alt.cross_down(k, xa, wa, da, z) - btarget

            if short(40.0) < 0:  # even stopping every continuing trial spends less than the beta due
                lk = 40.0
            elif short(-20.0) > 0:
                lk = -np.inf
            else:
                lk = float(optimize.brentq(short, -20.0, 40.0, xtol=1e-12))
        if k < t.size - 1:
            lk = min(lk, ck)  # a futility bound above the efficacy bound cannot apply
        c.append(ck)
        low.append(lk)
        if k + 1 < t.size:
            lo_null = lk if binding else -np.inf
            if k == 0:
                xn, wn, dn = _restrict(null, lo_null, ck)
                xa, wa, da = _restrict(alt, lk, ck)
            else:
                assert xn is not None and wn is not None and dn is not None
                assert xa is not None and wa is not None and da is not None
                xn, wn, dn = null.advance(k, xn, wn, dn, lo_null, ck)
                xa, wa, da = alt.advance(k, xa, wa, da, lk, ck)
    return c, low


def beta_spending_boundaries(
    fractions: ArrayLike,
    alpha: float,
    beta: float,
    kind: str = "obrien-fleming",
    beta_kind: str = "obrien-fleming",
    *,
    gamma: float | None = None,
    gamma_beta: float | None = None,
    binding: bool = False,
) -> BetaSpendingDesign:
    """Group sequential bounds with alpha spending for efficacy and beta spending for futility.

    For a drift theta (E Z_k = theta sqrt(t_k)) the futility bound l_k is set so that the probability of
    stopping for futility at look k under theta is the beta spent there (``beta_kind``: O'Brien-Fleming-,
    Pocock-type or Hwang-Shih-DeCani spending of beta, the same functions as for alpha); theta is then
    found so that the last futility bound meets the last efficacy bound (the power is exactly 1 - beta).
    Non-binding designs compute the efficacy bounds as if futility stops were never obeyed; binding ones
    with them (then the efficacy bounds depend on theta too). The inflation factor is
    (theta / (z_{1-alpha} + z_{1-beta}))^2, as rpact's getDesignCharacteristics.
    """
    t = np.asarray(fractions, dtype=float)
    if not (np.all(np.diff(t) > 0) and 0 < t[0] and abs(t[-1] - 1.0) < 1e-12):
        raise ValueError(f"fractions: must increase strictly to 1, got {list(t)}")
    a_spent = spending(kind, alpha, t, gamma)
    a_spent[-1] = alpha
    b_spent = spending(beta_kind, beta, t, gamma_beta)
    b_spent[-1] = beta
    fixed = float(special.ndtri(1.0 - alpha) + special.ndtri(1.0 - beta))

    def gap(drift: float) -> float:
        c, low = _looks_at_drift(t, a_spent, b_spent, drift, binding)
        return low[-1] - c[-1]

    drift = optimize.brentq(gap, 0.8 * fixed, 2.0 * fixed, xtol=1e-11)
    c, low = _looks_at_drift(t, a_spent, b_spent, drift, binding)
    low[-1] = -np.inf  # the last look has its efficacy bound only
    b = Boundaries(tuple(t), tuple(c), tuple(low), tuple(a_spent), binding)
    return BetaSpendingDesign(b, float(drift), float((drift / fixed) ** 2), tuple(b_spent))


# --- comparing a statistic with a boundary: the one tie convention ------------------------------------------
@cache
def _t_thresholds(z: float, max_df: int) -> np.ndarray:
    """t values equivalent to the z boundary for df = 0..max_df (df 0: no test, +inf)."""
    if not np.isfinite(z):
        return np.full(max_df + 1, z)
    out = np.empty(max_df + 1)
    out[0] = np.inf
    out[1:] = special.stdtrit(np.arange(1, max_df + 1), special.ndtr(z))
    return out


def at_or_above_threshold(z: float, df: int, max_df: int) -> float:
    """The threshold ``at_or_above`` compares a t statistic with at ``df`` (z itself for a z statistic)."""
    return float(_t_thresholds(float(z), max_df)[min(max(df, 0), max_df)])


def at_or_above(stat: np.ndarray, df: np.ndarray | None, z: float, max_df: int) -> np.ndarray:
    """stat >= z (z-type statistic), or t >= the t threshold equivalent to z at each trial's df: the one tie
    convention of every look (a statistic equal to the boundary crosses it)."""
    if df is None:
        return stat >= z
    crossed: np.ndarray = stat >= _t_thresholds(float(z), max_df)[np.clip(df, 0, max_df)]
    return crossed
