"""The command line: tables, JSON equal to the API, and exit code 2 with one line per problem on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from planner import evaluate, load_design
from planner.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def test_table_lists_every_scenario(examples_dir):
    f = examples_dir / "zimislecel_single_arm.toml"
    out = run("evaluate", str(f))
    assert out.exit_code == 0, out.output
    for s in load_design(f).scenarios:
        assert s.name in out.output
    assert "type I error" in out.output and "exact" in out.output


def test_json_equals_api(examples_dir):
    f = examples_dir / "hba1c_randomized.toml"
    out = run("evaluate", str(f), "--json", "--sims", "20000", "--seed", "5")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    api = evaluate(load_design(f), n_sims=20000, seed=5)
    assert data["seed"] == 5 and data["n_sims"] == 20000
    for got, want in zip(data["scenarios"], api.results, strict=True):
        assert got["p_success"] == want.success.value
        assert got["mcse"] == want.success.mcse
        assert got["expected_n"] == want.expected_n
        assert got["exact"] is False


def test_json_marks_exact_results(examples_dir):
    out = run("evaluate", str(examples_dir / "zimislecel_single_arm.toml"), "--json")
    data = json.loads(out.stdout)
    assert all(s["exact"] and s["mcse"] == 0.0 for s in data["scenarios"])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("name = 'x'\n[arms\n", "not valid TOML"),
        (
            "name = 'x'\n[arms]\nkind = 'single-arm'\nn = -3\n[endpoint]\nkind = 'binary'\n"
            "[analysis]\nrule = 'exact-binomial'\nperformance_goal = 0.5\n[[scenarios]]\nname = 'a'\ntreatment = 0.5\n",
            "arms.n",
        ),
        (
            "name = 'x'\n[arms]\nkind = 'single-arm'\nn = 30\n[endpoint]\nkind = 'binary'\n"
            "[analysis]\nrule = 'exact-binomial'\nperformance_goal = 0.5\n[[scenarios]]\nname = 'a'\ntreatment = 1.3\n",
            "scenarios[0].treatment",
        ),
        (
            "name = 'x'\n[arms]\nkind = 'single-arm'\nn = 'thirty'\n[endpoint]\nkind = 'weird'\n"
            "[analysis]\nrule = 'exact-binomial'\n[[scenarios]]\nname = 'a'\ntreatment = 0.5\n",
            "endpoint.kind",
        ),
    ],
)
def test_bad_design_file_exits_2_with_message(tmp_path, content, expected):
    f = tmp_path / "design.toml"
    f.write_text(content)
    out = run("evaluate", str(f))
    assert out.exit_code == 2
    assert expected in out.output
    assert "Traceback" not in out.output


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--sims", "0", "--sims"),
        ("--sims", "99999999999", "--sims"),
        ("--seed", "-4", "--seed"),
        ("--method", "magic", "--method"),
    ],
)
def test_bad_options_exit_2(examples_dir, option, value, expected):
    out = run("evaluate", str(examples_dir / "zimislecel_single_arm.toml"), option, value)
    assert out.exit_code == 2
    assert expected in out.output and value in out.output.replace(",", "")


def test_missing_file_exits_2():
    out = run("evaluate", "no/such/design.toml")
    assert out.exit_code == 2 and "no such design file" in out.output


def test_installed_command_has_no_traceback(tmp_path):
    f = tmp_path / "d.toml"
    f.write_text("name = 1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "planner.cli", "evaluate", str(f)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "name" in proc.stderr
