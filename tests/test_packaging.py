"""The planner as a user installs it: a wheel built from the tree, installed into a fresh environment, run
from a directory outside the checkout.

The wheel must carry the fitted priors, the evidence, the report template and the examples as package data
(pyproject.toml maps priors/ and examples/ into planner/_shipped/). The fresh environment gets the wheel with
`pip install --no-deps` and takes the already installed dependencies from this test environment through a
.pth line (no download, and `pip check` then verifies the wheel's declared dependencies are satisfied); the
checkout is not on its path, and every command runs in a temporary directory.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_package_list_covers_every_package_folder():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    folders = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "planner").rglob("__init__.py")}
    assert folders <= listed, f"packages missing from pyproject.toml: {sorted(folders - listed)}"
    shipped = {name for name in listed if name.startswith("planner._shipped.")}
    for name in shipped:  # every shipped data folder exists and is mapped from the checkout's folder
        assert (ROOT / config["package-dir"][name]).is_dir()
    assert {"planner._shipped.priors", "planner._shipped.examples"} <= shipped


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # build from a copy of the tree: setuptools writes build/ and *.egg-info beside the sources
    source = tmp_path_factory.mktemp("source") / "planner-src"
    ignore = shutil.ignore_patterns(
        ".venv",
        ".git",
        "test-artifacts",
        "__pycache__",
        "build",
        "dist",
        "*.egg-info",
        ".pytest_cache",
        ".ruff_cache",
        ".mypy_cache",
    )
    shutil.copytree(ROOT, source, ignore=ignore)
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (found,) = out.glob("*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed; returns its bin/ folder."""
    env = tmp_path_factory.mktemp("fresh") / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # dependencies from this environment (appended after the fresh site-packages, .pth files there not run:
    # the checkout's editable install is not visible)
    (Path(site) / "test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=300,
    )
    return env / "bin"


@pytest.mark.slow
def test_the_wheel_carries_the_data_the_code_reads(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "planner/_shipped/priors/fitted/priors.json",
        "planner/_shipped/priors/evidence.toml",
        "planner/report/template.html.j2",
        "planner/_shipped/examples/zimislecel_single_arm.toml",
        "planner/webapp.py",
    ):
        assert needed in names
    shipped_examples = {n.rsplit("/", 1)[1] for n in names if n.startswith("planner/_shipped/examples/")}
    assert shipped_examples >= {p.name for p in (ROOT / "examples").glob("*.toml")}


def _run(bin_dir: Path, cwd: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PLANNER_PRIORS_DIR")}
    return subprocess.run(
        [str(bin_dir / args[0]), *args[1:]], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.slow
def test_the_installed_planner_works_from_any_directory(installed, tmp_path):
    check = _run(installed, tmp_path, "python", "-m", "pip", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    where = _run(
        installed,
        tmp_path,
        "python",
        "-c",
        "import planner, planner.resources as r; from planner.artifacts import load_fitted; "
        "print(planner.__file__); print(r.examples_dir()); print(len(load_fitted()))",
    )
    assert where.returncode == 0, where.stderr
    module, examples, n_fitted = where.stdout.split()
    assert str(installed.parent) in module and str(ROOT) not in module  # the wheel, not the checkout
    assert str(installed.parent) in examples
    assert int(n_fitted) >= 10  # the fitted priors shipped (load_fitted() is not silently empty)
    design = Path(examples) / "zimislecel_single_arm_bayes.toml"  # uses a fitted prior

    evaluated = _run(installed, tmp_path, "planner", "evaluate", str(design), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    result = json.loads(evaluated.stdout)
    from planner import evaluate, load_design  # the checkout's numbers for the same design

    expected = evaluate(load_design(ROOT / "examples" / "zimislecel_single_arm_bayes.toml"))
    shown = {r["scenario"]["name"]: r["p_success"] for r in result["scenarios"]}
    assert shown == pytest.approx({r.scenario.name: r.success.value for r in expected.results}, abs=1e-12)

    report = _run(installed, tmp_path, "planner", "report", str(design), "-o", "briefing", "--no-pdf")
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "briefing" / "report.html").exists()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PLANNER_PRIORS_DIR")}
    server = subprocess.Popen(
        [str(installed / "planner"), "app", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                    assert answer.read() == b"ok"
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.time() < deadline, "the installed app did not start"
                time.sleep(0.2)
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert "Error" not in out and "Traceback" not in out, out
