"""The layers of planner/: no import circle, and the design layer imports nothing above it.

The import graph is built from the source (every `import` and `from ... import` of a planner module, at the
top of a file or inside a function; `if TYPE_CHECKING:` blocks excluded), so a circle hidden in a lazy import
counts too. An edge goes to the module named, not to the packages above it whose `__init__` Python runs first
(those only import their own catalogue or nothing at their top level).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "planner"

# The design layer: the specification of a design and what it needs to check one. Nothing here may import
# the simulation, the analyses, priors or the front ends.
DESIGN_LAYER = {
    "planner.design",
    "planner.defaults",
    "planner.errors",
    "planner.rules.catalog",
    "planner.multiple_spec",
    "planner.multiplicity",
    "planner.artifacts",
    "planner.mixtures",
    "planner.resources",
    "planner.time_to_event.models",
}


def module_names() -> dict[str, Path]:
    out = {}
    for file in PACKAGE.rglob("*.py"):
        parts = file.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = file
    return out


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def import_graph() -> dict[str, set[str]]:
    """planner module -> the planner modules it imports."""
    modules = module_names()
    graph: dict[str, set[str]] = {}
    for name, file in modules.items():
        tree = ast.parse(file.read_text())
        skip = _type_checking_lines(tree)
        package = name if file.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets: set[str] = set()
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:  # `from planner.x import y` where y is a module imports planner.x.y
                    full = f"{source}.{alias.name}"
                    targets.add(full if full in modules else source)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), i.e. the import circles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_lazy_imports():
    graph = import_graph()
    assert "planner.multiple_spec" in graph["planner.design"]  # imported inside Design.multiple_spec
    assert "planner.artifacts" in graph["planner.design"]  # inside a validator


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_inside_planner():
    assert cycles(import_graph()) == []


def test_the_design_layer_imports_nothing_above_it():
    graph = import_graph()
    above = {name: sorted(graph[name] - DESIGN_LAYER) for name in DESIGN_LAYER if name in graph}
    assert above == {name: [] for name in above}
    assert set(above) == DESIGN_LAYER  # every module of the layer exists


def test_import_planner_and_the_cli_import_no_numerics():
    """`import planner` and `planner --help` import numpy and scipy only when a command needs them (start-up
    timings: benchmarks/bench_startup.py)."""
    import subprocess
    import sys

    code = (
        "import sys, planner, planner.cli; import planner.resources; "
        "print(' '.join(m for m in ('numpy', 'scipy', 'pandas', 'streamlit') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == []
    code = "import planner; print(planner.evaluate.__module__, planner.DesignError.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["planner.engine", "DesignError"]  # the public names still resolve


def test_the_lazy_public_names_are_the_documented_ones():
    import planner

    assert sorted(planner.__all__) == sorted(planner._PUBLIC)


def test_one_normalizer_for_n_sims_and_seed():
    """Design.simulation_settings: the design's values by default; given values checked, the message naming
    the argument and the value; every path that runs simulations goes through it (n_sims = 0 is an error, not
    "use the default")."""
    import pytest

    from planner import DesignError, load_design
    from planner.defaults import DEFAULT_SEED
    from planner.search import power_curve

    d = load_design(PACKAGE.parent / "examples" / "hba1c_randomized.toml")
    assert d.simulation_settings() == (d.simulation.n_sims, d.simulation.seed)
    assert d.simulation_settings(500, 3) == (500, 3)
    for args, message in (
        ((0, None), "n_sims: must be between 100"),
        ((None, -1), "seed: must be between 0"),
        ((2.5, None), "n_sims: must be a whole number, got 2.5"),
    ):
        with pytest.raises(DesignError, match=message):
            d.simulation_settings(*args)
    with pytest.raises(DesignError, match="n_sims"):
        power_curve(d, [40, 60], n_sims=0)
    seeds = [
        line
        for f in PACKAGE.rglob("*.py")
        for line in f.read_text().splitlines()
        if str(DEFAULT_SEED) in line
    ]
    assert len(seeds) == 1  # the one seed literal, in planner/defaults.py


def test_the_report_and_the_cli_do_not_import_the_apps_state_module():
    """Tables come from planner.tables; planner.ui is the app's state logic only (the CLI's `app` command
    warms the app up through it, nothing else)."""
    graph = import_graph()
    assert "planner.ui" not in graph["planner.report"]
    assert "planner.ui" not in graph["planner.tables"]
