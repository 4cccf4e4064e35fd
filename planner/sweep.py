"""Design sweeps: a grid of design variations x scenarios, run as independent tasks, locally or on Dask.

A task is (variation, scenario, block range). Its random numbers come from the block streams of
:mod:`planner.randomness` (seeded by the design's seed and the block index only), and it returns
integer counts, so the table is identical however the work is split, on however many workers, and
whether or not a task had to be run again after a worker was lost. Exact (binary) designs are one
task per (variation, scenario) and need no random numbers at all.

Sweep file (TOML)::

    design = "zimislecel_single_arm.toml"      # relative to the sweep file
    n_sims = 100000                             # per scenario (default: the design's)
    blocks_per_task = 2                         # 65,536 trials per block
    method = "auto"                             # or "simulate"
    [grid]
    "arms.n" = [40, 50, 60]
    "design_prior.treatment.a0" = [0.25, 0.5, 1.0]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from planner.design import MAX_SIMS, MIN_SIMS, Design, load_design, read_toml
from planner.errors import DesignError
from planner.randomness import BLOCK_SIZE

__all__ = ["Sweep", "Task", "load_sweep", "tasks_of", "run_task", "run_sweep", "assemble"]


@dataclass(frozen=True)
class Sweep:
    design: Design
    grid: dict[str, tuple[Any, ...]]
    n_sims: int
    blocks_per_task: int = 1
    method: str = "auto"
    variations: tuple[dict[str, Any], ...] = field(init=False)

    def __post_init__(self):
        if not MIN_SIMS <= self.n_sims <= MAX_SIMS:
            raise DesignError(f"n_sims: must be between {MIN_SIMS:,} and {MAX_SIMS:,}, got {self.n_sims:,}")
        if not 1 <= self.blocks_per_task <= 1000:
            raise DesignError(f"blocks_per_task: must be between 1 and 1000, got {self.blocks_per_task}")
        if self.method not in ("auto", "simulate"):
            raise DesignError(f"method: must be 'auto' or 'simulate', got {self.method!r}")
        keys = list(self.grid)
        combos = [dict(zip(keys, values, strict=True)) for values in itertools.product(*self.grid.values())]
        for combo in combos:  # validate every variation up front, naming the one that fails
            try:
                self.design.with_changes(combo)
            except DesignError as err:
                raise DesignError(f"grid {combo}: " + "; ".join(err.problems)) from None
        object.__setattr__(self, "variations", tuple(combos) or ({},))

    def variant(self, i: int) -> Design:
        return self.design.with_changes(self.variations[i])


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep file; the design path is relative to it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DesignError(f"{path}: no such sweep file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise DesignError(f"{path}: cannot read the sweep file ({err})") from None
    data = read_toml(text, str(path))
    if "design" not in data:
        raise DesignError(f"{path}: design: required field is missing (the design file to vary)")
    design = load_design(path.parent / data["design"])
    grid = data.get("grid", {})
    if not isinstance(grid, dict) or not all(isinstance(v, list) and v for v in grid.values()):
        raise DesignError(f"{path}: grid: each entry must be a non-empty list of values")
    unknown = set(data) - {"design", "grid", "n_sims", "blocks_per_task", "method"}
    if unknown:
        raise DesignError(f"{path}: unknown field(s) {sorted(unknown)}")
    n_sims = data.get("n_sims", design.simulation.n_sims)
    if isinstance(n_sims, bool) or not isinstance(n_sims, int):
        raise DesignError(f"{path}: n_sims: must be a whole number, got {n_sims!r}")
    try:
        return Sweep(
            design,
            {k: tuple(v) for k, v in grid.items()},
            n_sims,
            data.get("blocks_per_task", 1),
            data.get("method", "auto"),
        )
    except DesignError as err:  # name the sweep file, whose fields these are
        raise DesignError(
            "; ".join(f"{path}: {p}" for p in err.problems),
            problems=tuple(f"{path}: {p}" for p in err.problems),
        ) from None


@dataclass(frozen=True)
class Task:
    variation: int
    scenario: int  # -1: assurance (the design prior)
    start: int  # first trial (a multiple of BLOCK_SIZE); -1 for an exact task
    stop: int


def _exact(design: Design, method: str) -> bool:
    from planner.exact import exact_available

    return method == "auto" and design.interim is None and exact_available(design)


def tasks_of(sweep: Sweep) -> list[Task]:
    """Every task of the sweep, in a fixed order."""
    out = []
    step = sweep.blocks_per_task * BLOCK_SIZE
    for v in range(len(sweep.variations)):
        d = sweep.variant(v)
        scenarios = list(range(len(d.scenarios))) + ([-1] if d.design_prior is not None else [])
        for s in scenarios:
            if _exact(d, sweep.method):
                out.append(Task(v, s, -1, -1))
            else:
                out.extend(
                    Task(v, s, lo, min(lo + step, sweep.n_sims)) for lo in range(0, sweep.n_sims, step)
                )
    return out


def run_task(sweep: Sweep, task: Task, threads: int | None = None) -> tuple[Task, dict[str, Any]]:
    """Counts of one task (integers), or the exact probability of an exact task. ``threads``: simulation
    threads (planner.parallel; 1 on Dask workers, which are the parallel unit there)."""
    from planner.assurance import DesignPriorSampler, exact_assurance
    from planner.engine import tally
    from planner.exact import exact_success_probability
    from planner.rules import make_rule

    d = sweep.variant(task.variation)
    rule = make_rule(d)
    if task.start < 0:
        value = (
            exact_assurance(d, rule)
            if task.scenario < 0
            else exact_success_probability(d, rule, d.scenarios[task.scenario])
        )
        return task, {"exact": float(value)}
    source = DesignPriorSampler(d) if task.scenario < 0 else d.scenarios[task.scenario]
    t = tally(d, rule, source, seed=d.simulation.seed, start=task.start, stop=task.stop, threads=threads)
    out: dict[str, Any] = {
        "successes": int(t.efficacy.sum()),
        "enrolled": int(t.enrolled),
        "trials": task.stop - task.start,
    }
    if d.endpoint.kind == "time-to-event":  # the integer sums behind expected events and analysis time
        out["survival"] = {name: int(getattr(t, name)) for name in SURVIVAL_SUMS}
    return task, out


# the SequentialTally fields a time-to-event cell adds over its tasks (integers: any order gives the same sum)
SURVIVAL_SUMS = ("events", "events_sq", "time", "time_sq", "enrolled", "enrolled_sq")


def _survival_columns(outs: list[dict[str, Any]], trials: int) -> dict[str, float]:
    """Expected events, analysis time and participants entered with their MCSEs, as evaluate computes them."""
    from planner.engine import survival_summary
    from planner.group_sequential import SequentialTally

    t = SequentialTally.empty(1)
    for name in SURVIVAL_SUMS:
        setattr(t, name, sum(o["survival"][name] for o in outs))
    return survival_summary(t, trials).to_dict()


def assemble(sweep: Sweep, outcomes: list[tuple[Task, dict[str, Any]]]) -> pd.DataFrame:
    """The tidy table: one row per (variation, scenario), each estimate with its MCSE."""
    groups: dict[tuple[int, int], list[dict]] = {}
    for task, out in outcomes:
        groups.setdefault((task.variation, task.scenario), []).append(out)
    rows = []
    for (v, s), outs in sorted(groups.items()):
        d = sweep.variant(v)
        row = {f"set {k}": val for k, val in sweep.variations[v].items()}
        if s < 0:
            row.update({"scenario": "assurance (design prior)", "is_null": None})
        else:
            sc = d.scenarios[s]
            row.update({"scenario": sc.name, "is_null": d.is_null(sc)})
        if "exact" in outs[0]:
            row.update(
                {
                    "p_success": outs[0]["exact"],
                    "mcse": 0.0,
                    "exact": True,
                    "n_sims": None,
                    "expected_n": float(d.arms.n),
                }
            )
        else:
            trials = sum(o["trials"] for o in outs)
            p = sum(o["successes"] for o in outs) / trials
            row.update(
                {
                    "p_success": p,
                    "mcse": math.sqrt(p * (1 - p) / trials),
                    "exact": False,
                    "n_sims": trials,
                    "expected_n": sum(o["enrolled"] for o in outs) / trials,
                }
            )
            if "survival" in outs[0]:
                row.update(_survival_columns(outs, trials))
        rows.append(row)
    return pd.DataFrame(rows)


def run_sweep(
    sweep: Sweep, *, client=None, progress: Callable[[int, int], None] | None = None, retries: int = 3
) -> pd.DataFrame:
    """Run every task in-process (``client`` None) or on a Dask distributed client; return the table."""
    tasks = tasks_of(sweep)
    outcomes = []
    if client is None:
        for i, task in enumerate(tasks):
            outcomes.append(run_task(sweep, task))
            if progress:
                progress(i + 1, len(tasks))
    else:
        from dask.distributed import as_completed

        # the sweep travels with each task (small), so losing a worker loses no input data
        futures = [client.submit(run_task, sweep, t, 1, pure=False, retries=retries) for t in tasks]
        for i, future in enumerate(as_completed(futures)):
            outcomes.append(future.result())
            if progress:
                progress(i + 1, len(tasks))
    order = {t: i for i, t in enumerate(tasks)}
    outcomes.sort(key=lambda o: order[o[0]])
    return assemble(sweep, outcomes)
