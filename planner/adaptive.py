"""Sample-size re-estimation at one interim look, analysed with the weighted inverse-normal combination test.

Two arms of equal size, a normal endpoint with known standard deviation ``sd``, effect delta = mu_t - mu_c,
one-sided level ``alpha``. Stage 1 has ``n1`` participants per arm; stage 2 was planned with ``n2`` per arm
and may be changed at the interim to n2(z1) in [n2, n2_max] by a rule on the conditional power. The
stage-wise z statistics z1 and z2 (each from its own stage's participants) are combined with the weights of
the planned stages, w1 = sqrt(n1 / (n1 + n2)), w2 = sqrt(n2 / (n1 + n2)): success when w1 z1 + w2 z2 >=
z_{1-alpha}. Under H0 z2 is standard normal whatever n2(z1) is, so the level is exactly alpha however the
sample size is changed (Cui, Hung and Wang 1999; Lehmacher and Wassmer 1999). The naive test on all the
data (the sufficient statistic) need not keep alpha after a data-driven increase -- it exceeds it under the
conditional-power rule, and keeps it under Mehta and Pocock's promising zone with cp_min high enough (Chen,
DeMets and Lan 2004); :func:`naive_type_one_error` computes it.

Conditional power at the interim, for a stage-2 size m per arm and an assumed effect theta (by default the
interim estimate: the rules of Mehta and Pocock 2011 and of Cui, Hung and Wang use it):
CP(m) = Phi(theta sqrt(m / 2) / sd - (z_{1-alpha} - w1 z1) / w2).

Early stopping at the interim (optional): with ``efficacy_spending`` ('obrien-fleming' or 'pocock',
Lan-DeMets) the trial stops for efficacy when z1 >= c1 and the final test compares the combination statistic
with c2, both from the spending function at information fractions (n1 / (n1 + n2), 1) (the combination
statistic's correlation with z1 is w1, so the group sequential boundaries apply; Lehmacher and Wassmer 1999);
with ``futility_z`` it stops for futility when z1 < futility_z (non-binding: the boundaries ignore it).

Rules for n2(z1):

* ``conditional-power``: the smallest m giving CP(m) >= ``target_power``, within [n2, n2_max] (a cap);
* ``promising-zone`` (Mehta and Pocock 2011): the same, but only where the conditional power of the planned
  n2 lies in the promising zone [``cp_min``, ``target_power``); elsewhere (favourable or unfavourable) n2
  stays as planned.

Operating characteristics are computed by one-dimensional numerical integration over z1 (z1 ~ N(delta
sqrt(n1 / 2) / sd, 1); given z1, success has probability Phi(delta sqrt(n2(z1) / 2) / sd - (c - w1 z1) /
w2)), exact up to quadrature error, and by simulation (:func:`simulate`, with Monte Carlo SEs) as a check.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import integrate, special

from planner.errors import DesignError
from planner.randomness import BLOCK_SIZE, BlockStreams

__all__ = [
    "plan_of",
    "naive_finding",
    "Reestimation",
    "ReestimationResult",
    "conditional_power",
    "naive_type_one_error",
    "operating_characteristics",
    "simulate",
]

Rule = Literal["conditional-power", "promising-zone"]
MAX_PER_ARM = 10_000_000


@dataclass(frozen=True)
class Reestimation:
    """A two-stage design with sample-size re-estimation (module docstring); sizes per arm."""

    n1: int
    n2: int
    n2_max: int
    sd: float
    rule: Rule = "promising-zone"
    target_power: float = 0.8
    cp_min: float = 0.365
    alpha: float = 0.025
    efficacy_spending: Literal["none", "obrien-fleming", "pocock"] = "none"
    futility_z: float | None = None
    test: Literal["z", "t"] = "z"
    rule_sd: Literal["planned", "interim"] = "planned"

    def __post_init__(self) -> None:
        problems = []
        for name in ("n1", "n2", "n2_max"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | np.integer)
                or not 1 <= value <= MAX_PER_ARM
            ):
                problems.append(
                    f"{name}: a whole number of participants per arm from 1 to {MAX_PER_ARM:,}, got {value!r}"
                )
        if not problems and self.n2_max < self.n2:
            problems.append(f"n2_max: the cap must be at least the planned n2 = {self.n2}, got {self.n2_max}")
        if not _finite(self.sd) or self.sd <= 0:
            problems.append(f"sd: a positive standard deviation, got {self.sd!r}")
        if self.rule not in ("conditional-power", "promising-zone"):
            problems.append(f"rule: 'conditional-power' or 'promising-zone', got {self.rule!r}")
        for name in ("target_power", "cp_min"):
            value = getattr(self, name)
            if not _finite(value) or not 0.0 < value < 1.0:
                problems.append(f"{name}: a probability strictly between 0 and 1, got {value!r}")
        if not _finite(self.alpha) or not 0.0 < self.alpha <= 0.5:
            problems.append(f"alpha: a one-sided level in (0, 0.5], got {self.alpha!r}")
        if self.efficacy_spending not in ("none", "obrien-fleming", "pocock"):
            problems.append(
                f"efficacy_spending: 'none', 'obrien-fleming' or 'pocock', got {self.efficacy_spending!r}"
            )
        if self.futility_z is not None and (
            not _finite(self.futility_z) or not -10.0 < self.futility_z < 10.0
        ):
            problems.append(f"futility_z: a z value between -10 and 10, got {self.futility_z!r}")
        if self.test not in ("z", "t"):
            problems.append(f"test: 'z' (sd known) or 't' (stage-wise t tests), got {self.test!r}")
        if self.rule_sd not in ("planned", "interim"):
            problems.append(f"rule_sd: 'planned' or 'interim', got {self.rule_sd!r}")
        elif self.rule_sd == "interim" and self.test != "t":
            problems.append("rule_sd: 'interim' (the interim estimate of the sd) needs test = 't'")
        if self.test == "t" and min(self.n1, self.n2) < 2:
            problems.append(
                f"n1: stage-wise t tests need at least 2 participants per arm and stage, got {self.n1}"
            )
        if not problems and self.rule == "promising-zone" and self.cp_min >= self.target_power:
            problems.append(f"cp_min: must be below target_power = {self.target_power}, got {self.cp_min}")
        if problems:
            raise DesignError("\n".join(problems), problems=tuple(problems))

    @property
    def weights(self) -> tuple[float, float]:
        total = self.n1 + self.n2
        return math.sqrt(self.n1 / total), math.sqrt(self.n2 / total)

    @property
    def bounds(self) -> tuple[float, float]:
        """(c1, c2): the interim efficacy bound on z1 (inf without early stopping) and the final one on the
        combination statistic."""
        return _bounds(self.n1, self.n2, self.alpha, self.efficacy_spending)

    @property
    def critical(self) -> float:
        """The final critical value of the combination statistic."""
        return self.bounds[1]

    @property
    def futility(self) -> float:
        return -math.inf if self.futility_z is None else float(self.futility_z)

    def stops(self, z1: np.ndarray) -> np.ndarray:
        """True where the trial stops at the interim (for efficacy or futility)."""
        z1 = np.asarray(z1)
        return (z1 >= self.bounds[0]) | (z1 < self.futility)

    def interim_effect(self, z1: np.ndarray) -> np.ndarray:
        """The interim estimate of delta from the stage-1 z: z1 sd / sqrt(n1 / 2)."""
        return np.asarray(z1) * self.sd / math.sqrt(self.n1 / 2.0)

    def stage_two_size(self, z1: np.ndarray, theta: Any = None, sd: Any = None) -> np.ndarray:
        """n2(z1) per arm (whole participants) by the rule, with the interim estimate as the assumed effect
        (``theta``, default from z1 with the planned sd) and ``sd`` (default the planned one); 0 where the trial
        stops at the interim."""
        z1 = np.asarray(z1, dtype=float)
        w1, w2 = self.weights
        theta = self.interim_effect(z1) if theta is None else np.asarray(theta, dtype=float)
        sd = self.sd if sd is None else np.asarray(sd, dtype=float)
        gap = (self.critical - w1 * z1) / w2  # what z2 must reach
        short = gap + special.ndtri(self.target_power)  # CP(m) >= target <=> theta sqrt(m / 2) / sd >= short
        with np.errstate(divide="ignore", invalid="ignore"):
            needed = np.ceil(2.0 * (short * sd / theta) ** 2 - 1e-9)
        # already there with any m: the planned n2; not reachable (theta <= 0): the cap
        wanted = np.where(short <= 0, self.n2, np.where(theta > 0, needed, self.n2_max))
        capped = np.clip(wanted, self.n2, self.n2_max)
        if self.rule == "conditional-power":
            sizes = capped
        else:
            planned_cp = conditional_power(self, z1, self.n2, theta, sd)
            promising = (planned_cp >= self.cp_min) & (planned_cp < self.target_power)
            sizes = np.where(promising, capped, self.n2)
        return np.where(self.stops(z1), 0, sizes).astype(np.int64)  # stopped at the interim: no stage 2


@functools.lru_cache(maxsize=64)
def _bounds(n1: int, n2: int, alpha: float, kind: str) -> tuple[float, float]:
    if kind == "none":
        return math.inf, float(special.ndtri(1.0 - alpha))
    from planner.sequential import efficacy_boundaries

    b = efficacy_boundaries([n1 / (n1 + n2), 1.0], alpha, kind)
    return float(b.efficacy[0]), float(b.efficacy[1])


def plan_of(design: Any) -> Reestimation:
    """The [reestimation] section of a :class:`planner.design.Design` as a :class:`Reestimation` (sizes per
    arm): n1 = round(fraction x the arm's N) (at least 1, at most N - 1), n2 the rest, the cap max_n / 2 - n1
    per arm, the sd ``endpoint.sd`` and the design's alpha."""
    r = design.reestimation
    if r is None:
        raise DesignError("reestimation: the design has no [reestimation] section")
    per_arm = design.arms.sizes[0]
    n1 = min(max(int(math.floor(r.fraction * per_arm + 0.5)), 1), per_arm - 1)
    return Reestimation(
        n1,
        per_arm - n1,
        r.max_n // 2 - n1,
        float(design.endpoint.sd),
        r.rule,
        r.target_power,
        r.cp_min,
        design.analysis.alpha,
        r.efficacy_spending,
        r.futility_z,
        "t" if r.sd == "estimated" else "z",
        "interim" if r.sd == "estimated" else "planned",
    )


def _finite(value: Any) -> bool:
    return (
        isinstance(value, int | float | np.floating) and not isinstance(value, bool) and math.isfinite(value)
    )


def conditional_power(
    design: Reestimation, z1: np.ndarray, m: Any, theta: Any = None, sd: Any = None
) -> np.ndarray:
    """CP of the combination test given the stage-1 z, for m participants per arm in stage 2, under effect
    ``theta`` (default: the interim estimate) and standard deviation ``sd`` (default: the planned one)."""
    w1, w2 = design.weights
    effect = design.interim_effect(z1) if theta is None else theta
    drift = np.asarray(effect) * np.sqrt(np.asarray(m) / 2.0) / (design.sd if sd is None else np.asarray(sd))
    return np.asarray(special.ndtr(drift - (design.critical - w1 * np.asarray(z1)) / w2))


@dataclass(frozen=True)
class ReestimationResult:
    """Operating characteristics at one true effect: success probability, E[N] (both arms), the probability
    that n2 was increased, and P(N = n) for each total N that occurs (simulated: each P(N = n) has MCSE
    sqrt(P (1 - P) / n_sims)); the MCSEs are 0 when computed by integration."""

    delta: float
    power: float
    power_mcse: float
    expected_n: float
    expected_n_mcse: float
    p_increase: float
    p_increase_mcse: float
    n_distribution: dict[int, float]
    exact: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "delta": self.delta,
            "power": self.power,
            "power_mcse": self.power_mcse,
            "expected_n": self.expected_n,
            "expected_n_mcse": self.expected_n_mcse,
            "p_increase": self.p_increase,
            "p_increase_mcse": self.p_increase_mcse,
            "n_distribution": {str(k): v for k, v in self.n_distribution.items()},
            "method": "integration" if self.exact else "simulation",
        }


def _pieces(design: Reestimation, mean: float) -> list[tuple[float, float]]:
    """Intervals of z1 (within 12 SD of its mean) on which n2(z1) is constant: the integrands are smooth there."""
    lo, hi = mean - 12.0, mean + 12.0
    grid = np.linspace(lo, hi, 20_001)
    sizes = design.stage_two_size(grid)
    cuts = [lo, *(0.5 * (grid[i] + grid[i + 1]) for i in np.flatnonzero(np.diff(sizes) != 0)), hi]
    refined = [lo]
    for a in cuts[1:-1]:  # locate each jump to 1e-12 by bisection
        left, right = a - (grid[1] - grid[0]), a + (grid[1] - grid[0])
        s_left = design.stage_two_size(np.array([left]))[0]
        for _ in range(60):
            mid = 0.5 * (left + right)
            if design.stage_two_size(np.array([mid]))[0] == s_left:
                left = mid
            else:
                right = mid
        refined.append(0.5 * (left + right))
    refined.append(hi)
    return list(zip(refined[:-1], refined[1:], strict=True))


def operating_characteristics(design: Reestimation, delta: float) -> ReestimationResult:
    """Power, E[N], P(increase) and the distribution of N at true effect ``delta``, by integration over z1
    (stage-wise z tests, the sd known; t tests: :func:`simulate`)."""
    if design.test != "z":
        raise DesignError("test: the integration is for stage-wise z tests (sd known); simulate t tests")
    w1, w2 = design.weights
    mean = delta * math.sqrt(design.n1 / 2.0) / design.sd
    power = expected = increase = 0.0
    distribution: dict[int, float] = {}
    for a, b in _pieces(design, mean):
        m = int(design.stage_two_size(np.array([0.5 * (a + b)]))[0])
        mass = float(special.ndtr(b - mean) - special.ndtr(a - mean))
        drift2 = delta * math.sqrt(m / 2.0) / design.sd
        if m == 0:  # stopped at the interim: for efficacy (success) or futility
            power += mass if 0.5 * (a + b) >= design.bounds[0] else 0.0
        else:

            def success(z1: float, drift2: float = drift2) -> float:
                return float(special.ndtr(drift2 - (design.critical - w1 * z1) / w2)) * math.exp(
                    -0.5 * (z1 - mean) ** 2
                )

            value, _ = integrate.quad(success, a, b, epsabs=1e-14, epsrel=1e-12, limit=200)
            power += value / math.sqrt(2.0 * math.pi)
        total = 2 * (design.n1 + m)
        distribution[total] = distribution.get(total, 0.0) + mass
        expected += mass * total
        increase += mass if m > design.n2 else 0.0
    return ReestimationResult(
        delta, power, 0.0, expected, 0.0, increase, 0.0, dict(sorted(distribution.items())), True
    )


def naive_type_one_error(design: Reestimation) -> float:
    """The type I error of the naive z test on all data (sqrt(n1) z1 + sqrt(n2(z1)) z2) / sqrt(n1 + n2(z1)) >=
    z_{1-alpha} under the design's rule, by integration (the combination test's is alpha exactly)."""
    c = design.critical
    value = 0.0
    for a, b in _pieces(design, 0.0):
        m = int(design.stage_two_size(np.array([0.5 * (a + b)]))[0])
        if m == 0:  # stopped at the interim: rejects only above the efficacy bound
            if 0.5 * (a + b) >= design.bounds[0]:
                value += float(special.ndtr(b) - special.ndtr(a))
            continue

        def reject(z1: float, m: int = m) -> float:
            need = (c * math.sqrt(design.n1 + m) - math.sqrt(design.n1) * z1) / math.sqrt(m)
            return float(special.ndtr(-need)) * math.exp(-0.5 * z1 * z1)

        value += integrate.quad(reject, a, b, epsabs=1e-14, epsrel=1e-12, limit=200)[0] / math.sqrt(
            2.0 * math.pi
        )
    return value


def _t_to_z(t: np.ndarray, df: Any) -> np.ndarray:
    """The stage's one-sided p-value of a t statistic as a z: Phi^-1(1 - p), p = P(T_df >= t)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(-special.ndtri(special.stdtr(df, -t)))


def _t_stage(streams: Any, stage: str, delta: float, sd: float, m: np.ndarray) -> dict[str, np.ndarray]:
    """One stage's per-arm means and within-arm sums of squares (m per arm, per trial; m = 0: no stage)."""
    size = m.shape[0]
    safe = np.maximum(m, 1)
    out = {}
    for arm, mu in (("t", delta), ("c", 0.0)):
        out[f"mean_{arm}"] = mu + sd / np.sqrt(safe) * streams(f"ssr.{stage}.{arm}.mean").standard_normal(
            size
        )
        out[f"ss_{arm}"] = sd**2 * streams(f"ssr.{stage}.{arm}.ss").chisquare(np.maximum(safe - 1, 1))
    return out


def simulate_trials(design: Reestimation, delta: float, size: int, streams: Any) -> dict[str, np.ndarray]:
    """``size`` simulated trials: z1, the stage-2 size per arm m, the success of the combination test and (t
    tests) the naive pooled t test's rejection; stage-wise z (sd known) or per-arm means and sums of squares
    (t tests)."""
    w1, w2 = design.weights
    c1, c2 = design.bounds
    if design.test == "z":
        z1 = delta * math.sqrt(design.n1 / 2.0) / design.sd + streams("ssr.z1").standard_normal(size)
        m = design.stage_two_size(z1)
        z2 = delta * np.sqrt(m / 2.0) / design.sd + streams("ssr.z2").standard_normal(size)
        return {"z1": z1, "m": m, "success": ((m > 0) & (w1 * z1 + w2 * z2 >= c2)) | (z1 >= c1)}
    n1 = design.n1
    one = _t_stage(streams, "1", delta, design.sd, np.full(size, n1))
    ss1 = one["ss_t"] + one["ss_c"]
    s1 = np.sqrt(ss1 / (2 * n1 - 2))
    d1 = one["mean_t"] - one["mean_c"]
    z1 = _t_to_z(d1 / (s1 * math.sqrt(2.0 / n1)), 2 * n1 - 2)
    m = design.stage_two_size(z1, theta=d1, sd=s1 if design.rule_sd == "interim" else None)
    two = _t_stage(streams, "2", delta, design.sd, m)
    ss2 = two["ss_t"] + two["ss_c"]
    with np.errstate(divide="ignore", invalid="ignore"):
        t2 = (two["mean_t"] - two["mean_c"]) / np.sqrt(ss2 / (2 * m - 2) * (2.0 / m))
    z2 = _t_to_z(t2, np.maximum(2 * m - 2, 1))
    success = ((m > 0) & (w1 * z1 + w2 * z2 >= c2)) | (z1 >= c1)
    # the naive pooled t test on all the data (each arm's mean and sum of squares over both stages)
    total = n1 + m
    naive_ss = ss1 + ss2
    diff = 0.0
    for arm in ("t", "c"):
        mean = (n1 * one[f"mean_{arm}"] + m * two[f"mean_{arm}"]) / total
        naive_ss = naive_ss + n1 * m / total * (one[f"mean_{arm}"] - two[f"mean_{arm}"]) ** 2
        diff = diff + (mean if arm == "t" else -mean)
    t_all = diff / np.sqrt(naive_ss / (2 * total - 2) * (2.0 / total))
    naive = np.where(m > 0, t_all >= special.stdtrit(2 * total - 2, 1.0 - design.alpha), z1 >= c1)
    return {"z1": z1, "m": m, "success": success, "naive": naive}


def simulate(design: Reestimation, delta: float, n_sims: int, seed: int) -> ReestimationResult:
    """The same characteristics by simulating the trials (:func:`simulate_trials`) in blocks, each with its own
    streams (:class:`BlockStreams`), with Monte Carlo SEs: the only way for stage-wise t tests."""
    successes = 0
    parts = []
    for b, start in enumerate(range(0, n_sims, BLOCK_SIZE)):
        size = min(BLOCK_SIZE, n_sims - start)
        trials = simulate_trials(design, delta, size, BlockStreams(seed, b))
        m = trials["m"]
        successes += int(np.count_nonzero(trials["success"]))
        parts.append(2 * (design.n1 + m))
    totals = np.concatenate(parts)
    p = successes / n_sims
    q = float(np.mean(totals > 2 * (design.n1 + design.n2)))
    values, counts = np.unique(totals, return_counts=True)
    return ReestimationResult(
        delta,
        p,
        math.sqrt(p * (1 - p) / n_sims),
        float(totals.mean()),
        float(totals.std(ddof=1) / math.sqrt(n_sims)) if n_sims > 1 else 0.0,
        q,
        math.sqrt(q * (1 - q) / n_sims),
        {int(v): float(c / n_sims) for v, c in zip(values, counts, strict=True)},
        False,
    )


NAIVE_SIMS = 400_000  # null trials simulated for the naive t test's type I error


def naive_t_type_one_error(
    design: Reestimation, n_sims: int = NAIVE_SIMS, seed: int = 1
) -> tuple[float, float]:
    """The naive pooled t test's type I error under the design's rule (stage-wise t designs), simulated: (value,
    MCSE)."""
    count = 0
    for b, start in enumerate(range(0, n_sims, BLOCK_SIZE)):
        size = min(BLOCK_SIZE, n_sims - start)
        count += int(np.count_nonzero(simulate_trials(design, 0.0, size, BlockStreams(seed, b))["naive"]))
    p = count / n_sims
    return p, math.sqrt(p * (1 - p) / n_sims)


def naive_finding(design: Reestimation) -> str:
    """The sentence every output prints about the naive pooled test under the design's rule (computed: by
    integration for z tests, simulated with its MCSE for t tests)."""
    if design.test == "z":
        naive, how, name = naive_type_one_error(design), "", "z"
        above = naive > design.alpha * (1 + 1e-9)
    else:
        naive, mcse = naive_t_type_one_error(design)
        how = f" (MCSE {mcse:.4f}, {NAIVE_SIMS:,} simulated null trials)"
        above = naive > design.alpha + 2 * mcse
        name = "t"
    if above:
        return (
            f"The naive {name} test on the pooled data would have type I error {naive:.4f}{how}, ABOVE ALPHA "
            f"{design.alpha:g}, under this rule: analyse with the weighted inverse-normal combination test (level "
            "alpha exactly), not the pooled data."
        )
    return (
        f"The naive {name} test on the pooled data would have type I error {naive:.4f}{how}, within alpha "
        f"{design.alpha:g}, under this rule; the planned analysis is the weighted inverse-normal combination "
        "test (level alpha exactly)."
    )


def n_quantile(result: ReestimationResult, q: float) -> int:
    """The smallest total N whose cumulative probability reaches ``q``."""
    total = 0.0
    for n, p in result.n_distribution.items():
        total += p
        if total >= q - 1e-12:
            return n
    return max(result.n_distribution)
