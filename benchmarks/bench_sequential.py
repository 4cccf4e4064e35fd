"""Group sequential designs against rpact, and the speed of a power curve, in one run.

Usage: .venv/bin/python benchmarks/bench_sequential.py [--quick]

A 3-look design (50, 100, 150 participants, 1:1; one-sided alpha 0.025; O'Brien-Fleming-
and Pocock-type spending) for a two-arm continuous endpoint (sd 1, pooled t test, delta 0
and 0.5) and a two-arm binary endpoint (pooled z test, 0.3 vs 0.3 and 0.6): 10^5 simulated
trials per scenario in the planner and in rpact's getSimulationMeans / getSimulationRates
(rpact_bench.R, warm, timed inside R; for means both rpact's stage-wise t statistics combined with weights
sqrt(n_k), normalApproximation = FALSE, and its z statistic, TRUE; the planner uses the cumulative pooled t
test). Both sides warm, best of --rounds (common.py). Then a power curve of 20 values of N x 10^4 trials.
"""

from __future__ import annotations

import argparse
import datetime
import math
import time

from common import machine, ns_per_trial, ratio, rpact, timed_rounds

from planner import evaluate, parse_design
from planner.parallel import simulation_threads
from planner.search import power_curve


def design(kind: str, spending: str):
    if kind == "continuous":
        ep, rule = {"kind": "continuous", "sd": 1.0}, "t-pooled"
        sc = [
            {"name": "null", "treatment": 0.0, "control": 0.0},
            {"name": "alt", "treatment": 0.5, "control": 0.0},
        ]
    else:
        ep, rule = {"kind": "binary"}, "z-pooled"
        sc = [
            {"name": "null", "treatment": 0.3, "control": 0.3},
            {"name": "alt", "treatment": 0.6, "control": 0.3},
        ]
    return parse_design(
        {
            "name": f"{kind} {spending}",
            "arms": {"kind": "randomized", "n": 150},
            "endpoint": ep,
            "analysis": {"rule": rule},
            "scenarios": sc,
            "interim": {"fractions": [1 / 3, 2 / 3, 1.0], "spending": spending},
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sims", type=int, default=100_000, help="simulated trials per scenario, both sides")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    n, rounds = (10_000, 2) if args.quick else (args.sims, args.rounds)
    peer = rpact("sequential", n, 1, rounds) or {}
    print(f"{datetime.date.today()}; {machine()}")
    print(
        f"{n:,} simulated trials per scenario on both sides; 2 scenarios (null, alternative) per design; warm, "
        f"best of {rounds} (speed-ups: best against best, and the range over paired rounds)\n"
    )
    cores = simulation_threads()
    print(
        f"| design | planner ns/trial, 1 thread | {cores} threads | rpact ns/trial | x rpact, 1 thread "
        f"| {cores} threads | P(reject) planner | rpact | E[N] planner | rpact | within 4 SE |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for kind in ("continuous", "binary"):
        for spending, tag in (("obrien-fleming", "asOF"), ("pocock", "asP")):
            d = design(kind, spending)
            times, res = timed_rounds(
                lambda d=d: evaluate(d, n_sims=n, seed=1, method="simulate", type_one_error=False, threads=1),
                rounds,
            )
            t_cores, res_cores = timed_rounds(
                lambda d=d: evaluate(
                    d, n_sims=n, seed=1, method="simulate", type_one_error=False, threads=cores
                ),
                rounds,
            )
            assert [r.success.value for r in res_cores.results] == [r.success.value for r in res.results]
            ours = [r.success.value for r in res.results]
            en = [r.expected_n for r in res.results]
            for variant in [k for k in peer if k.startswith(f"{kind}_{tag}")] or [None]:
                label = (
                    f"{kind}, {spending}"
                    + {
                        None: "",
                        f"{kind}_{tag}": "",
                        f"{kind}_{tag}_t": " (rpact t)",
                        f"{kind}_{tag}_z": " (rpact z)",
                    }[variant]
                )
                row = f"| {label} | {ns_per_trial(times, 2 * n):.0f} | {ns_per_trial(t_cores, 2 * n):.0f} |"
                if variant is None:
                    row += f" - | - | - | {' / '.join(f'{v:.4f}' for v in ours)} | - | {' / '.join(f'{v:.1f}' for v in en)} | - | - |"
                    print(row)
                    continue
                theirs = peer[variant]
                agree = [
                    abs(a - b) <= 4 * math.sqrt(max(b * (1 - b), 1e-9) * 2 / n)
                    for a, b in zip(ours, theirs["reject"], strict=True)
                ]
                row += (
                    f" {ns_per_trial(theirs['times'], 2 * n):,.0f} | {ratio(theirs['times'], times)} | "
                    f"{ratio(theirs['times'], t_cores)} | "
                    f"{' / '.join(f'{v:.4f}' for v in ours)} | {' / '.join(f'{v:.4f}' for v in theirs['reject'])} | "
                    f"{' / '.join(f'{v:.1f}' for v in en)} | {' / '.join(f'{v:.1f}' for v in theirs['expected_n'])} | "
                    + (
                        "- (rpact's z: a test with known sd, not the planner's) |"
                        if variant.endswith("_z")
                        else f"{' / '.join('yes' if a else 'NO' for a in agree)} |"
                    )
                )
                print(row)
    welch = parse_design(
        {
            "name": "curve",
            "arms": {"kind": "randomized", "n": 100},
            "endpoint": {"kind": "continuous", "sd": 1.0},
            "analysis": {"rule": "welch"},
            "scenarios": [{"name": "alt", "treatment": 0.5, "control": 0.0}],
        }
    )
    power_curve(welch, [20], n_sims=1000)
    began = time.perf_counter()
    curve = power_curve(welch, range(20, 220, 10), n_sims=10_000)
    elapsed = time.perf_counter() - began
    print(
        f"\npower curve, Welch t test, 20 values of N x 10,000 trials: {elapsed:.3f} s "
        f"(power {curve[0].value:.3f} at N = 20 to {curve[-1].value:.3f} at N = 210)"
    )


if __name__ == "__main__":
    main()
