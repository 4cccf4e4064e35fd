"""Design sweeps: the same table in-process, on 1 and 2 Dask workers, and after a worker is killed."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner import DesignError, evaluate
from planner.cli import app
from planner.sweep import Sweep, load_sweep, run_sweep, tasks_of

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ROOT / "examples" / "sweeps" / "zimislecel_n_by_discount.toml"


def small(tmp_path: Path, method="simulate", n_sims=150_000) -> Sweep:
    f = tmp_path / "sweep.toml"
    f.write_text(
        f'design = "{ROOT / "examples" / "zimislecel_single_arm.toml"}"\n'
        f'n_sims = {n_sims}\nmethod = "{method}"\n[grid]\n"arms.n" = [40, 60]\n'
        '"design_prior.treatment.a0" = [0.5, 1.0]\n'
    )
    return load_sweep(f)


def test_cells_equal_evaluate(tmp_path):
    sweep = small(tmp_path)
    table = run_sweep(sweep)
    for v, changes in enumerate(sweep.variations):
        res = evaluate(sweep.variant(v), n_sims=sweep.n_sims, method="simulate")
        rows = table[
            (table["set arms.n"] == changes["arms.n"])
            & (table["set design_prior.treatment.a0"] == changes["design_prior.treatment.a0"])
        ]
        for r in res.results:
            row = rows[rows["scenario"] == r.scenario.name].iloc[0]
            assert row["p_success"] == r.success.value and row["mcse"] == r.success.mcse
        assert (
            rows[rows["scenario"] == "assurance (design prior)"].iloc[0]["p_success"] == res.assurance.value
        )


def test_exact_cells(tmp_path):
    sweep = small(tmp_path, method="auto")
    assert all(t.start == -1 for t in tasks_of(sweep))
    table = run_sweep(sweep)
    assert table["exact"].all() and (table["mcse"] == 0).all()


@contextlib.contextmanager
def plain_main():
    """Worker processes start by 'spawn', which re-runs the parent's __main__ file. Other tests (AppTest)
    can leave a temporary script there; give the workers a __main__ without a file while they start."""
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = saved


@pytest.fixture(scope="module")
def cluster():
    from dask import distributed

    with (
        plain_main(),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as c,
        distributed.Client(c) as client,
    ):
        yield c, client


def test_identical_in_process_and_on_one_and_two_workers(tmp_path, cluster):
    from dask.distributed import Client, LocalCluster

    sweep = small(tmp_path)
    local = run_sweep(sweep)
    _, two = cluster
    assert run_sweep(sweep, client=two).equals(local)
    with (
        plain_main(),
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as c1,
        Client(c1) as one,
    ):
        assert run_sweep(sweep, client=one).equals(local)


def test_a_killed_worker_loses_no_result(cluster):
    _, client = cluster
    sweep = load_sweep(SWEEP)
    local = run_sweep(sweep)
    pids = client.run(os.getpid)
    victim = next(iter(pids.values()))
    done = []

    def kill_midway():
        while len(done) < len(tasks_of(sweep)) // 4:
            time.sleep(0.005)
        os.kill(victim, signal.SIGKILL)

    threading.Thread(target=kill_midway, daemon=True).start()
    table = run_sweep(sweep, client=client, progress=lambda i, n: done.append(i))
    assert victim not in client.run(os.getpid).values()  # the worker really died (the nanny started another)
    assert table.equals(local)


def test_bad_sweeps_are_named(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(
        f'design = "{ROOT / "examples" / "zimislecel_single_arm.toml"}"\n[grid]\n"arms.n" = [40, -3]\n'
    )
    with pytest.raises(DesignError, match="arms.n"):
        load_sweep(f)
    f.write_text(f'design = "{ROOT / "examples" / "zimislecel_single_arm.toml"}"\nn_sims = 5\n')
    with pytest.raises(DesignError, match="n_sims"):
        load_sweep(f)
    out = CliRunner().invoke(app, ["sweep", str(tmp_path / "none.toml")])
    assert out.exit_code == 2 and "no such sweep file" in out.output


def test_cli_sweep_writes_the_table(tmp_path):
    sweep = small(tmp_path, n_sims=2000)  # noqa: F841 - writes sweep.toml
    out = CliRunner().invoke(app, ["sweep", str(tmp_path / "sweep.toml"), "-o", str(tmp_path / "t.csv")])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "t.csv").read_text().count("\n") == 1 + 4 * 6


def test_time_to_event_cells_equal_evaluate_with_expected_events_and_time(tmp_path):
    """A sweep of the durability example over N and the dropout probability: each cell's power and its
    expected events and analysis time (with MCSEs) are those of evaluate on that variation."""
    f = tmp_path / "sweep.toml"
    f.write_text(
        f'design = "{ROOT / "examples" / "zimislecel_durability.toml"}"\n'
        'n_sims = 6000\n[grid]\n"arms.n" = [40, 60]\n"endpoint.dropout_probability" = [0.05, 0.15]\n'
    )
    sweep = load_sweep(f)
    table = run_sweep(sweep)
    for v, changes in enumerate(sweep.variations):
        res = evaluate(sweep.variant(v), n_sims=sweep.n_sims, type_one_error=False)
        rows = table[
            (table["set arms.n"] == changes["arms.n"])
            & (table["set endpoint.dropout_probability"] == changes["endpoint.dropout_probability"])
        ]
        for r in res.results:
            row = rows[rows["scenario"] == r.scenario.name].iloc[0]
            assert row["p_success"] == r.success.value
            assert row["expected_events"] == r.survival.expected_events
            assert row["expected_events_mcse"] == r.survival.expected_events_mcse
            assert row["expected_time"] == r.survival.expected_time
