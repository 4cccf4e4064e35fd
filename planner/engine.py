"""The evaluation loop: operating characteristics of a design, per scenario.

Binary designs are enumerated exactly where cheap (:mod:`planner.exact`);
everything else is simulated through sufficient statistics in bounded chunks.
Random numbers come from :mod:`planner.randomness`, so the same seed gives the
same numbers whatever the chunk size: only integer counts are accumulated.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from planner.assurance import DesignPriorSampler, exact_assurance
from planner.defaults import MAX_SIMS, MIN_SIMS
from planner.design import Design, Scenario, whole_number
from planner.errors import DesignError
from planner.exact import exact_available, exact_success_probability
from planner.group_sequential import (
    TIME_QUANTUM,
    TIME_QUANTUM_SQ,
    SequentialTally,
    describe_looks,
    simulate_looks,
)
from planner.multistage import multistage_for
from planner.parallel import map_in_threads
from planner.priors import design_priors
from planner.randomness import BLOCK_SIZE, BlockStreams
from planner.results import Estimate, Evaluation, ScenarioResult, StageSummary, SurvivalSummary
from planner.rules import make_rule
from planner.type_one_error import TypeOneErrorCheck, check_type_one_error

__all__ = [
    "evaluate",
    "max_type_one_error",
    "tally",
    "tally_sources",
    "count_successes",
    "DEFAULT_CHUNK_SIZE",
]

# Trials simulated at once: arrays of 16,384 float64 (128 KiB) stay in cache and below malloc's mmap threshold
# (larger chunks pay page faults on every temporary; measured in benchmarks/README.md). Results do not depend on it.
DEFAULT_CHUNK_SIZE = 1 << 14
MAX_CHUNK_SIZE = 1 << 22

Progress = Callable[[int], None]  # called with the number of trials just finished
Method = Literal["auto", "exact", "simulate"]


def _evaluate_iv(design: Any, n_sims: Any, seed: Any, method: Any, chunk_size: Any) -> tuple[int, int, int]:
    """Check and normalize evaluate()'s arguments; messages name the argument."""
    if not isinstance(design, Design):
        raise DesignError(f"design: expected a planner Design, got {type(design).__name__}")
    n_sims, seed = design.simulation_settings(n_sims, seed)
    if method not in ("auto", "exact", "simulate"):
        raise DesignError(f"method: must be 'auto', 'exact' or 'simulate', got {method!r}")
    if method == "exact" and not exact_available(design) and design.reestimation is None:
        raise DesignError(
            "method: 'exact' needs a binary design that can be enumerated (fixed, or single-arm "
            "with interim looks)"
        )
    chunk_size = whole_number("chunk_size", chunk_size, 1, MAX_CHUNK_SIZE)
    return n_sims, seed, chunk_size


def _tally_block(
    design: Design, rule: Any, scenario: Any, seed: int, start: int, stop: int, chunk_size: int
) -> SequentialTally:
    """Trials start..stop-1 of one block (its own streams), in chunks of at most ``chunk_size``."""
    total = SequentialTally.empty(len(design.look_sizes))
    streams = BlockStreams(seed, start // BLOCK_SIZE)
    for lo in range(start, stop, chunk_size):
        size = min(chunk_size, stop - lo)
        truth = scenario.draw(streams, size) if hasattr(scenario, "draw") else scenario
        total.add(simulate_looks(design, rule, truth, streams, size))
    return total


def tally_sources(
    design: Design,
    rule: Any,
    sources: list[Any],
    *,
    seed: int,
    start: int,
    stop: int,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Progress | None = None,
    threads: int | None = None,
) -> list[SequentialTally]:
    """:func:`tally` for several sources (scenarios, or the design prior's sampler) at once: every block of
    every source is one task for the simulation threads (:mod:`planner.parallel`); the tallies are sums of
    integers, so they do not depend on the number of threads or the chunk size."""
    if start % BLOCK_SIZE:
        raise ValueError(f"start must be a multiple of BLOCK_SIZE={BLOCK_SIZE}, got {start}")
    if threads is None and design.endpoint.kind == "binary":
        threads = (
            1  # binary draws are table lookups that lose 5-35% on a second thread here (benchmarks/README.md)
        )
    tasks = [
        (i, lo, min(lo + BLOCK_SIZE, stop))
        for i in range(len(sources))
        for lo in range(start, stop, BLOCK_SIZE)
    ]
    totals = [SequentialTally.empty(len(design.look_sizes)) for _ in sources]

    def run(task: tuple[int, int, int]) -> SequentialTally:
        i, lo, hi = task
        return _tally_block(design, rule, sources[i], seed, lo, hi, chunk_size)

    for (i, lo, hi), block in zip(tasks, map_in_threads(run, tasks, threads), strict=True):
        totals[i].add(block)
        if progress is not None:
            progress(hi - lo)
    return totals


def tally(
    design: Design,
    rule: Any,
    scenario: Scenario | DesignPriorSampler,
    *,
    seed: int,
    start: int,
    stop: int,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Progress | None = None,
    threads: int | None = None,
) -> SequentialTally:
    """Outcomes of simulated trials start..stop-1: per look, stops for efficacy and for futility.

    A fixed design has one look (efficacy = success). ``scenario`` is a fixed truth, or a
    :class:`~planner.assurance.DesignPriorSampler` that draws each trial's truth from the
    design prior (assurance). ``start`` must be a multiple of
    :data:`~planner.randomness.BLOCK_SIZE` (a block is the unit that can be handed to a
    thread or a worker); chunks cut blocks only to bound memory. Only integers are accumulated, so the
    result does not depend on the chunk size or the number of threads.
    """
    return tally_sources(
        design,
        rule,
        [scenario],
        seed=seed,
        start=start,
        stop=stop,
        chunk_size=chunk_size,
        progress=progress,
        threads=threads,
    )[0]


def count_successes(
    design: Design,
    rule: Any,
    scenario: Any,
    *,
    seed: int,
    start: int,
    stop: int,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Progress | None = None,
) -> int:
    """Number of simulated trials start..stop-1 in which the design declares success."""
    t = tally(
        design, rule, scenario, seed=seed, start=start, stop=stop, chunk_size=chunk_size, progress=progress
    )
    return int(t.efficacy.sum())


def _summarize(
    design: Design, t: SequentialTally, n_sims: int
) -> tuple[Estimate, float, StageSummary | None]:
    success = Estimate.from_count(int(t.efficacy.sum()), n_sims)
    mean_n = t.enrolled / n_sims
    if design.interim is None:
        return success, mean_n, None
    var_n = max(t.enrolled_sq / n_sims - mean_n**2, 0.0)
    est = [Estimate.from_count(int(c), n_sims) for c in t.efficacy]
    fut = [Estimate.from_count(int(c), n_sims) for c in t.futility]
    stages = StageSummary(
        efficacy_stop=tuple(est),
        futility_stop=tuple(fut),
        early_success=Estimate.from_count(int(t.efficacy[:-1].sum()), n_sims),
        final_success=est[-1],
        futility_stop_early=Estimate.from_count(int(t.futility[:-1].sum()), n_sims),
        final_failure=fut[-1],
        reject_ignoring_futility=Estimate.from_count(t.reject_ignoring_futility, n_sims),
        expected_n_mcse=float(np.sqrt(var_n / n_sims)),
        boundaries=describe_looks(design),
    )
    return success, mean_n, stages


def survival_summary(t: SequentialTally, n_sims: int) -> SurvivalSummary:
    """Expected events, analysis time and participants entered at the analysis where each trial stopped."""

    def mean_and_se(total: float, squares: float) -> tuple[float, float]:
        mean = total / n_sims
        return mean, float(np.sqrt(max(squares / n_sims - mean * mean, 0.0) / n_sims))

    events = mean_and_se(t.events, t.events_sq)
    time = mean_and_se(t.time * TIME_QUANTUM, t.time_sq * TIME_QUANTUM_SQ**2)
    enrolled = mean_and_se(t.enrolled, t.enrolled_sq)
    return SurvivalSummary(*events, *time, *enrolled)


def _exact_stages(design: Design, scenario: Scenario) -> tuple[Estimate, float, StageSummary]:
    """Exact operating characteristics of a binary design with interim looks (planner.multistage)."""
    oc = multistage_for(design).oc(scenario.treatment, scenario.control)
    eff, fut = oc.efficacy[0], oc.futility[0]
    est = [Estimate.exactly(v) for v in eff]
    stages = StageSummary(
        efficacy_stop=tuple(est),
        futility_stop=tuple(Estimate.exactly(v) for v in fut),
        early_success=Estimate.exactly(eff[:-1].sum()),
        final_success=est[-1],
        futility_stop_early=Estimate.exactly(fut[:-1].sum()),
        final_failure=Estimate.exactly(fut[-1]),
        reject_ignoring_futility=Estimate.exactly(oc.reject_ignoring_futility[0]),
        expected_n_mcse=0.0,
        boundaries=describe_looks(design),
    )
    return Estimate.exactly(eff.sum()), float(oc.expected_n[0]), stages


def evaluate(
    design: Design,
    *,
    n_sims: int | None = None,
    seed: int | None = None,
    method: Method = "auto",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Progress | None = None,
    type_one_error: bool = True,
    threads: int | None = None,
) -> Evaluation:
    """Operating characteristics of ``design`` under each of its scenarios.

    Parameters
    ----------
    design : Design
    n_sims, seed : int, optional
        Simulated trials per scenario and the seed; default to ``design.simulation``.
    method : {"auto", "exact", "simulate"}
        "auto" enumerates binary designs exactly when cheap and simulates otherwise.
    chunk_size : int
        Trials simulated at once (memory bound only; results do not depend on it).
    progress : callable, optional
        Called with the number of trials just simulated.
    type_one_error : bool
        Also check the maximum type I error over the composite null (:mod:`planner.type_one_error`);
        searches that evaluate many variants of a design turn it off.
    threads : int, optional
        Simulation threads (:mod:`planner.parallel`; default: the usable cores, or ``PLANNER_THREADS``). The
        numbers do not depend on it.

    Returns
    -------
    Evaluation
        Per scenario: probability of success with its Monte Carlo SE (0 when exact),
        whether the scenario is null (type I error) and the expected sample size; and,
        when the design has a design prior, the assurance (success averaged over it).
    """
    n_sims, seed, chunk_size = _evaluate_iv(design, n_sims, seed, method, chunk_size)
    if threads is not None:
        threads = whole_number("threads", threads, 1, 256)
    began = time.perf_counter()
    if design.estimand is not None and design.estimand.intercurrent_events:
        # the analysis sees the intercurrent events' strategies: evaluate that design, report the user's scenarios
        import dataclasses

        inner = evaluate(
            design.analysis_view(),
            n_sims=n_sims,
            seed=seed,
            method=method,
            chunk_size=chunk_size,
            progress=progress,
            type_one_error=type_one_error,
            threads=threads,
        )
        mapped = tuple(
            dataclasses.replace(r, scenario=sc) for r, sc in zip(inner.results, design.scenarios, strict=True)
        )
        return dataclasses.replace(inner, design=design, results=mapped)
    if design.reestimation is not None:
        return _evaluate_reestimation(design, n_sims, seed, method, began, type_one_error)
    rule = make_rule(design)
    _check_conditions_can_hold(design, rule)
    use_exact = method == "exact" or (method == "auto" and exact_available(design))
    exact_prior = exact_assurance(design, rule) if use_exact and design.design_prior is not None else None
    # what is simulated -- the scenarios unless exact, the design prior unless its assurance is exact -- runs
    # at once: every block of every source is a task for the simulation threads
    sources: list[Any] = [] if use_exact else list(design.scenarios)
    if design.design_prior is not None and exact_prior is None:
        sources.append(DesignPriorSampler(design))
    simulated = tally_sources(
        design,
        rule,
        sources,
        seed=seed,
        start=0,
        stop=n_sims,
        chunk_size=chunk_size,
        progress=progress,
        threads=threads,
    )
    results = []
    for i, scenario in enumerate(design.scenarios):
        stages, survival = None, None
        if use_exact and design.interim is not None:
            success, expected_n, stages = _exact_stages(design, scenario)
        elif use_exact:
            success, expected_n = (
                Estimate.exactly(exact_success_probability(design, rule, scenario)),
                design.arms.n,
            )
        else:
            t = simulated[i]
            success, expected_n, stages = _summarize(design, t, n_sims)
            survival = survival_summary(t, n_sims) if design.endpoint.kind == "time-to-event" else None
        multiple = None
        if design.multiple is not None and scenario.endpoints:
            from planner.multiple import simulate_multiple

            multiple = simulate_multiple(
                design.multiple_spec(), dict(scenario.endpoints), n_sims=n_sims, seed=seed
            )
        results.append(
            ScenarioResult(
                scenario,
                design.estimand_truth(scenario),
                design.is_null(scenario),
                success,
                float(expected_n),
                stages,
                multiple,
                survival,
            )
        )
    assurance, assurance_stages = None, None
    if exact_prior is not None:
        assurance = Estimate.exactly(exact_prior)
    elif design.design_prior is not None:
        assurance, prior_n, prior_stages = _summarize(design, simulated[-1], n_sims)
        if prior_stages is not None:
            assurance_stages = (prior_stages, float(prior_n))
    guard = _guard(design, rule, use_exact, n_sims, seed, chunk_size, threads) if type_one_error else None
    return Evaluation(
        design,
        tuple(results),
        seed,
        n_sims,
        method,
        time.perf_counter() - began,
        assurance,
        design_priors(design),
        type_one_error=guard,
        assurance_stages=assurance_stages,
    )


def _reestimation_effect(design: Design, treatment: float, control: float | None) -> float:
    """The effect in the direction of benefit that planner.adaptive takes (mu_t - mu_c, negated when lower is
    better; re-estimation designs are randomized, so ``control`` is given)."""
    assert control is not None
    sign = -1.0 if getattr(design.endpoint, "better", "higher") == "lower" else 1.0
    return sign * (float(treatment) - float(control))


def _evaluate_reestimation(
    design: Design, n_sims: int, seed: int, method: Method, began: float, type_one_error: bool
) -> Evaluation:
    """A design with [reestimation]: the combination test's operating characteristics per scenario, by
    integration over the interim z (exact up to quadrature), or simulated with MCSEs when ``method`` is
    'simulate' or the stage-wise tests are t tests; the type I error over the null (equal arms) likewise
    (alpha exactly for z tests)."""
    from planner.adaptive import operating_characteristics, plan_of, simulate

    plan = plan_of(design)
    results = []
    for scenario in design.scenarios:
        delta = _reestimation_effect(design, scenario.treatment, scenario.control)
        oc = (
            simulate(plan, delta, n_sims, seed)
            if method == "simulate" or plan.test == "t"
            else operating_characteristics(plan, delta)
        )
        success = Estimate.exactly(oc.power) if oc.exact else Estimate(oc.power, oc.power_mcse, False, n_sims)
        results.append(
            ScenarioResult(
                scenario,
                design.estimand_truth(scenario),
                design.is_null(scenario),
                success,
                float(oc.expected_n),
                reestimation=oc,
            )
        )
    guard = None
    if type_one_error:  # the null scenarios (equal arms at the scenarios' control values), by integration
        from planner.type_one_error import NullPoint, judge, null_scenarios

        grid = []
        for sc in null_scenarios(design):
            delta = _reestimation_effect(design, sc.treatment, sc.control)
            if plan.test == "t":  # simulated, with its MCSE
                oc = simulate(plan, delta, n_sims, seed)
                grid.append(NullPoint(sc.treatment, sc.control, oc.power, oc.power_mcse, False))
            else:
                grid.append(
                    NullPoint(
                        sc.treatment, sc.control, operating_characteristics(plan, delta).power, 0.0, True
                    )
                )
        guard = judge(design, grid)
    return Evaluation(
        design,
        tuple(results),
        seed,
        n_sims,
        method,
        time.perf_counter() - began,
        None,
        design_priors(design),
        type_one_error=guard,
    )


def _check_conditions_can_hold(design: Design, rule: Any) -> None:
    """A binary design whose conditions no outcome meets (at its planned sizes) is an input error."""
    if not design.analysis.conditions or design.endpoint.kind != "binary":
        return
    from planner.rules.binary import never_succeeds

    if never_succeeds(design, rule):
        an = design.analysis
        first = [(an.performance_goal or 0.0, an.threshold)]
        wanted = "; ".join(
            f"P(effect > {v:g}) > {q:g}" for v, q in first + [(c.value, c.probability) for c in an.conditions]
        )
        raise DesignError(
            f"analysis.conditions: no outcome of the {design.arms.n} participants meets every condition "
            f"({wanted}); the design can never succeed"
        )


def max_type_one_error(
    design: Design,
    *,
    n_sims: int | None = None,
    seed: int | None = None,
    method: Method = "auto",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> TypeOneErrorCheck | None:
    """The maximum type I error over the design's composite null alone (what ``evaluate`` reports as
    ``type_one_error``), without evaluating its scenarios; for a [multiple] design, its primary endpoint's.

    Calibration calls this at every step; the report uses it for designs with several endpoints, whose
    family-wise error is :func:`planner.multiple.familywise_error`.
    """
    if design.multiple is not None:
        primary = [sc.model_dump(exclude={"endpoints"}) for sc in design.scenarios]
        design = design.with_changes({"multiple": None, "design_prior": None, "scenarios": primary})
    n_sims, seed, chunk_size = _evaluate_iv(design, n_sims, seed, method, chunk_size)
    use_exact = method == "exact" or (method == "auto" and exact_available(design))
    return _guard(design, make_rule(design), use_exact, n_sims, seed, chunk_size)


def _guard(
    design: Design,
    rule: Any,
    use_exact: bool,
    n_sims: int,
    seed: int,
    chunk_size: int,
    threads: int | None = None,
) -> TypeOneErrorCheck | None:
    """The maximum type I error over the composite null (planner.type_one_error), exact where the design is."""
    ignore_futility = (
        design.interim is not None and design.interim.futility != "none" and not design.interim.binding
    )
    exact_power = None
    if use_exact and design.interim is not None:
        evaluator = multistage_for(design)

        def exact_power(treatment: Any, control: Any) -> Any:
            oc = evaluator.oc(treatment, control)
            return oc.reject_ignoring_futility if ignore_futility else oc.success
    elif use_exact:
        from planner.exact import exact_power as enumerate_power

        def exact_power(treatment: Any, control: Any) -> Any:
            return enumerate_power(design, rule, treatment, control)

    def simulate(scenario: Any) -> tuple[float, float]:
        t = tally(
            design, rule, scenario, seed=seed, start=0, stop=n_sims, chunk_size=chunk_size, threads=threads
        )
        count = t.reject_ignoring_futility if ignore_futility else int(t.efficacy.sum())
        est = Estimate.from_count(count, n_sims)
        return est.value, est.mcse

    return check_type_one_error(design, exact_power=exact_power, simulate=simulate)


def _largest_mcse(result: Evaluation) -> tuple[float, float]:
    """(the largest MCSE of the reported probabilities, the largest p (1 - p) among the simulated ones)."""
    estimates = [r.success for r in result.results]
    if result.assurance is not None:
        estimates.append(result.assurance)
    worst, spread = 0.0, 0.0
    for e in estimates:
        if not e.exact:
            worst, spread = max(worst, e.mcse), max(spread, e.value * (1 - e.value))
    check = result.type_one_error
    if check is not None and not check.exact:
        worst, spread = max(worst, check.mcse), max(spread, check.value * (1 - check.value))
    return worst, spread


def evaluate_to_precision(
    design: Design,
    target_mcse: float,
    *,
    max_sims: int | None = None,
    seed: int | None = None,
    method: Method = "auto",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    threads: int | None = None,
) -> Evaluation:
    """:func:`evaluate` with as many simulated trials as make every reported probability's Monte Carlo SE at
    most ``target_mcse`` (scenarios, assurance, the type I error guard), up to ``max_sims`` (default: the
    design's n_sims). Starts at one block of trials and grows to the number the estimates call for,
    n >= p (1 - p) / target^2 for the least precise figure, in whole blocks; the result is that of
    ``evaluate(design, n_sims=n)`` for the final n -- the same numbers for the same seed whatever the chunk
    size or the threads. Exact designs return at once."""
    if not isinstance(target_mcse, int | float) or not 1e-5 <= target_mcse <= 0.1:
        raise DesignError(f"target_mcse: a Monte Carlo SE between 0.00001 and 0.1, got {target_mcse!r}")
    cap = (
        design.simulation.n_sims
        if max_sims is None
        else whole_number("max_sims", max_sims, MIN_SIMS, MAX_SIMS)
    )
    n = min(cap, BLOCK_SIZE)
    while True:
        result = evaluate(design, n_sims=n, seed=seed, method=method, chunk_size=chunk_size, threads=threads)
        worst, spread = _largest_mcse(result)
        met = worst <= target_mcse * (1 + 1e-12)
        if met or n >= cap:
            import dataclasses

            info = {
                "target_mcse": float(target_mcse),
                "met": bool(met),
                "largest_mcse": worst,
                "n_sims": n,
                "cap": cap,
            }
            return dataclasses.replace(result, precision=info)
        needed = math.ceil(max(spread, 1.0 / n) / target_mcse**2 * 1.02)
        n = min(cap, max(2 * n, -(-needed // BLOCK_SIZE) * BLOCK_SIZE))
