"""The command line: ``planner evaluate DESIGN.toml``.

Thin by design: it reads options, calls the public API and prints what comes back.
Bad input exits with code 2 and a one-line message per problem, never a traceback.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from planner.defaults import DEFAULT_SEED
from planner.errors import DesignError

if TYPE_CHECKING:
    from planner.results import Evaluation

# The planner's modules are imported inside the commands that use them, so that `planner --help` and
# `planner --version` answer without importing numpy, scipy or pydantic models.

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Phase 3 trial planner: operating characteristics of a design file.",
    rich_markup_mode=None,  # help texts are plain: "[multiple]" is a TOML section, not markup
)
# A wide console when output is piped, so the table is not squeezed to 80 columns.
_out = Console() if sys.stdout.isatty() else Console(width=160)
_err = Console(stderr=True)

# Runs with at least this many simulated trials in all show a progress bar.
PROGRESS_THRESHOLD = 2_000_000
SCHEDULER_TIMEOUT = 5  # seconds to wait for a Dask scheduler given by --scheduler


# evaluate()'s argument names, as the user typed them on the command line
_OPTION_NAMES = {"n_sims:": "--sims:", "seed:": "--seed:", "method:": "--method:"}


def _fail(err: DesignError, options: dict[str, str] | None = _OPTION_NAMES) -> None:
    """Print one line per problem and exit with code 2. ``options`` maps API argument names to the command's
    options (None where the names are a file's fields, e.g. a sweep file's ``n_sims``)."""
    for line in err.problems:
        first, _, rest = line.partition(" ")
        line = (options or {}).get(first, first) + (" " + rest if rest else "")
        _err.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True, markup=True)
    raise typer.Exit(code=2)


def _require(extra: str, *modules: str) -> None:
    """Exit with a one-line message when an optional dependency of a command is not installed."""
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        _fail(
            DesignError(
                f"{extra}: this command needs {', '.join(missing)}, not installed; install the planner "
                f"with its extra: pip install 'zimislecel-planner[{extra}]'"
            ),
            None,
        )


def _check_output_dir(path: Path) -> None:
    """A folder for a command's output: created if missing; a clear error if it cannot be."""
    if path.exists() and not path.is_dir():
        raise DesignError(f"--output: {path} is a file, not a folder; give a folder for the report")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DesignError(f"--output: cannot create the folder {path} ({err.strerror})") from None
    if not os.access(path, os.W_OK):
        raise DesignError(f"--output: the folder {path} is not writable")


def _truth(values: tuple[float, ...]) -> str:
    return " vs ".join(f"{v:.4g}" for v in values)


def render_table(result: Evaluation) -> Table:
    """The operating characteristics as a rich table (one row per scenario)."""
    d = result.design
    table = Table(title=f"{d.name} -- {d.analysis_name}, {_level(result)}, N = {d.arms.n}")
    for col, justify in (
        ("scenario", "left"),
        ("truth", "right"),
        ("estimand", "right"),
        ("measure", "left"),
        ("P(success)", "right"),
        ("MCSE", "right"),
        ("E[N]", "right"),
        ("method", "left"),
    ):
        table.add_column(col, justify=justify)
    from planner.tables import result_rows

    rows = result_rows(result)
    survival = any("expected events" in row for row in rows)
    if survival:
        unit = result.design.endpoint.time_unit
        table.add_column("E\\[events] (MCSE)", justify="right")  # "\\[": a bracket, not rich markup
        table.add_column(f"E\\[analysis time], {unit} (MCSE)", justify="right")
    for row in rows:
        prior = row["treatment"] is None
        truth = (row["treatment"],) + ((row["control"],) if row["control"] is not None else ())
        table.add_row(
            row["scenario"],
            "prior" if prior else _truth(truth),
            _truth(row["estimand"]),
            row["measure"],
            f"{row['P(success)']:.4f}",
            "0 (exact)" if row["exact"] else f"{row['MCSE']:.4f}",
            "" if row["expected N"] is None else f"{row['expected N']:.1f}",
            "exact" if row["exact"] else row["method"].replace(" simulations", " sims"),
            *(_survival_cells(row) if survival else ()),
            style="bold" if prior else None,
        )
    return table


def _survival_cells(row: dict) -> tuple[str, str]:
    """Expected events and analysis time with their MCSEs (empty for a row without them)."""
    if "expected events" not in row:
        return "", ""
    return (
        f"{row['expected events']:.1f} ({row['expected events MCSE']:.2f})",
        f"{row['expected analysis time']:.2f} ({row['expected analysis time MCSE']:.3f})",
    )


def _level(result: Evaluation) -> str:
    """The title's statement of the type I error: the computed maximum for Bayesian designs, alpha otherwise."""
    d, check = result.design, result.type_one_error
    if check is None:
        return f"one-sided alpha {d.analysis.alpha:g}"
    value = f"{check.value:.4f}" + ("" if check.exact else f" (MCSE {check.mcse:.4f})")
    if d.rule_info.bayesian:
        return f"type I error {value} (max over the null; target alpha {d.analysis.alpha:g})"
    return f"one-sided alpha {d.analysis.alpha:g} (max type I error {value})"


def type_one_error_lines(result: Evaluation) -> list[str]:
    """The warning every text output prints when the maximum type I error exceeds alpha."""
    check = result.type_one_error
    return [] if check is None or not check.exceeds else [check.message]


def render_stages(result: Evaluation) -> Table | None:
    """Stopping probabilities per look for a group sequential design."""
    from planner.tables import stage_rows

    rows = stage_rows(result)
    if rows is None:
        return None
    first = result.results[0].stages
    worst = max(row["max MCSE"] for row in rows)
    how = "exact" if all(row["exact"] for row in rows) else f"MCSE <= {worst:.4f}"
    table = Table(title=f"Interim looks: probability of stopping at each look ({how})")
    table.add_column("scenario")
    labels = first.boundaries["labels"]
    for label in labels:
        table.add_column(label, justify="right")
    for col in ("early success", "futility stop", "reject if futility ignored"):
        table.add_column(col, justify="right")
    for row in rows:
        cells = [
            f"{row[f'{label}: efficacy']:.4f} / {row[f'{label}: futility/fail']:.4f}" for label in labels
        ]
        table.add_row(
            row["scenario"],
            *cells,
            *(f"{row[c]:.4f}" for c in ("early success", "futility stop", "reject if futility ignored")),
        )
    table.caption = "cells: P(stop for efficacy) / P(stop for futility; at the last look: fail)"
    inflation = first.boundaries.get("beta_spending_inflation_factor")
    if inflation is not None:
        table.caption += (
            f"; beta-spending futility: maximum N = {inflation:.4f} x the fixed design's N for the "
            "same alpha and power"
        )
    return table


def render_multiple(result: Evaluation) -> Table | None:
    """Power per hypothesis after the multiple testing procedure, per scenario."""
    from planner.tables import multiple_rows

    rows = multiple_rows(result)
    if rows is None:
        return None
    m = result.design.multiple
    table = Table(title=f"Several endpoints: P(rejected) after {m.procedure} (unadjusted in brackets)")
    table.add_column("scenario")
    for h in m.hypotheses:
        table.add_column(h, justify="right")
    table.add_column("all rejected", justify="right")
    table.add_column("MCSE <=", justify="right")
    for row in rows:
        cells = [f"{row[f'{h}: adjusted']:.4f} ({row[f'{h}: alone']:.4f})" for h in m.hypotheses]
        table.add_row(row["scenario"], *cells, f"{row['all rejected']:.4f}", f"{row['max MCSE']:.4f}")
    return table


def _fwer(design, n_sims: int, seed: int) -> tuple:
    """(base scenario, configurations, least favourable) of planner.multiple.familywise_error."""
    from planner.multiple import familywise_error, fwer_scenario, least_favourable

    base = fwer_scenario(design)
    configs = familywise_error(design.multiple_spec(), dict(base.endpoints), n_sims=n_sims, seed=seed)
    return base, configs, least_favourable(configs, design.analysis.alpha)


def render_fwer(design, n_sims: int, seed: int) -> Table:
    """Family-wise error under every null configuration, from the scenario planner.multiple.fwer_scenario picks,
    with the least favourable configuration named."""
    base, configs, worst = _fwer(design, n_sims, seed)
    table = Table(
        title=f"Family-wise error (alpha {design.analysis.alpha:g}) under each null configuration "
        f"(from scenario {base.name!r})"
    )
    for col in ("endpoints with no effect", "true null hypotheses", "FWER", "MCSE"):
        table.add_column(col)
    for c in configs:
        table.add_row(
            ", ".join(c["null_endpoints"]),
            ", ".join(c["true_null_hypotheses"]),
            f"{c['fwer'].value:.4f}",
            f"{c['fwer'].mcse:.4f}",
        )
    table.caption = worst["finding"]
    return table


def render_priors(result: Evaluation) -> list[str]:
    """One line per prior of the design: mean, sd, effective sample sizes."""
    from planner.priors import ess_text

    lines = []
    for role, info in result.priors.items():
        text = f"{role}: {info['family']}, mean {info['mean']:.4g}, sd {info['sd']:.3g}"
        if "ess" in info:
            text += ", " + ess_text(info["ess"], info.get("ess_unit"))
        lines.append(text)
    return lines


def _version(value: bool) -> None:
    if value:
        from importlib import metadata

        try:
            version = metadata.version("zimislecel-planner")
        except metadata.PackageNotFoundError:  # pragma: no cover - running from a plain checkout
            version = "unknown (not installed)"
        _out.print(f"planner {version}", highlight=False)
        raise typer.Exit()


@app.callback()
def _commands(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the planner's version and exit."
        ),
    ] = False,
) -> None:
    """Phase 3 trial planner: operating characteristics of a design file."""


@app.command("evaluate")
def evaluate_command(
    design_file: Annotated[Path, typer.Argument(help="A design TOML file (see examples/).")],
    sims: Annotated[int | None, typer.Option("--sims", help="Simulated trials per scenario.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    method: Annotated[str, typer.Option(help="auto | exact | simulate.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    fwer: Annotated[
        bool,
        typer.Option(
            "--fwer", help="Also the family-wise error under every null configuration ([multiple] designs)."
        ),
    ] = False,
    mcse: Annotated[
        float | None,
        typer.Option(
            "--mcse",
            help="Simulate until every probability's Monte Carlo SE is at most this (--sims is then the cap).",
        ),
    ] = None,
) -> None:
    """Operating characteristics per scenario: P(success) with its Monte Carlo SE, expected N.

    Example: planner evaluate examples/zimislecel_single_arm.toml --sims 200000 --seed 7
    Example: planner evaluate examples/hba1c_randomized.toml --mcse 0.002
    """
    from planner.design import load_design
    from planner.engine import evaluate, evaluate_to_precision
    from planner.exact import exact_available

    try:
        design = load_design(design_file)
        target = mcse if mcse is not None else design.simulation.target_mcse
        if target is not None:
            result = evaluate_to_precision(design, target, max_sims=sims, seed=seed, method=method)  # type: ignore[arg-type]
            _print_evaluation(result, design, as_json, fwer)
            return
        n_sims = design.simulation.n_sims if sims is None else sims
        will_simulate = method == "simulate" or (method == "auto" and not exact_available(design))
        total = n_sims * len(design.scenarios) if isinstance(n_sims, int) else 0
        if will_simulate and not quiet and total >= PROGRESS_THRESHOLD:
            with Progress(
                TextColumn("simulating"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeRemainingColumn(),
                console=_err,
                transient=True,
            ) as bar:
                task = bar.add_task("sims", total=total)
                result = evaluate(
                    design, n_sims=sims, seed=seed, method=method, progress=lambda k: bar.advance(task, k)
                )
        else:
            result = evaluate(design, n_sims=sims, seed=seed, method=method)
    except DesignError as err:
        _fail(err, {**_OPTION_NAMES, "target_mcse:": "--mcse:", "max_sims:": "--sims:"})
    _print_evaluation(result, design, as_json, fwer)


def _print_evaluation(result: Evaluation, design: Any, as_json: bool, fwer: bool) -> None:
    """The evaluate command's output: JSON, or the tables, warnings and the precision reached."""
    if as_json:
        for line in type_one_error_lines(result):  # the JSON carries it; stderr says it to the person too
            _err.print(f"[bold red]warning:[/] {line}", highlight=False, soft_wrap=True)
        if fwer and design.multiple is not None and any(s.endpoints for s in design.scenarios):
            base, configs, worst = _fwer(design, result.n_sims, result.seed)
            payload = json.loads(result.to_json())
            payload["familywise_error"] = {
                "from_scenario": base.name,
                "configurations": [
                    {**{k: v for k, v in c.items() if k != "fwer"}, "fwer": c["fwer"].to_dict()}
                    for c in configs
                ],
                "least_favourable": worst["configuration"]["null_endpoints"],
                "exceeds_alpha": worst["exceeds"],
                "finding": worst["finding"],
            }
            if worst["exceeds"]:
                _err.print(f"[bold red]warning:[/] {worst['finding']}", highlight=False, soft_wrap=True)
            sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        else:
            sys.stdout.write(result.to_json() + "\n")
    else:
        _out.print(render_table(result))
        for line in type_one_error_lines(result):
            _out.print(f"[bold red]WARNING[/] {line}", highlight=False, soft_wrap=True)
        for extra in (render_stages(result), render_multiple(result)):
            if extra is not None:
                _out.print(extra)
        if fwer and design.multiple is not None and any(s.endpoints for s in design.scenarios):
            _out.print(render_fwer(design, result.n_sims, result.seed))
        for line in render_priors(result):
            _out.print(line, highlight=False)
        if result.precision is not None:
            pr = result.precision
            _out.print(
                f"simulated until every Monte Carlo SE <= {pr['target_mcse']:g}: {pr['n_sims']:,} trials per "
                f"scenario, largest MCSE {pr['largest_mcse']:.4f}"
                + (
                    ""
                    if pr["met"]
                    else f" -- [bold red]NOT MET[/]: the cap of {pr['cap']:,} trials was reached"
                ),
                highlight=False,
            )
        _out.print(
            f"seed {result.seed}; design hash {result.design_hash[:12]}; {result.elapsed_seconds:.2f} s",
            style="dim",
        )


@app.command("size")
def size_command(
    design_file: Annotated[Path, typer.Argument(help="A design TOML file.")],
    target_power: Annotated[float | None, typer.Option(help="Target power under the scenario.")] = None,
    target_assurance: Annotated[
        float | None, typer.Option(help="Target assurance (needs a design prior).")
    ] = None,
    scenario: Annotated[
        str | None, typer.Option(help="Scenario for power (default: the first alternative).")
    ] = None,
    n_min: Annotated[int | None, typer.Option(help="Smallest total N to consider.")] = None,
    n_max: Annotated[int | None, typer.Option(help="Largest total N to consider.")] = None,
    sims: Annotated[
        int | None, typer.Option("--sims", help="Simulated trials per N (simulated designs).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    target_precision: Annotated[
        float | None,
        typer.Option(
            help="Single-arm binary: target probability that the interval's lower limit exceeds --threshold."
        ),
    ] = None,
    target_width: Annotated[
        float | None, typer.Option(help="Single-arm binary: target expected width of the interval (at most).")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="--target-precision: the rate the lower limit must exceed.")
    ] = None,
    interval: Annotated[str, typer.Option(help="clopper-pearson (exact) or wilson.")] = "clopper-pearson",
    level: Annotated[float, typer.Option(help="Two-sided confidence level of the interval.")] = 0.95,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """The smallest total N reaching a target power or assurance, with the curve over N; or, for a single-arm
    binary design, a target precision: the probability that the 95% interval's lower limit exceeds a threshold
    (--target-precision with --threshold) or the expected width (--target-width), exact.

    Example: planner size examples/zimislecel_single_arm.toml --target-power 0.9 --scenario "Phase 1/2 estimate"
    Example: planner size examples/zimislecel_single_arm.toml --target-precision 0.8 --threshold 0.6
    """
    from planner.design import load_design
    from planner.search import smallest_n

    targets = [t for t in (target_power, target_assurance, target_precision, target_width) if t is not None]
    if target_precision is not None or target_width is not None:
        _size_for_precision(
            design_file,
            targets,
            target_precision,
            target_width,
            threshold,
            interval,
            level,
            scenario,
            n_min,
            n_max,
            as_json,
        )
        return
    try:
        if (target_power is None) == (target_assurance is None):
            raise DesignError(
                "--target-power / --target-assurance: give exactly one of them (or --target-precision / "
                "--target-width)"
            )
        design = load_design(design_file)
        design.simulation_settings(sims, seed)  # messages name --sims / --seed (_fail)
        metric = "power" if target_power is not None else "assurance"
        result = smallest_n(
            design,
            target_power if target_power is not None else target_assurance,
            metric=metric,
            scenario=scenario,
            n_min=n_min,
            n_max=n_max,
            n_sims=sims,
            seed=seed,
        )
    except DesignError as err:
        _fail(err)
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
        return
    if result.n is None:
        _out.print(
            f"target {metric} {result.target} not reached up to N = {result.curve[-1].n if result.curve else n_max}"
        )
        raise typer.Exit(code=1)
    how = "exact" if result.mcse == 0 else f"MCSE {result.mcse:.4f}"
    _out.print(
        f"smallest N with {metric} >= {result.target}: [bold]{result.n}[/] ({metric} {result.value:.4f}, {how})"
    )
    if result.n_stable is not None and result.n_stable != result.n:
        _out.print(f"power is a saw-tooth in N: it stays >= {result.target} for every N >= {result.n_stable}")
    table = Table(title=f"{metric} over N" + (f" ({result.scenario})" if result.scenario else ""))
    for col in ("N", metric, "MCSE"):
        table.add_column(col, justify="right")
    shown = [p for p in result.curve if abs(p.n - result.n) <= 6] if result.mcse == 0 else list(result.curve)
    for p in shown:
        table.add_row(str(p.n), f"{p.value:.4f}", "exact" if p.exact else f"{p.mcse:.4f}")
    _out.print(table)


def _size_for_precision(
    design_file: Path,
    targets: list[float],
    target_precision: float | None,
    target_width: float | None,
    threshold: float | None,
    interval: str,
    level: float,
    scenario: str | None,
    n_min: int | None,
    n_max: int | None,
    as_json: bool,
) -> None:
    """planner size --target-precision / --target-width (planner.precision)."""
    from planner.design import load_design
    from planner.precision import scenario_rate, smallest_n_for_precision

    try:
        if len(targets) != 1:
            raise DesignError(
                "--target-precision / --target-width: give one target (not with --target-power or "
                "--target-assurance)"
            )
        if target_precision is not None and threshold is None:
            raise DesignError("--threshold: required with --target-precision (e.g. 0.5)")
        design = load_design(design_file)
        rate = scenario_rate(design, scenario)
        quantity = "p_lower_above" if target_precision is not None else "expected_width"
        search = smallest_n_for_precision(
            rate,
            threshold or 0.0,
            targets[0],
            quantity=quantity,  # type: ignore[arg-type]
            level=level,
            interval=interval,  # type: ignore[arg-type]
            dropout=design.dropout,
            n_min=n_min or 1,
            n_max=n_max or 500,
        )
    except DesignError as err:
        _fail(
            err,
            {
                "threshold:": "--threshold:",
                "level:": "--level:",
                "interval:": "--interval:",
                "target:": "--target-precision:" if target_precision is not None else "--target-width:",
                "n_max:": "--n-max:",
                "n_min:": "--n-min:",
                "scenario:": "--scenario:",
            },
        )
    if as_json:
        sys.stdout.write(json.dumps({"rate": rate, **search.to_dict()}, indent=2) + "\n")
        return
    what = (
        f"P({level:.0%} {interval} lower limit > {threshold:g})"
        if quantity == "p_lower_above"
        else f"expected width of the {level:.0%} {interval} interval"
    )
    relation = ">=" if quantity == "p_lower_above" else "<="
    if search.smallest_n is None:
        _out.print(
            f"{what} {relation} {search.target:g} not reached up to N = {search.points[-1].n} (rate {rate:g})"
        )
        raise typer.Exit(code=1)
    chosen = search.points[search.smallest_n - search.points[0].n]
    value = chosen.p_lower_above if quantity == "p_lower_above" else chosen.expected_width
    _out.print(
        f"smallest N with {what} {relation} {search.target:g} at a response rate of {rate:g}: "
        f"[bold]{search.smallest_n}[/] ({value:.4f}, exact)",
        highlight=False,
    )
    if search.stable_n is not None and search.stable_n != search.smallest_n:
        _out.print(
            f"a saw-tooth in N: every N from {search.stable_n} to {search.points[-1].n} reaches it",
            highlight=False,
        )
    table = Table(
        title=f"precision over N (rate {rate:g}, dropout {design.dropout.rate:g} {design.dropout.strategy})"
    )
    for col in ("N", "P(lower > threshold)", "expected width", "expected lower limit"):
        table.add_column(col, justify="right")
    for p in search.points:
        if abs(p.n - search.smallest_n) <= 6:
            table.add_row(
                str(p.n), f"{p.p_lower_above:.4f}", f"{p.expected_width:.4f}", f"{p.expected_lower:.4f}"
            )
    _out.print(table)


@app.command("calibrate")
def calibrate_command(
    design_file: Annotated[Path, typer.Argument(help="A design TOML file with a Bayesian rule.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the calibrated design here.")
    ] = None,
    alpha: Annotated[
        float | None, typer.Option(help="Target one-sided alpha (default: the design's).")
    ] = None,
    target_power: Annotated[
        float | None,
        typer.Option(help="Also search N: the smallest N whose calibrated design reaches this power."),
    ] = None,
    scenario: Annotated[str | None, typer.Option(help="Scenario for --target-power.")] = None,
    sims: Annotated[
        int | None, typer.Option("--sims", help="Simulated trials per step (simulated designs).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Calibrate a Bayesian threshold so that the maximum type I error over the null is at most alpha.

    The null is the design's own, on the estimand scale (dropout included), exact for binary designs.
    Example: planner calibrate examples/zimislecel_single_arm_bayes.toml -o calibrated.toml
    """
    from planner.design import design_to_toml, load_design
    from planner.search import calibrated_design, size_and_calibrate

    try:
        design = load_design(design_file)
        design.simulation_settings(sims, seed)  # messages name --sims / --seed (_fail)
        if output is not None:
            _check_output_file(output)
        if target_power is not None:
            found = size_and_calibrate(design, target_power, scenario=scenario, n_sims=sims, seed=seed)
            if found["found"] is None:
                raise DesignError(
                    f"--target-power: {target_power} not reached by any calibrated design searched"
                )
            design = design.with_n(found["found"]["n"])
        calibrated, out = calibrated_design(design, alpha=alpha, n_sims=sims, seed=seed)
    except DesignError as err:
        _fail(err)
    if output is not None:
        output.write_text(design_to_toml(calibrated), encoding="utf-8")
    if as_json:
        sys.stdout.write(
            json.dumps({"n": calibrated.arms.n, **out, "output": str(output) if output else None}, indent=2)
            + "\n"
        )
        return
    how = "exact" if out["exact"] else f"MCSE {out['mcse']:.4f}"
    _out.print(
        f"threshold {out['threshold']:.6f} (N = {calibrated.arms.n}): maximum type I error "
        f"{out['max_type_one_error']:.4f} ({how}) <= alpha {out['alpha']:g}, at treatment {out['at']['treatment']:.4g}",
        highlight=False,
    )
    if output is not None:
        _out.print(f"calibrated design written to {output}", highlight=False)


@app.command("zones")
def zones_command(
    design_file: Annotated[Path, typer.Argument(help="A design TOML file with a [decision] section.")],
    sims: Annotated[int | None, typer.Option("--sims", help="Simulated trials per scenario.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Go / Consider / No-Go: the probability of each decision per scenario and under the design prior.

    Example: planner zones examples/zimislecel_single_arm.toml
    """
    from planner.decisions import decision_zones
    from planner.design import load_design
    from planner.tables import decision_text, zone_rows

    try:
        design = load_design(design_file)
        rows = decision_zones(design, n_sims=sims, seed=seed)
    except DesignError as err:
        _fail(err)
    if as_json:
        sys.stdout.write(json.dumps([r.to_dict() for r in rows], indent=2) + "\n")
        return
    exact = all(r.go.exact for r in rows)
    table = Table(title=f"{design.name}: decision zones ({'exact' if exact else 'simulated'})")
    for col in ("scenario", "P(Go)", "P(Consider)", "P(No-Go)", "MCSE"):
        table.add_column(col, justify="left" if col == "scenario" else "right")
    for row in zone_rows(rows):
        table.add_row(
            row["scenario"],
            *(f"{row[c]:.4f}" for c in ("P(Go)", "P(Consider)", "P(No-Go)")),
            "0 (exact)" if exact else f"{row['MCSE']:.4f}",
        )
    _out.print(table)
    for line in decision_text(design):
        _out.print(line, highlight=False)


@app.command("ssr")
def ssr_command(
    design_file: Annotated[
        Path | None,
        typer.Argument(help="A design with a [reestimation] section (instead of the options below)."),
    ] = None,
    n1: Annotated[
        int | None, typer.Option("--n1", help="Stage-1 participants per arm (the interim look).")
    ] = None,
    n2: Annotated[int | None, typer.Option("--n2", help="Planned stage-2 participants per arm.")] = None,
    n2_max: Annotated[
        int | None, typer.Option("--n2-max", help="Cap on stage-2 participants per arm.")
    ] = None,
    sd: Annotated[
        float | None, typer.Option("--sd", help="Standard deviation of the endpoint (known).")
    ] = None,
    delta: Annotated[
        list[float] | None,
        typer.Option("--delta", help="True effect(s) mu_t - mu_c; repeat the option for several."),
    ] = None,
    rule: Annotated[str, typer.Option(help="promising-zone or conditional-power.")] = "promising-zone",
    target_power: Annotated[float, typer.Option(help="Conditional power the increase aims at.")] = 0.8,
    cp_min: Annotated[
        float, typer.Option(help="promising-zone: lowest conditional power that is promising.")
    ] = 0.365,
    alpha: Annotated[float, typer.Option(help="One-sided significance level.")] = 0.025,
    efficacy_spending: Annotated[
        str, typer.Option(help="Stop for efficacy at the interim: none, obrien-fleming or pocock.")
    ] = "none",
    futility_z: Annotated[
        float | None, typer.Option(help="Stop for futility at the interim below this z1 (non-binding).")
    ] = None,
    test: Annotated[str, typer.Option(help="Stage-wise tests: z (sd known) or t (simulated).")] = "z",
    rule_sd: Annotated[
        str, typer.Option(help="The sd of the rule: planned, or interim (its estimate; needs --test t).")
    ] = "planned",
    sims: Annotated[
        int | None, typer.Option("--sims", help="Also simulate this many trials per effect (a check).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of --sims.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Sample-size re-estimation at one interim look with the weighted inverse-normal combination test
    (Cui, Hung and Wang 1999): power, E[N], P(increase) and the distribution of N by integration over the
    interim z (exact up to quadrature), with the naive test's type I error beside it.

    Example: planner ssr --n1 104 --n2 117 --n2-max 338 --sd 7.5 --delta 0 --delta 1.6 --delta 2
    (or: planner ssr design.toml, the design's [reestimation] section and its scenarios' effects)
    """
    from planner.adaptive import (
        Reestimation,
        naive_finding,
        naive_type_one_error,
        operating_characteristics,
        plan_of,
        simulate,
    )
    from planner.defaults import MAX_SIMS, MIN_SIMS
    from planner.design import load_design, whole_number

    names = {
        f"{k}:": f"--{k.replace('_', '-')}:"
        for k in (
            "n1",
            "n2",
            "n2_max",
            "sd",
            "rule",
            "target_power",
            "cp_min",
            "alpha",
            "delta",
            "efficacy_spending",
            "futility_z",
            "test",
            "rule_sd",
        )
    }
    try:
        if design_file is not None:
            planned = load_design(design_file)
            design = plan_of(planned)
            sign = -1.0 if planned.endpoint.better == "lower" else 1.0
            delta = [sign * (sc.treatment - (sc.control or 0.0)) for sc in planned.scenarios]
            n1, n2, n2_max, sd = design.n1, design.n2, design.n2_max, design.sd
        else:
            missing = [
                f"--{k}" for k, v in (("n1", n1), ("n2", n2), ("n2-max", n2_max), ("sd", sd)) if v is None
            ]
            if missing or not delta:
                raise DesignError(
                    f"{(missing or ['--delta'])[0]}: required without a design file (or give a design with a "
                    "[reestimation] section)"
                )
            design = Reestimation(
                n1,
                n2,
                n2_max,
                sd,
                rule,
                target_power,
                cp_min,
                alpha,
                efficacy_spending,  # type: ignore[arg-type]
                futility_z,
                test,  # type: ignore[arg-type]
                rule_sd,  # type: ignore[arg-type]
            )
        bad = [d for d in delta if not math.isfinite(d)]
        if bad:
            raise DesignError(f"delta: a finite effect, got {bad[0]}")
        n_sims = None if sims is None else whole_number("n_sims", sims, MIN_SIMS, MAX_SIMS)
    except DesignError as err:
        _fail(err, {**names, **_OPTION_NAMES})
    if design.test == "t":  # stage-wise t tests: simulated only (the option --sims sets how many)
        n_sims = n_sims or 200_000
        results = [simulate(design, d, n_sims, seed) for d in delta]
        checks: list = []
        level, level_mcse = simulate(design, 0.0, n_sims, seed).power, None
    else:
        results = [operating_characteristics(design, d) for d in delta]
        checks = [simulate(design, d, n_sims, seed) for d in delta] if n_sims else []
        level, level_mcse = operating_characteristics(design, 0.0).power, 0.0
    finding = naive_finding(design)
    if as_json:
        payload = {
            "design": dataclasses.asdict(design),
            "results": [r.to_dict() for r in results],
            "simulated": [r.to_dict() for r in checks],
            "combination_test_type_one_error": level,
            "naive_test_type_one_error": naive_type_one_error(design) if design.test == "z" else None,
            "naive_finding": finding,
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    assert sd is not None
    tests = "z tests, sd known" if design.test == "z" else "t tests, simulated"
    table = Table(title=f"{design.rule}: n1 {n1}, n2 {n2} (cap {n2_max}) per arm, sd {sd:g} ({tests})")
    for col in (
        "delta",
        "power",
        "E[N]",
        "P(increase)",
        "N: probability",
        "simulated power (MCSE)",
        "simulated E[N] (MCSE)",
    ):
        table.add_column(col, justify="right")
    for i, r in enumerate(results):
        shown = ", ".join(f"{n}: {p:.3f}" for n, p in r.n_distribution.items() if p >= 0.0005)
        sim = checks[i] if checks else None
        table.add_row(
            f"{r.delta:g}",
            f"{r.power:.4f}" + ("" if r.exact else f" ({r.power_mcse:.4f})"),
            f"{r.expected_n:.1f}",
            f"{r.p_increase:.3f}",
            shown
            if len(r.n_distribution) <= 6
            else f"{len(r.n_distribution)} values, {min(r.n_distribution)}-{max(r.n_distribution)}",
            f"{sim.power:.4f} ({sim.power_mcse:.4f})" if sim else "-",
            f"{sim.expected_n:.1f} ({sim.expected_n_mcse:.1f})" if sim else "-",
        )
    _out.print(table)
    how = (
        f"exact: alpha {design.alpha:g}"
        if level_mcse == 0.0
        else f"simulated, MCSE {math.sqrt(level * (1 - level) / n_sims):.4f}"
    )
    _out.print(f"type I error: combination test {level:.4f} ({how})", highlight=False)
    _out.print(f"[bold red]{finding}[/]" if "ABOVE ALPHA" in finding else finding, highlight=False)


@app.command("drift")
def drift_command(
    design_file: Annotated[
        Path,
        typer.Argument(
            help="A randomized binary design with analysis.control_prior (posterior-probability)."
        ),
    ],
    effect: Annotated[
        float | None,
        typer.Option(
            help="Treatment minus control rate for the power column (default: the first scenario outside the "
            "null)."
        ),
    ] = None,
    controls: Annotated[
        str | None, typer.Option(help="True control rates, comma-separated (default 0.05, 0.10, ..., 0.95).")
    ] = None,
    conflict_level: Annotated[
        float, typer.Option(help="Box's p-value at or below which data conflict.")
    ] = 0.05,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Borrowing for the control arm against drift: exact type I error and power at each true control rate,
    the probability of prior-data conflict (Box's p-value) and the information borrowed (posterior ESS minus
    the controls analysed).

    Example: planner drift design.toml --effect 0.2 --controls 0.1,0.2,0.3,0.4
    """
    from planner.borrowing import drift_defaults, drift_finding, drift_table
    from planner.design import load_design

    try:
        design = load_design(design_file)
        default_grid, default_effect = drift_defaults(design)
        grid = list(default_grid)
        effect = default_effect if effect is None else effect
        if controls is not None:
            try:
                grid = [float(v) for v in controls.split(",")]
            except ValueError:
                raise DesignError(f"controls: comma-separated rates, got {controls!r}") from None
        table_rows = drift_table(design, grid, effect, conflict_level)
    except DesignError as err:
        _fail(
            err, {"controls:": "--controls:", "effect:": "--effect:", "conflict_level:": "--conflict-level:"}
        )
    alpha = design.analysis.alpha
    above = [r for r in table_rows if r.type_one_error > alpha * (1 + 1e-9)]
    if as_json:
        payload = {"alpha": alpha, "effect": effect, "points": [r.to_dict() for r in table_rows]}
        payload["type_one_error_above_alpha_at"] = [r.control for r in above]
        payload["finding"] = drift_finding(design, table_rows)
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    table = Table(title=f"{design.name}: drift of the true control rate (exact)")
    power_title = "power" if effect is None else f"power (+{effect:g})"
    for col in ("control rate", "type I error", power_title, "P(conflict)", "borrowed (ESS)"):
        table.add_column(col, justify="right")
    for r in table_rows:
        flag = " [bold red]> alpha[/]" if r in above else ""
        power = "-" if r.power is None else f"{r.power:.4f}"
        table.add_row(
            f"{r.control:g}", f"{r.type_one_error:.4f}{flag}", power, f"{r.conflict:.3f}", f"{r.borrowed:.1f}"
        )
    _out.print(table)
    finding = drift_finding(design, table_rows)
    _out.print(f"[bold red]{finding}[/]" if above else finding, highlight=False)


@app.command("interim")
def interim_command(
    design_file: Annotated[
        Path, typer.Argument(help="A design TOML file (binary or continuous endpoint, fixed design).")
    ],
    observed: Annotated[
        str,
        typer.Option(
            help="So far, per arm (treatment, control): responders/analysed (binary), 12/20 or 12/20,6/20; "
            "mean/sd/analysed (continuous), -1.6/0.7/20 or -1.6/0.7/20,-0.4/0.8/20."
        ),
    ],
    futility: Annotated[
        float, typer.Option(help="Stop for futility below this predictive probability.")
    ] = 0.1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Probability of success and conditional power given the data of an interim look (exact for binary
    designs; continuous ones in closed form with the sd at its interim estimate), and the decision they imply.

    Example: planner interim examples/zimislecel_single_arm.toml --observed 12/20
    """
    from planner.design import load_design
    from planner.interim import interim_prediction

    try:
        design = load_design(design_file)
        out = interim_prediction(design, observed, futility_threshold=futility)
    except DesignError as err:
        _fail(err, {"observed:": "--observed:", "futility_threshold:": "--futility:"})
    if as_json:
        sys.stdout.write(json.dumps(out.to_dict(), indent=2) + "\n")
        return
    seen = ", ".join("/".join(f"{v:g}" for v in o) for o in out.observed)
    how = "exact" if design.endpoint.kind == "binary" else "sd known at its interim estimate"
    table = Table(
        title=f"{design.name}: observed {seen} of {'/'.join(map(str, out.planned))} planned ({how})"
    )
    table.add_column("quantity")
    table.add_column("probability of final success", justify="right")
    table.add_row("predictive, analysis prior", f"{out.predictive_analysis_prior:.4f}")
    if out.predictive_design_prior is not None:
        table.add_row("predictive, design prior", f"{out.predictive_design_prior:.4f}")
    table.add_row("conditional power, current trend", f"{out.conditional_power_trend:.4f}")
    for name, value in out.conditional_power_planned.items():
        table.add_row(f"conditional power, {name}", f"{value:.4f}")
    _out.print(table)
    _out.print(f"Decision: {out.decision}", highlight=False)


@app.command("paired")
def paired_command(
    n: Annotated[int, typer.Option(help="Participants.")],
    rate_ratio: Annotated[
        float, typer.Option(help="True rate ratio, after / before (e.g. 0.2: an 80% reduction).")
    ],
    baseline_rate: Annotated[
        float | None,
        typer.Option(help="Events per unit exposure before treatment (default: the evidence file's)."),
    ] = None,
    dispersion: Annotated[
        float | None,
        typer.Option(help="Patient frailty variance k (0: Poisson; default: the evidence file's)."),
    ] = None,
    baseline_exposure: Annotated[float, typer.Option(help="Exposure observed before treatment.")] = 1.0,
    exposure: Annotated[float, typer.Option(help="Exposure observed after treatment.")] = 1.0,
    null_ratio: Annotated[float, typer.Option(help="H0: rate ratio >= this (1: any reduction).")] = 1.0,
    alpha: Annotated[float, typer.Option(help="One-sided level.")] = 0.025,
    dropout: Annotated[float, typer.Option(help="Probability of leaving before the after period.")] = 0.0,
    target_power: Annotated[float | None, typer.Option(help="Also the smallest N with this power.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A paired count endpoint (events per patient-year before versus after, e.g. severe hypoglycaemia): the
    exact power of the conditional test of the within-patient rate ratio, and its level (planner.paired).

    Example: planner paired --n 50 --rate-ratio 0.3 --null-ratio 0.5
    """
    from planner.paired import PairedCounts, paired_defaults, power, smallest_n

    defaults = paired_defaults()
    names = {
        f"{k}:": f"--{k.replace('_', '-')}:"
        for k in (
            "n",
            "rate_ratio",
            "baseline_rate",
            "dispersion",
            "baseline_exposure",
            "exposure",
            "null_ratio",
            "alpha",
            "dropout",
            "target",
        )
    }
    names["target:"] = "--target-power:"
    try:
        design = PairedCounts(
            n,
            defaults["baseline_rate"] if baseline_rate is None else baseline_rate,
            rate_ratio,
            baseline_exposure,
            exposure,
            defaults["dispersion"] if dispersion is None else dispersion,
            null_ratio,
            alpha,
            dropout,
        )
        value, level = power(design), power(design, design.null_ratio)
        sized = smallest_n(design, target_power) if target_power is not None else None
    except DesignError as err:
        _fail(err, names)
    sources = {
        "baseline_rate": "given" if baseline_rate is not None else defaults["baseline_rate_source"],
        "dispersion": "given" if dispersion is not None else f"judgment ({defaults['judgment_source']})",
    }
    if as_json:
        payload = {
            "design": dataclasses.asdict(design),
            "power": value,
            "type_one_error_at_null": level,
            "smallest_n": None if sized is None else sized[0],
            "sources": sources,
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    _out.print(
        f"{n} participants, {design.baseline_rate:g} events per unit exposure before ({sources['baseline_rate']}), "
        f"dispersion {design.dispersion:g} ({sources['dispersion']}); H0: rate ratio >= {null_ratio:g}",
        highlight=False,
    )
    _out.print(f"power at rate ratio {rate_ratio:g}: [bold]{value:.4f}[/] (exact)", highlight=False)
    _out.print(
        f"type I error at rate ratio {null_ratio:g}: {level:.4f} (exact; at most alpha {alpha:g} for every "
        "frailty and baseline rate: the test is conditional on the total)",
        highlight=False,
    )
    if sized is not None:
        found = sized[0]
        _out.print(
            f"smallest N with power >= {target_power:g}: {found}"
            if found is not None
            else f"power {target_power:g} not reached up to N = {sized[1][-1][0]}",
            highlight=False,
        )


@app.command("tipping")
def tipping_command(
    design_file: Annotated[Path, typer.Argument(help="A single-arm design (binary or continuous endpoint).")],
    observed: Annotated[
        str,
        typer.Option(
            help="Binary: responders/observed, e.g. 30/45; continuous: mean/sd/observed, -1.6/0.7/45."
        ),
    ],
    missing: Annotated[int, typer.Option(help="Participants whose outcome is missing.")],
    imputations: Annotated[int, typer.Option(help="Multiple imputations (binary delta grid).")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the imputations.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Tipping-point analysis of missing outcomes (planner.missing): how far the missing outcomes must depart
    from missing at random before the conclusion changes -- binary: every number of responders among the
    missing under the design's rule, and the logit shift of a delta-adjusted multiple imputation; continuous:
    the shift of the imputed values (closed form of many imputations).

    Example: planner tipping examples/zimislecel_single_arm.toml --observed 30/45 --missing 5
    """
    from planner.design import load_design
    from planner.interim import parse_observed
    from planner.missing import (
        impute_binary,
        impute_continuous,
        tipping_delta_binary,
        tipping_delta_continuous,
        tipping_point_binary,
    )

    try:
        design = load_design(design_file)
        if design.randomized or design.endpoint.kind not in ("binary", "continuous"):
            raise DesignError(
                f"endpoint.kind: tipping points are for single-arm binary or continuous designs, got "
                f"{design.arms.kind} {design.endpoint.kind}"
            )
        kind = design.endpoint.kind
        values = parse_observed(observed, kind)
        if len(values) != 1:
            raise DesignError(f"observed: one arm's data, got {observed!r}")
        goal = float(design.analysis.performance_goal)  # type: ignore[arg-type]
        better = getattr(design.endpoint, "better", "higher")
        alpha = design.analysis.alpha
        if kind == "binary":
            x, m = values[0]
            points = [tipping_point_binary(design, x, m, missing)]
            points.append(
                tipping_delta_binary(x, m, missing, goal, imputations=imputations, seed=seed, alpha=alpha)
            )
            mar = impute_binary(x, m, missing, goal, imputations=imputations, seed=seed, alpha=alpha)
        else:
            mean, sd, m = values[0]
            points = [tipping_delta_continuous(mean, sd, m, missing, goal, alpha=alpha, better=better)]
            mar = impute_continuous(
                mean, sd, m, missing, goal, imputations=imputations, seed=seed, alpha=alpha, better=better
            )
    except DesignError as err:
        _fail(
            err, {"observed:": "--observed:", "missing:": "--missing:", "observed responders:": "--observed:"}
        )
    if as_json:
        payload = {"imputation_at_mar": mar.to_dict(), "tipping_points": [p.to_dict() for p in points]}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    _out.print(
        f"multiple imputation under MAR ({mar.imputations} imputations): estimate {mar.estimate:.4f}, one-sided "
        f"p {mar.p_value:.4g} -> {'success' if mar.success else 'no success'}",
        highlight=False,
    )
    for p in points:
        _out.print(p.sentence, highlight=False)


@app.command("stages")
def stages_command(
    design_file: Annotated[Path, typer.Argument(help="A design with interim looks.")],
    sims: Annotated[int | None, typer.Option("--sims", help="Simulated trials (simulated designs).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """How the trial can end, per scenario and under the design prior (assurance by stage and outcome):
    efficacy and futility stops at each look, final success and failure, E[N], and the flip-flop rates (exact
    for single-arm binary designs; simulated otherwise).

    Example: planner stages examples/zimislecel_group_sequential.toml
    """
    from planner.design import load_design
    from planner.stages import stage_outcomes
    from planner.tables import stage_outcome_rows

    try:
        design = load_design(design_file)
        design.simulation_settings(sims, seed)
        rows = stage_outcomes(design, n_sims=sims, seed=seed)
    except DesignError as err:
        _fail(err)
    if as_json:
        sys.stdout.write(json.dumps([r.to_dict() for r in rows], indent=2) + "\n")
        return
    frame_rows = stage_outcome_rows(rows)
    table = Table(title=f"{design.name}: how the trial ends")
    for col in frame_rows[0]:
        table.add_column(col, justify="left" if col == "scenario" else "right")
    for row in frame_rows:
        table.add_row(
            *[
                str(v) if isinstance(v, str) else (f"{v:.1f}" if k == "E[N]" else f"{v:.4f}")
                for k, v in row.items()
            ]
        )
    _out.print(table)


@app.command("validate")
def validate_command(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Folder for validation.html (and .pdf).")
    ] = Path("validation"),
    references: Annotated[
        Path | None, typer.Option(help="A folder of reference files (default: the shipped ones).")
    ] = None,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also print the PDF (Chromium).")] = True,
) -> None:
    """Run every reference value (published tables, rpact and other peers' values, with the call beside each)
    and write the validation document: per method, the reference, its source, the planner's value, the
    tolerance, pass or fail, the environment and the date. Exits 1 when any value fails.

    Example: planner validate -o validation --no-pdf
    """
    from planner.validation import load_references, run, write_report

    try:
        outcomes = run(load_references(references))
        path = write_report(outcomes, output, pdf=pdf)
    except DesignError as err:
        _fail(err, {"references:": "--references:", "pdf:": "--pdf:"})
    failed = [o for o in outcomes if not o.passed]
    _out.print(
        f"{len(outcomes) - len(failed)} of {len(outcomes)} reference values pass; {len(failed)} fail -> {path}",
        highlight=False,
    )
    for o in failed:
        _out.print(
            f"[bold red]FAIL[/] {o.reference.file} {o.reference.id}: expected {o.reference.expected:.10g} "
            f"(tolerance {o.reference.tolerance:g}), planner {o.value if o.value is None else f'{o.value:.10g}'}"
            + (f" ({o.error})" if o.error else ""),
            highlight=False,
        )
    if failed:
        raise typer.Exit(code=1)


@app.command("simon")
def simon_command(
    p0: Annotated[float, typer.Option(help="Unacceptable response rate (the null).")],
    p1: Annotated[float, typer.Option(help="Desirable response rate (the alternative).")],
    alpha: Annotated[float, typer.Option(help="Type I error at p0.")] = 0.05,
    beta: Annotated[float, typer.Option(help="Type II error at p1.")] = 0.2,
    n_max: Annotated[int, typer.Option(help="Largest total N searched.")] = 100,
    choose: Annotated[
        str, typer.Option("--design", help="optimal | minimax: the design written with -o.")
    ] = "optimal",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write that design as a design file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Simon's two-stage designs (optimal, minimax, admissible) by exhaustive exact search.

    Example: planner simon --p0 0.5 --p1 0.7 --alpha 0.025 --beta 0.1 -o simon.toml
    """
    from planner.design import design_to_toml, parse_design
    from planner.simon import simon_design_data, simon_search

    try:
        if choose not in ("optimal", "minimax"):
            raise DesignError(f"--design: 'optimal' or 'minimax', got {choose!r}")
        if output is not None:
            _check_output_file(output)
        found = simon_search(p0, p1, alpha, beta, n_max)
    except DesignError as err:
        _fail(err)
    if output is not None:
        design = parse_design(simon_design_data(getattr(found, choose), p0, p1, alpha))
        output.write_text(design_to_toml(design), encoding="utf-8")
    if as_json:
        sys.stdout.write(json.dumps(found.to_dict(), indent=2) + "\n")
        return
    table = Table(
        title=f"Simon two-stage designs: p0 = {p0}, p1 = {p1}, alpha = {alpha}, beta = {beta} (exact)"
    )
    for col in ("design", "r1/n1", "r/n", "EN(p0)", "PET(p0)", "type I error", "power"):
        table.add_column(col, justify="left" if col == "design" else "right")
    rows = [("minimax", found.minimax), ("optimal", found.optimal)]
    rows += [("admissible", d) for d in found.admissible if d not in (found.minimax, found.optimal)]
    for label, d in rows:
        table.add_row(
            label,
            f"{d.r1}/{d.n1}",
            f"{d.r}/{d.n}",
            f"{d.en0:.2f}",
            f"{d.pet0:.3f}",
            f"{d.alpha:.4f}",
            f"{d.power:.4f}",
        )
    _out.print(table)
    if output is not None:
        _out.print(f"{choose} design written to {output}", highlight=False)


def _check_output_file(path: Path) -> None:
    if path.exists() and path.is_dir():
        raise DesignError(f"--output: {path} is a directory; give a file name")
    if not path.parent.exists():
        raise DesignError(f"--output: folder {path.parent} does not exist")


@app.command("report")
def report_command(
    design_file: Annotated[Path, typer.Argument(help="A design TOML file.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Directory for the report.")] = Path(
        "report"
    ),
    sims: Annotated[int | None, typer.Option("--sims", help="Simulated trials per scenario.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf/--no-pdf", help="Also print a PDF (needs Debian's chromium).")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the key numbers and paths as JSON.")] = False,
) -> None:
    """The briefing report: HTML (charts embedded), PDF, CSV tables, the design and a reproduction script.

    Example: planner report examples/zimislecel_single_arm.toml -o briefing
    """
    from planner.design import load_design

    _require("report", "jinja2", "pandas", "altair", "vl_convert")
    from planner.report import build_report

    try:
        design = load_design(design_file)
        design.simulation_settings(sims, seed)  # messages name --sims / --seed (_fail)
        _check_output_dir(output)
        with _err.status("building the report...") if not as_json else _nullcontext():
            out = build_report(design, output, n_sims=sims, seed=seed, pdf=pdf, source=str(design_file))
    except DesignError as err:
        _fail(err)
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "html": str(out.html),
                    "pdf": str(out.pdf) if out.pdf else None,
                    "numbers": out.numbers,
                    "seconds": out.seconds,
                },
                indent=2,
            )
            + "\n"
        )
    else:
        _out.print(
            f"report written to {out.html}"
            + (f" and {out.pdf}" if out.pdf else "")
            + f" in {out.seconds:.1f} s"
        )


@app.command("app")
def app_command(
    port: Annotated[int, typer.Option(help="Port.")] = 8501,
    address: Annotated[
        str, typer.Option(help="Address to bind (127.0.0.1: this machine only).")
    ] = "127.0.0.1",
) -> None:
    """Start the browser app on the shipped default design (same as scripts/run).

    The server imports and exercises the planner's app code before it listens, so that its first visitor
    does not wait for them.

    Example: planner app --port 8502
    """
    import importlib.util

    _require("app", "streamlit", "pandas", "altair")

    from streamlit.web import cli as streamlit_cli

    from planner.ui import warm_up

    script = importlib.util.find_spec(
        "planner.webapp"
    ).origin  # inside the package: an installed planner has it
    seconds = warm_up()
    print(f"planner: app code ready in {seconds:.1f} s; serving http://{address}:{port}", flush=True)
    sys.argv = [
        "streamlit",
        "run",
        str(script),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    streamlit_cli.main()  # exits with streamlit's status


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@app.command("sweep")
def sweep_command(
    sweep_file: Annotated[Path, typer.Argument(help="A sweep TOML file (see examples/sweeps/).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="CSV file for the table.")] = Path(
        "sweep.csv"
    ),
    workers: Annotated[int, typer.Option(help="Local Dask workers (0: in this process).")] = 0,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of a running Dask scheduler, e.g. tcp://127.0.0.1:8786."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON records.")] = False,
) -> None:
    """A grid of design variations x scenarios, each cell with its MCSE; identical however it is split.

    Example: planner sweep examples/sweeps/zimislecel_n_by_discount.toml --workers 2 -o sweep.csv
    """
    from planner.sweep import load_sweep, run_sweep, tasks_of

    try:
        sweep = load_sweep(sweep_file)
        if workers < 0 or workers > 256:
            raise DesignError(f"--workers: must be between 0 and 256, got {workers}")
        _check_output_file(output)
    except DesignError as err:
        _fail(err, options=None)  # the sweep file's own fields keep their names
    total = len(tasks_of(sweep))
    with Progress(
        TextColumn("sweep"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} tasks"),
        TimeRemainingColumn(),
        console=_err,
        transient=True,
        disable=as_json,
    ) as bar:
        job = bar.add_task("tasks", total=total)

        def tick(done: int, _total: int) -> None:
            bar.update(job, completed=done)

        if scheduler or workers:
            from dask.distributed import Client, LocalCluster

            if scheduler:
                try:
                    client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
                except (OSError, TimeoutError) as err:
                    _fail(
                        DesignError(
                            f"--scheduler: no Dask scheduler answered at {scheduler} within "
                            f"{SCHEDULER_TIMEOUT} s ({type(err).__name__})"
                        )
                    )
                with client:
                    table = run_sweep(sweep, client=client, progress=tick)
            else:
                with (
                    LocalCluster(
                        n_workers=workers,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=None,
                    ) as cluster,
                    Client(cluster) as client,
                ):
                    table = run_sweep(sweep, client=client, progress=tick)
        else:
            table = run_sweep(sweep, progress=tick)
    try:
        table.to_csv(output, index=False)
    except OSError as err:
        _fail(DesignError(f"--output: cannot write {output} ({err.strerror})"))
    if as_json:
        sys.stdout.write(table.to_json(orient="records", indent=1) + "\n")
    else:
        _out.print(f"{len(table)} rows ({len(sweep.variations)} variations) written to {output}")


priors_app = typer.Typer(no_args_is_help=True, help="Priors fitted to the phase 1/2 and historical evidence.")
app.add_typer(priors_app, name="priors")


@priors_app.command("list")
def priors_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The stored fitted priors: family, mixture approximation, effective sample size, diagnostics.

    Example: planner priors list --json
    """
    from planner.artifacts import fitted_metadata, load_fitted
    from planner.priors import ess_text
    from planner.results import json_ready

    fitted = load_fitted()
    if as_json:
        sys.stdout.write(
            json.dumps(
                json_ready(
                    {
                        "metadata": fitted_metadata(),
                        "priors": {
                            name: {
                                "family": a.family,
                                "components": [list(c) for c in a.mixture.components()],
                                "description": a.description,
                                **a.info,
                            }
                            for name, a in fitted.items()
                        },
                    }
                ),
                indent=2,
                allow_nan=False,
            )
            + "\n"
        )
        return
    table = Table(title="Fitted priors (priors/fitted/priors.json)")
    for col in (
        "name",
        "family",
        "stored as (weight: parameters)",
        "approximation error",
        "ESS",
        "R-hat",
        "bulk ESS",
        "what",
    ):
        table.add_column(col)
    for name, a in fitted.items():
        mix = a.mixture
        comps = "; ".join(f"{w:.2f}: ({p1:.3g}, {p2:.3g})" for w, p1, p2 in mix.components())
        approx = a.info.get("approximation", {})
        if "em_ks_distance_to_exact" in approx:
            error = f"exact (EM fit of the draws: KS {approx['em_ks_distance_to_exact']:.3f})"
        elif "ks_distance_to_draws" in approx:
            error = f"EM mixture: KS {approx['ks_distance_to_draws']:.3f} to the draws"
        else:
            error = ""
        diag = a.info.get("diagnostics", {})
        table.add_row(
            name,
            a.family,
            comps,
            error,
            ess_text(a.info.get("ess")).removeprefix("ESS "),
            f"{diag.get('rhat_max', float('nan')):.3f}",
            f"{diag.get('ess_bulk_min', float('nan')):.0f}",
            a.description
            + (
                f" (heterogeneity tau ~ HalfNormal({a.info['tau_scale']:g}))" if "tau_scale" in a.info else ""
            ),
        )
    _out.print(table)
    _out.print(
        "MAP prior sensitivity to the heterogeneity prior: map_responder (tau scale 1) and "
        "map_responder_tau* (other scales); a smaller scale borrows more (larger ESS).",
        highlight=False,
    )


@priors_app.command("map")
def priors_map(
    studies: Annotated[
        Path,
        typer.Argument(
            help="Historical control data: TOML with [[studies]] name, responders, n (and source), or CSV with "
            "the columns study,responders,n."
        ),
    ],
    robust_weight: Annotated[float, typer.Option(help="Weight of the vague Beta(1, 1) component.")] = 0.2,
    tau_scale: Annotated[
        float, typer.Option(help="Scale of the half-normal prior of the between-study sd (logit scale).")
    ] = 1.0,
    mu_sd: Annotated[float, typer.Option(help="Sd of the normal prior of the mean logit rate.")] = 2.0,
    design: Annotated[
        Path | None,
        typer.Option(help="A design whose analysis.control_prior is set to the result (written to --out)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the control prior (or, with --design, the design) as TOML here."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the NUTS chains.")] = DEFAULT_SEED,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A robust meta-analytic-predictive prior for a control arm, fitted with PyMC to historical control
    data (planner.historical): the MAP mixture, its robust version, their effective sample sizes and the
    sampler's checks.

    Example: planner priors map controls.toml --design trial.toml --out trial_map.toml
    """
    import tomli_w

    _require("priors", "pymc", "arviz")
    from planner.design import design_to_toml, load_design
    from planner.fitting import PriorFitError
    from planner.historical import fit_control_map, load_studies
    from planner.priors import ess_text
    from planner.results import json_ready

    try:
        base = load_design(design) if design is not None else None
        rows = load_studies(studies)
        result = fit_control_map(
            rows, tau_scale=tau_scale, mu_sd=mu_sd, robust_weight=robust_weight, seed=seed
        )
        if base is not None:
            base = base.with_changes({"analysis.control_prior": result.spec()})
    except DesignError as err:
        _fail(err, {"robust_weight:": "--robust-weight:", "tau_scale:": "--tau-scale:", "mu_sd:": "--mu-sd:"})
    except PriorFitError as err:
        _err.print(f"[bold red]error:[/] {escape(str(err))}")
        raise typer.Exit(code=1) from None
    if out is not None:
        text = design_to_toml(base) if base is not None else tomli_w.dumps({"control_prior": result.spec()})
        out.write_text(text)
    if as_json:
        sys.stdout.write(json.dumps(json_ready(result.to_dict()), indent=2, allow_nan=False) + "\n")
        return
    summary = result.to_dict()
    table = Table(title="Robust MAP prior of the control rate (Beta mixture)")
    for col in ("weight", "a", "b", "mean"):
        table.add_column(col, justify="right")
    for w, a, b in result.prior.components():
        table.add_row(f"{w:.3f}", f"{a:.3f}", f"{b:.3f}", f"{a / (a + b):.3f}")
    _out.print(table)
    d = result.diagnostics
    _out.print(
        f"{len(rows)} studies, {sum(s.n for s in rows)} controls; MAP mean {result.map_mixture.mean():.4f} "
        f"(draws {result.draws_mean:.4f}, sd {result.draws_sd:.4f}), mixture KS distance to the draws "
        f"{result.ks_distance:.4f}; MAP {ess_text(summary['map']['ess'])}, robust prior "
        f"{ess_text(summary['control_prior_ess'])}; R-hat {d['rhat_max']:.4f}, bulk ESS "
        f"{d['ess_bulk_min']:.0f}, {d['divergences']} divergences"
        + (f"; written to {out}" if out is not None else ""),
        highlight=False,
    )


@priors_app.command("fit")
def priors_fit(
    output: Annotated[
        Path | None, typer.Option(help="Directory for the artifacts (default priors/fitted).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the NUTS chains.")] = DEFAULT_SEED,
) -> None:
    """Refit every PyMC model to priors/evidence.toml, check convergence, store draws and mixtures.

    Example: planner priors fit --output /tmp/fitted
    """
    try:
        from planner.fitting import PriorFitError, fit_all
    except ImportError as err:  # pragma: no cover - depends on the installation
        _err.print(
            f"[bold red]error:[/] fitting needs PyMC and ArviZ ({err}); install with pip install -e '.[priors]'"
        )
        raise typer.Exit(code=2) from None
    try:
        result = fit_all(output, seed=seed, log=lambda line: _err.print(line, highlight=False))
    except PriorFitError as err:
        _err.print(f"[bold red]error:[/] {err}")
        raise typer.Exit(code=1) from None
    meta = result["metadata"]
    _out.print(
        f"fitted {len(result['priors'])} priors in {meta['fit_seconds']:.1f} s; "
        f"evidence sha256 {meta['evidence_sha256'][:12]}"
    )


def main() -> None:
    """Entry point of the ``planner`` command."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        _err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()


__all__ = ["app", "main", "render_table"]
