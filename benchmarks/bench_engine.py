"""Fixed designs: the planner against a vectorized per-patient numpy simulation and rpact, in one run.

Usage (from the project root, after scripts/setup):
    .venv/bin/python benchmarks/bench_engine.py              # 10^5 trials per scenario, best of 5
    .venv/bin/python benchmarks/bench_engine.py --quick      # a smoke run

Three fixed designs, two scenarios each (null, alternative), the same number of simulated trials on every side:
- the planner's simulation core (`tally_sources` over the scenarios, as `evaluate` runs it), on one thread and
  on the machine's cores (planner.parallel: blocks of trials on threads of one process; the same numbers), and
  apart the whole `evaluate(..., method="simulate")`, which also simulates the null grid of its maximum type I
  error check;
- a fair baseline: the same design simulated participant by participant with vectorized numpy (a trials x
  participants array per chunk of 10^4 trials, the test statistic computed for all trials at once: the pooled
  t statistic against its t critical value; Fisher's exact test and the exact binomial test as critical counts
  computed once with scipy, then looked up per trial);
- rpact's getSimulationMeans / getSimulationRates (rpact_bench.R, warm, timed inside R): for means both its t
  test (normalApproximation = FALSE) and its z test (TRUE); the planner uses the pooled t test.
Each side is warmed up once and timed --rounds times (common.py). Prints ns per simulated trial, the speed-ups
with their spread, and checks that every side agrees within 4 Monte Carlo SEs (and with exact enumeration for
binary designs); exits 1 if not. Then peak traced memory of 10^7 simulated two-arm continuous trials.
"""

from __future__ import annotations

import argparse
import datetime
import math
import sys
import time
import tracemalloc

import numpy as np
from common import machine, ns_per_trial, ratio, rpact, timed_rounds
from scipy import stats

from planner import evaluate, parse_design
from planner.engine import tally_sources
from planner.parallel import simulation_threads
from planner.rules import make_rule

ALPHA = 0.025
CHUNK = 10_000


def design(name: str):
    """The three benchmark designs; the same ones rpact_bench.R simulates."""
    if name == "continuous_two_arm":
        spec = {
            "arms": {"kind": "randomized", "n": 100},
            "endpoint": {"kind": "continuous", "sd": 1.0},
            "analysis": {"rule": "t-pooled"},
            "scenarios": [
                {"name": "null", "treatment": 0.0, "control": 0.0},
                {"name": "alt", "treatment": 0.5, "control": 0.0},
            ],
        }
    elif name == "binary_two_arm":
        spec = {
            "arms": {"kind": "randomized", "n": 100},
            "endpoint": {"kind": "binary"},
            "analysis": {"rule": "fisher"},
            "scenarios": [
                {"name": "null", "treatment": 0.3, "control": 0.3},
                {"name": "alt", "treatment": 0.6, "control": 0.3},
            ],
        }
    else:
        spec = {
            "arms": {"kind": "single-arm", "n": 50},
            "endpoint": {"kind": "binary"},
            "analysis": {"rule": "exact-binomial", "performance_goal": 0.5},
            "scenarios": [{"name": "null", "treatment": 0.5}, {"name": "alt", "treatment": 0.75}],
        }
    return parse_design({"name": name, **spec})


NAMES = ("continuous_two_arm", "binary_two_arm", "binary_single_arm")


def fisher_critical(n1: int, n2: int) -> np.ndarray:
    """For each total s of responders, the smallest x1 with P(X1 >= x1 | s) <= alpha (one-sided Fisher)."""
    out = np.empty(n1 + n2 + 1, dtype=np.int64)
    for s in range(n1 + n2 + 1):
        x = np.arange(max(0, s - n2), min(s, n1) + 1)
        tail = stats.hypergeom.sf(x - 1, n1 + n2, s, n1)
        out[s] = x[tail <= ALPHA][0] if np.any(tail <= ALPHA) else n1 + 1
    return out


def per_patient(d, n_sims: int, seed: int) -> list[float]:
    """P(reject) per scenario, simulated participant by participant with vectorized numpy."""
    rng = np.random.default_rng(seed)
    values = []
    if d.endpoint.kind == "continuous":
        n1, n2 = d.arms.sizes
        crit = stats.t.isf(ALPHA, n1 + n2 - 2)
    elif d.randomized:
        n1, n2 = d.arms.sizes
        crit_fisher = fisher_critical(n1, n2)
    else:
        n = d.arms.n
        crit_count = int(stats.binom.isf(ALPHA, n, d.analysis.performance_goal)) + 1  # P(X >= c) <= alpha
    for sc in d.scenarios:
        rejected = 0
        for start in range(0, n_sims, CHUNK):
            m = min(CHUNK, n_sims - start)
            if d.endpoint.kind == "continuous":
                y1 = rng.normal(sc.treatment, d.endpoint.sd, (m, n1))
                y2 = rng.normal(sc.control, d.endpoint.sd, (m, n2))
                pooled = (y1.var(axis=1, ddof=1) * (n1 - 1) + y2.var(axis=1, ddof=1) * (n2 - 1)) / (
                    n1 + n2 - 2
                )
                t = (y1.mean(axis=1) - y2.mean(axis=1)) / np.sqrt(pooled * (1 / n1 + 1 / n2))
                rejected += int(np.count_nonzero(t > crit))
            elif d.randomized:
                x1 = np.count_nonzero(rng.random((m, n1)) < sc.treatment, axis=1)
                x2 = np.count_nonzero(rng.random((m, n2)) < sc.control, axis=1)
                rejected += int(np.count_nonzero(x1 >= crit_fisher[x1 + x2]))
            else:
                x = np.count_nonzero(rng.random((m, n)) < sc.treatment, axis=1)
                rejected += int(np.count_nonzero(x >= crit_count))
        values.append(rejected / n_sims)
    return values


def simulate_scenarios(d, n_sims: int, seed: int, threads: int | None) -> list[float]:
    """P(success) per scenario from the planner's simulation core: exactly the trials the other sides simulate
    (evaluate() also checks the maximum type I error over the null, which simulates more trials; timed apart)."""
    rule = make_rule(d)
    tallies = tally_sources(d, rule, list(d.scenarios), seed=seed, start=0, stop=n_sims, threads=threads)
    return [int(t.efficacy.sum()) / n_sims for t in tallies]


def agree(p1: float, n1: float, p2: float, n2: float, k: float = 4.0) -> bool:
    se = math.sqrt(max(p1 * (1 - p1), 1e-12) / n1 + max(p2 * (1 - p2), 1e-12) / n2)
    return abs(p1 - p2) <= k * se


def memory_of_ten_million() -> tuple[float, float]:
    d = design("continuous_two_arm")
    one = d.with_changes({"scenarios": [{"name": "alt", "treatment": 0.5, "control": 0.0}]})
    tracemalloc.start()
    began = time.perf_counter()
    evaluate(one, n_sims=10_000_000, seed=1, method="simulate")
    elapsed = time.perf_counter() - began
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run of the script")
    parser.add_argument("--sims", type=int, default=100_000, help="simulated trials per scenario, every side")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    n, rounds = (10_000, 2) if args.quick else (args.sims, args.rounds)
    seed = 20261203
    peer = rpact("fixed", n, seed, rounds)
    print(f"{datetime.date.today()}; {machine()}")
    print(
        f"{n:,} simulated trials per scenario on every side, 2 scenarios (null, alternative); warm, best of "
        f"{rounds} (speed-ups: best against best, and the range over paired rounds)\n"
    )
    cores = simulation_threads()
    print(
        f"| design | planner ns/trial, 1 thread | {cores} threads | per-patient numpy ns/trial | rpact ns/trial "
        f"| x numpy (1 thread) | x rpact, 1 thread | {cores} threads "
        "| P(reject) null / alt: planner | numpy | rpact | exact | agree |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    ok = True
    fmt = lambda v: " / ".join(f"{x:.4f}" for x in v) if v else "-"  # noqa: E731
    for name in NAMES:
        d = design(name)
        trials = len(d.scenarios) * n
        t_ours, ours = timed_rounds(lambda d=d: simulate_scenarios(d, n, seed, 1), rounds)
        t_cores, ours_cores = timed_rounds(lambda d=d: simulate_scenarios(d, n, seed, cores), rounds)
        assert ours_cores == ours, "the number of threads changed the numbers"
        t_numpy, theirs = timed_rounds(lambda d=d: per_patient(d, n, seed), rounds)
        checks = [agree(a, n, b, n) for a, b in zip(ours, theirs, strict=True)]
        exact = None
        if d.endpoint.kind == "binary":
            exact = [r.success.value for r in evaluate(d, method="exact").results]
            checks += [agree(a, n, b, 1e12) for a, b in zip(ours, exact, strict=True)]
        variants = [k for k in (peer or {}) if k.startswith(name)] or [None]
        for variant in variants:
            theirs_r = peer[variant] if variant else None
            row_checks = list(checks)
            same_test = theirs_r is not None and not variant.endswith("_z")  # rpact's z assumes a known sd
            if same_test:
                row_checks += [agree(a, n, b, n) for a, b in zip(ours, theirs_r["reject"], strict=True)]
            ok &= all(row_checks)
            label = (
                variant.replace("continuous_two_arm_t", "continuous_two_arm (rpact t)").replace(
                    "continuous_two_arm_z", "continuous_two_arm (rpact z)"
                )
                if variant
                else name
            )
            print(
                f"| {label} | {ns_per_trial(t_ours, trials):.0f} | {ns_per_trial(t_cores, trials):.0f} | "
                f"{ns_per_trial(t_numpy, trials):.0f} | "
                + (f"{ns_per_trial(theirs_r['times'], trials):,.0f} | " if theirs_r else "- | ")
                + f"{ratio(t_numpy, t_ours)} | "
                + (
                    f"{ratio(theirs_r['times'], t_ours)} | {ratio(theirs_r['times'], t_cores)} | "
                    if theirs_r
                    else "- | - | "
                )
                + f"{fmt(ours)} | {fmt(theirs)} | {fmt(theirs_r['reject'] if theirs_r else None)} | {fmt(exact)} "
                f"| {'yes' if all(row_checks) else 'NO'}{'' if same_test or not theirs_r else ' (rpact z: not compared)'} |"
            )
    print(
        "\nThe whole evaluate(method='simulate') per design: the scenarios and the maximum type I error check"
    )
    for name in NAMES:
        d = design(name)
        t_all, res = timed_rounds(lambda d=d: evaluate(d, n_sims=n, seed=seed, method="simulate"), rounds)
        points = len(res.type_one_error.grid) if res.type_one_error is not None else 0
        print(
            f"- {name}: best {min(t_all):.3f} s ({len(d.scenarios)} scenarios, {points} null points checked)"
        )
    peak_mib, t_mem = memory_of_ten_million()
    print(f"\n10^7 two-arm continuous trials: {t_mem:.2f} s, peak traced memory {peak_mib:.1f} MiB")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
