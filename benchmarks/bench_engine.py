"""Speed and memory of the simulation engine, against a naive per-patient simulation and rpact, in one run.

Usage (from the project root, after scripts/setup):
    .venv/bin/python benchmarks/bench_engine.py            # full run, about a minute
    .venv/bin/python benchmarks/bench_engine.py --quick    # smaller counts, a smoke run

For three fixed designs (two-arm continuous, two-arm binary, single-arm binary) it
measures simulated trials per second of the planner (one process, one core),
of a naive per-patient Python simulation of the same design (numpy draws per
participant, scipy's test per trial), and of rpact's getSimulationMeans /
getSimulationRates (when Rscript with rpact is installed), checks that the three
agree within Monte Carlo error (and with the exact value for binary designs), and
measures peak memory of 10^7 simulated trials. Results: printed as a Markdown table
and written to benchmarks/results/bench_engine.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from scipy import stats

from planner import evaluate, parse_design

HERE = Path(__file__).resolve().parent
ALPHA = 0.025


def design(name):
    """The three benchmark designs; the same ones rpact_fixed.R simulates."""
    if name == "continuous_two_arm":
        return parse_design({"name": name, "arms": {"kind": "randomized", "n": 100},
                             "endpoint": {"kind": "continuous", "sd": 1.0}, "analysis": {"rule": "t-pooled"},
                             "scenarios": [{"name": "null", "treatment": 0.0, "control": 0.0},
                                           {"name": "alt", "treatment": 0.5, "control": 0.0}]})
    if name == "binary_two_arm":
        return parse_design({"name": name, "arms": {"kind": "randomized", "n": 100}, "endpoint": {"kind": "binary"},
                             "analysis": {"rule": "fisher"},
                             "scenarios": [{"name": "null", "treatment": 0.3, "control": 0.3},
                                           {"name": "alt", "treatment": 0.6, "control": 0.3}]})
    return parse_design({"name": name, "arms": {"kind": "single-arm", "n": 50}, "endpoint": {"kind": "binary"},
                         "analysis": {"rule": "exact-binomial", "performance_goal": 0.5},
                         "scenarios": [{"name": "null", "treatment": 0.5}, {"name": "alt", "treatment": 0.75}]})


NAMES = ("continuous_two_arm", "binary_two_arm", "binary_single_arm")


def naive_trial(d, scenario, rng) -> bool:
    """One trial simulated participant by participant and analysed with scipy."""
    if d.endpoint.kind == "continuous":
        n1, n2 = d.arms.sizes
        y1 = rng.normal(scenario.treatment, d.endpoint.sd, n1)
        y2 = rng.normal(scenario.control, d.endpoint.sd, n2)
        return stats.ttest_ind(y1, y2, alternative="greater").pvalue <= ALPHA
    if d.randomized:
        n1, n2 = d.arms.sizes
        x1 = int((rng.random(n1) < scenario.treatment).sum())
        x2 = int((rng.random(n2) < scenario.control).sum())
        return stats.fisher_exact([[x1, x2], [n1 - x1, n2 - x2]], alternative="greater").pvalue <= ALPHA
    n = d.arms.n
    x = int((rng.random(n) < scenario.treatment).sum())
    return stats.binomtest(x, n, d.analysis.performance_goal, alternative="greater").pvalue <= ALPHA


def run_naive(d, n_sims, seed):
    rng = np.random.default_rng(seed)
    began = time.perf_counter()
    values = [sum(naive_trial(d, s, rng) for _ in range(n_sims)) / n_sims for s in d.scenarios]
    return values, time.perf_counter() - began


def run_planner(d, n_sims, seed, repeats=3):
    best, result = math.inf, None
    for _ in range(repeats):
        began = time.perf_counter()
        result = evaluate(d, n_sims=n_sims, seed=seed, method="simulate")
        best = min(best, time.perf_counter() - began)
    return [r.success.value for r in result.results], best


def run_rpact(iterations, seed):
    if shutil.which("Rscript") is None:
        return None
    proc = subprocess.run(["Rscript", str(HERE / "rpact_fixed.R"), str(iterations), str(seed)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print("rpact run failed:", proc.stderr.strip().splitlines()[-1:], file=sys.stderr)
        return None
    out = {}
    for line in proc.stdout.splitlines():
        name, elapsed, *values = line.split()
        out[name] = ([float(v) for v in values], float(elapsed))
    return out


def agree(p1, n1, p2, n2, k=4.0):
    se = math.sqrt(max(p1 * (1 - p1), 1e-12) / n1 + max(p2 * (1 - p2), 1e-12) / n2)
    return abs(p1 - p2) <= k * se


def memory_of_ten_million():
    d = design("continuous_two_arm")
    tracemalloc.start()
    began = time.perf_counter()
    evaluate(d.with_changes({"scenarios": [{"name": "alt", "treatment": 0.5, "control": 0.0}]}),
             n_sims=10_000_000, seed=1, method="simulate")
    elapsed = time.perf_counter() - began
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run of the script")
    args = parser.parse_args()
    n_planner, n_naive, n_rpact = (100_000, 300, 2_000) if args.quick else (1_000_000, 3_000, 20_000)
    seed = 20261123
    rpact = run_rpact(n_rpact, seed)
    rows, ok = [], True
    for name in NAMES:
        d = design(name)
        k = len(d.scenarios)
        fast, t_fast = run_planner(d, n_planner, seed)
        slow, t_slow = run_naive(d, n_naive, seed)
        row = {"design": name, "planner_trials_per_s": k * n_planner / t_fast,
               "naive_trials_per_s": k * n_naive / t_slow, "planner": fast, "naive": slow}
        row["speedup_vs_naive"] = row["planner_trials_per_s"] / row["naive_trials_per_s"]
        agreement = [agree(a, n_planner, b, n_naive) for a, b in zip(fast, slow, strict=True)]
        if d.endpoint.kind == "binary":
            exact = [r.success.value for r in evaluate(d, method="exact").results]
            row["exact"] = exact
            agreement += [agree(a, n_planner, b, 10**12) for a, b in zip(fast, exact, strict=True)]
        if rpact and name in rpact:
            values, elapsed = rpact[name]
            row["rpact"] = values
            row["rpact_trials_per_s"] = k * n_rpact / elapsed
            row["speedup_vs_rpact"] = row["planner_trials_per_s"] / row["rpact_trials_per_s"]
            agreement += [agree(a, n_planner, b, n_rpact) for a, b in zip(fast, values, strict=True)]
        row["agree_within_4_mcse"] = all(agreement)
        ok &= row["agree_within_4_mcse"]
        rows.append(row)
    peak_mib, t_mem = memory_of_ten_million()

    print(f"planner sims per scenario {n_planner:,}; naive {n_naive:,}; rpact {n_rpact:,} "
          f"({'not installed' if rpact is None else 'Rscript + rpact'}); 2 scenarios each (null, alternative)\n")
    print("| design | planner trials/s | naive trials/s | x naive | rpact trials/s | x rpact "
          "| P(reject) null / alt: planner | naive | rpact | exact | agree |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    fmt = lambda v: " / ".join(f"{x:.4f}" for x in v) if v else "-"  # noqa: E731
    for r in rows:
        print(f"| {r['design']} | {r['planner_trials_per_s']:,.0f} | {r['naive_trials_per_s']:,.0f} "
              f"| {r['speedup_vs_naive']:,.0f} | {r.get('rpact_trials_per_s', float('nan')):,.0f} "
              f"| {r.get('speedup_vs_rpact', float('nan')):,.0f} | {fmt(r['planner'])} | {fmt(r['naive'])} "
              f"| {fmt(r.get('rpact'))} | {fmt(r.get('exact'))} | {'yes' if r['agree_within_4_mcse'] else 'NO'} |")
    print(f"\n10^7 two-arm continuous trials: {t_mem:.2f} s, peak traced memory {peak_mib:.1f} MiB")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "bench_engine.json").write_text(json.dumps(
        {"rows": rows, "peak_mib_1e7": peak_mib, "seconds_1e7": t_mem, "quick": args.quick,
         "cpu_count": os.cpu_count()}, indent=2))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
