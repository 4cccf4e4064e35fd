"""Time to fit every prior from scratch (cold PyTensor cache), to load the stored priors, and to import planner.

Usage: .venv/bin/python benchmarks/bench_priors.py
Each measurement runs in a fresh process; the cold fit uses an empty PyTensor compile
directory so compilation is counted, as on a fresh machine. Artifacts go to a temporary
directory (the stored ones are not touched).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time


def run(code: str, env: dict[str, str] | None = None) -> str:
    return (
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **(env or {})},
        )
        .stdout.strip()
        .splitlines()[-1]
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:

        def fit_in_process(output: str) -> tuple[dict, float]:
            """fit_all in a fresh process, sharing one PyTensor compile directory (empty at first)."""
            began = time.perf_counter()
            meta = json.loads(
                run(
                    "import json, warnings; warnings.simplefilter('ignore'); from planner.fitting import fit_all; "
                    f"r = fit_all({output!r}, log=lambda s: None); print(json.dumps(r['metadata']))",
                    env={"PYTENSOR_FLAGS": f"compiledir={tmp}/pytensor"},
                )
            )
            return meta, time.perf_counter() - began

        cold, cold_wall = fit_in_process(tmp + "/fitted")
        warm, warm_wall = fit_in_process(tmp + "/fitted2")
    load = float(
        run(
            "import time, planner; from planner.artifacts import load_fitted; t = time.perf_counter(); "
            "load_fitted(); print(time.perf_counter() - t)"
        )
    )
    imp = run(
        "import sys, time; t = time.perf_counter(); import planner; "
        "print(time.perf_counter() - t, 'pymc' in sys.modules)"
    )
    print("| measurement | seconds |")
    print("|---|---|")
    print(f"| fit all models from scratch, cold compile cache (process wall time) | {cold_wall:.1f} |")
    print(
        f"|   of which fit_all itself | {cold['fit_seconds']:.1f} (per model: "
        + ", ".join(f"{k} {v:.1f}" for k, v in cold["model_seconds"].items())
        + ") |"
    )
    print(
        f"| refit with a warm compile cache (process wall time) | {warm_wall:.1f} (fit_all {warm['fit_seconds']:.1f}) |"
    )
    print(f"| load the stored priors (after import) | {load:.4f} |")
    seconds, pymc_loaded = imp.split()
    print(f"| import planner | {float(seconds):.2f} (PyMC imported: {pymc_loaded}) |")


if __name__ == "__main__":
    main()
