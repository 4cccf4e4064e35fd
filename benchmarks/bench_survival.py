"""A time-to-event design against rpact's getSimulationSurvival, in one run.

Usage: .venv/bin/python benchmarks/bench_survival.py [--quick] [--sims N] [--rounds K]

Two arms, N = 220 (1:1), entry evenly spaced over 12 months (rpact's way), exponential event times with a
control median of 12 months, hazard ratio 1 (null) and 0.6, the one-sided log-rank test at alpha 0.025 at the
121st event (Schoenfeld's events for 80% power). The same number of simulated trials per scenario on both sides,
both warm, best of --rounds (common.py); the planner's `evaluate(method="simulate", type_one_error=False)` on
one thread and on the machine's cores (planner.parallel; the same numbers).
"""

from __future__ import annotations

import argparse
import datetime
import math

from common import machine, ns_per_trial, ratio, rpact, timed_rounds

from planner import evaluate, parse_design
from planner.parallel import simulation_threads

DESIGN = {
    "name": "durability, log-rank",
    "arms": {"kind": "randomized", "n": 220},
    "endpoint": {"kind": "time-to-event", "accrual_time": 12.0, "events": 121, "entry": "evenly-spaced"},
    "analysis": {"rule": "logrank"},
    "scenarios": [
        {"name": "null", "treatment": 12.0, "control": 12.0},
        {"name": "hr 0.6", "treatment": 20.0, "control": 12.0},
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sims", type=int, default=20_000, help="simulated trials per scenario, both sides")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n, rounds = (2_000, 2) if args.quick else (args.sims, args.rounds)
    peer = (rpact("survival", n, 1, rounds) or {}).get("survival_logrank")
    print(f"{datetime.date.today()}; {machine()}")
    print(f"{n:,} simulated trials per scenario on both sides, 2 scenarios; warm, best of {rounds}\n")
    d = parse_design(DESIGN)
    cores = simulation_threads()
    times, res = timed_rounds(
        lambda: evaluate(d, n_sims=n, seed=1, method="simulate", type_one_error=False, threads=1), rounds
    )
    t_cores, res_cores = timed_rounds(
        lambda: evaluate(d, n_sims=n, seed=1, method="simulate", type_one_error=False, threads=cores), rounds
    )
    ours = [r.success for r in res.results]
    assert [r.success for r in res_cores.results] == ours, "the number of threads changed the numbers"
    print("| side | us/trial | P(reject) null / HR 0.6 | MCSE |")
    print("|---|---|---|---|")
    for label, t in (("planner, 1 thread", times), (f"planner, {cores} threads", t_cores)):
        print(
            f"| {label} | {ns_per_trial(t, 2 * n) / 1000:.1f} | {ours[0].value:.4f} / {ours[1].value:.4f} "
            f"| {ours[0].mcse:.4f} / {ours[1].mcse:.4f} |"
        )
    if peer is None:
        print("\nrpact: not installed (Debian r-cran-rpact)")
        return
    rej = peer["reject"]
    print(
        f"| rpact getSimulationSurvival | {ns_per_trial(peer['times'], 2 * n) / 1000:.1f} | {rej[0]:.4f} / "
        f"{rej[1]:.4f} | - |"
    )
    within = all(
        abs(o.value - r) <= 4 * math.sqrt((o.value * (1 - o.value) + r * (1 - r)) / n)
        for o, r in zip(ours, rej, strict=True)
    )
    print(
        f"\nplanner x rpact: {ratio(peer['times'], times)} on 1 thread, {ratio(peer['times'], t_cores)} on "
        f"{cores} threads; rejection rates within 4 combined MC SEs: "
        f"{'yes' if within else 'NO'}; rpact's mean analysis time (months): "
        + " / ".join(f"{t:.2f}" for t in peer["expected_n"])
    )


if __name__ == "__main__":
    main()
