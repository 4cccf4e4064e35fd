"""Group sequential designs against rpact, and the speed of a power curve, in one run.

Usage: .venv/bin/python benchmarks/bench_sequential.py [--quick]

A 3-look design (50, 100, 150 participants, 1:1; one-sided alpha 0.025; O'Brien-Fleming-
and Pocock-type spending) for a two-arm continuous endpoint (sd 1, pooled t test, delta 0
and 0.5) and a two-arm binary endpoint (pooled z test, 0.3 vs 0.3 and 0.6): 10^5 simulated
trials per scenario in the planner and in rpact's getSimulationMeans / getSimulationRates
(rpact_sequential.R, timed inside R). Then a power curve of 20 values of N x 10^4 trials.
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import time
from pathlib import Path

from planner import evaluate, parse_design
from planner.search import power_curve

HERE = Path(__file__).resolve().parent


def design(kind: str, spending: str):
    if kind == "continuous":
        ep, rule = {"kind": "continuous", "sd": 1.0}, "t-pooled"
        sc = [{"name": "null", "treatment": 0.0, "control": 0.0}, {"name": "alt", "treatment": 0.5, "control": 0.0}]
    else:
        ep, rule = {"kind": "binary"}, "z-pooled"
        sc = [{"name": "null", "treatment": 0.3, "control": 0.3}, {"name": "alt", "treatment": 0.6, "control": 0.3}]
    return parse_design({"name": f"{kind} {spending}", "arms": {"kind": "randomized", "n": 150}, "endpoint": ep,
                         "analysis": {"rule": rule}, "scenarios": sc,
                         "interim": {"fractions": [1 / 3, 2 / 3, 1.0], "spending": spending}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 10_000 if args.quick else 100_000
    rpact = {}
    if shutil.which("Rscript"):
        out = subprocess.run(["Rscript", str(HERE / "rpact_sequential.R"), str(n), "1"], capture_output=True,
                             text=True, check=True).stdout
        for line in out.splitlines():
            head, reject, expected = line.split("|")
            name, elapsed = head.split()
            rpact[name] = (float(elapsed), [float(v) for v in reject.split()], [float(v) for v in expected.split()])
    print(f"{n:,} simulated trials per scenario; 2 scenarios (null, alternative) per design\n")
    print("| design | planner trials/s | rpact trials/s | x rpact | P(reject) planner | rpact | E[N] planner | rpact | within 4 SE |")
    print("|---|---|---|---|---|---|---|---|---|")
    for kind in ("continuous", "binary"):
        for spending, tag in (("obrien-fleming", "asOF"), ("pocock", "asP")):
            d = design(kind, spending)
            evaluate(d, n_sims=1000)  # boundaries computed once and cached, as in any repeated use
            best = math.inf
            for _ in range(3):
                began = time.perf_counter()
                res = evaluate(d, n_sims=n, seed=1)
                best = min(best, time.perf_counter() - began)
            ours = [r.success.value for r in res.results]
            en = [r.expected_n for r in res.results]
            speed = 2 * n / best
            row = f"| {kind}, {spending} | {speed:,.0f} |"
            if f"{kind}_{tag}" in rpact:
                elapsed, theirs, their_n = rpact[f"{kind}_{tag}"]
                agree = [abs(a - b) <= 4 * math.sqrt(max(b * (1 - b), 1e-9) * 2 / n) for a, b in zip(ours, theirs, strict=True)]
                row += (f" {2 * n / elapsed:,.0f} | {speed / (2 * n / elapsed):,.0f} | "
                        f"{' / '.join(f'{v:.4f}' for v in ours)} | {' / '.join(f'{v:.4f}' for v in theirs)} | "
                        f"{' / '.join(f'{v:.1f}' for v in en)} | {' / '.join(f'{v:.1f}' for v in their_n)} | "
                        f"{' / '.join('yes' if a else 'NO' for a in agree)} |")
            else:
                row += f" - | - | {' / '.join(f'{v:.4f}' for v in ours)} | - | {' / '.join(f'{v:.1f}' for v in en)} | - | - |"
            print(row)
    welch = parse_design({"name": "curve", "arms": {"kind": "randomized", "n": 100},
                          "endpoint": {"kind": "continuous", "sd": 1.0}, "analysis": {"rule": "welch"},
                          "scenarios": [{"name": "alt", "treatment": 0.5, "control": 0.0}]})
    power_curve(welch, [20], n_sims=1000)
    began = time.perf_counter()
    curve = power_curve(welch, range(20, 220, 10), n_sims=10_000)
    elapsed = time.perf_counter() - began
    print(f"\npower curve, Welch t test, 20 values of N x 10,000 trials: {elapsed:.3f} s "
          f"(power {curve[0].value:.3f} at N = 20 to {curve[-1].value:.3f} at N = 210)")


if __name__ == "__main__":
    main()
