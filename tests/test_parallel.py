"""Simulation threads (planner.parallel): the same seed gives the same numbers with any number of threads."""

from __future__ import annotations

import numpy as np
import pytest

from planner import evaluate, parse_design
from planner.assurance import DesignPriorSampler
from planner.engine import tally, tally_sources
from planner.parallel import map_in_threads, simulation_threads
from planner.randomness import BLOCK_SIZE
from planner.rules import make_rule


def _sequential_design():
    return parse_design(
        {
            "name": "threads",
            "arms": {"kind": "randomized", "n": 120},
            "endpoint": {"kind": "continuous", "sd": 1.0},
            "analysis": {"rule": "t-pooled"},
            "interim": {
                "fractions": [0.5, 1.0],
                "spending": "obrien-fleming",
                "futility": "conditional-power",
            },
            "design_prior": {
                "treatment": {"family": "normal", "components": [{"weight": 1.0, "mean": 0.4, "sd": 0.2}]},
                "control": {"family": "point", "value": 0.0},
            },
            "scenarios": [
                {"name": "null", "treatment": 0.0, "control": 0.0},
                {"name": "alt", "treatment": 0.5, "control": 0.0},
            ],
        }
    )


def _as_tuple(t):
    return (tuple(t.efficacy), tuple(t.futility), t.reject_ignoring_futility, t.enrolled, t.enrolled_sq)


def test_tallies_do_not_depend_on_threads_or_chunks():
    design = _sequential_design()
    rule = make_rule(design)
    sources = [*design.scenarios, DesignPriorSampler(design)]
    stop = 3 * BLOCK_SIZE + 777  # blocks of unequal size
    runs = {
        (threads, chunk): [
            _as_tuple(t)
            for t in tally_sources(
                design, rule, sources, seed=11, start=0, stop=stop, chunk_size=chunk, threads=threads
            )
        ]
        for threads, chunk in ((1, 16_384), (2, 16_384), (3, 5_000), (2, 100_000))
    }
    first = next(iter(runs.values()))
    assert all(r == first for r in runs.values())
    # and each source alone, as tally computes it, is the same
    for source, expected in zip(sources, first, strict=True):
        alone = tally(design, rule, source, seed=11, start=0, stop=stop, threads=2)
        assert _as_tuple(alone) == expected


def test_evaluate_is_the_same_with_one_thread_and_several(monkeypatch):
    design = _sequential_design()
    monkeypatch.setenv("PLANNER_THREADS", "1")
    one = evaluate(design, n_sims=2 * BLOCK_SIZE + 10, seed=3)
    monkeypatch.setenv("PLANNER_THREADS", "2")
    two = evaluate(design, n_sims=2 * BLOCK_SIZE + 10, seed=3)
    assert [r.success.value for r in one.results] == [r.success.value for r in two.results]
    assert one.assurance.value == two.assurance.value
    assert one.type_one_error.value == two.type_one_error.value


def test_nested_use_runs_in_the_calling_thread():
    """Work submitted from a pool thread runs there (no deadlock when every pool thread waits on the pool)."""

    def outer(i):
        return sum(map_in_threads(lambda j: i * j, range(5), threads=2))

    assert list(map_in_threads(outer, range(6), threads=2)) == [i * 10 for i in range(6)]


@pytest.mark.parametrize("text", ["0", "-2", "two", "1.5"])
def test_a_bad_thread_count_is_named(monkeypatch, text):
    monkeypatch.setenv("PLANNER_THREADS", text)
    with pytest.raises(ValueError, match="PLANNER_THREADS"):
        simulation_threads()


def test_threads_share_the_work():
    """Both threads of a 2-thread pool take blocks (the work is not run in one thread)."""
    import threading

    names = list(
        map_in_threads(lambda _: (np.ones(10**6).sum(), threading.current_thread().name)[1], range(8), 2)
    )
    assert len(set(names)) == 2


@pytest.mark.parametrize("threads", [0, -1, 1.5, "2", 10**6])
def test_evaluate_names_a_bad_thread_count(threads):
    from planner import DesignError

    with pytest.raises(DesignError, match="threads"):
        evaluate(_sequential_design(), n_sims=1000, threads=threads)
