"""The briefing report: `planner report DESIGN.toml -o DIR`.

Writes a self-contained HTML report (charts embedded as SVG), a PDF of it (Debian's Chromium
prints the HTML; no JavaScript, no network), CSV tables, a copy of the design and a short
script that reproduces the key numbers. Reporting is separate from computing: every number
comes from the planner's public API on the design's seed.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.design import Design, design_to_toml
from planner.engine import evaluate, max_type_one_error
from planner.errors import DesignError
from planner.estimands import estimand_rows, time_to_event_estimand
from planner.priors import ess_text, prior_roles
from planner.results import Estimate
from planner.tables import cell_text, human

__all__ = ["build_report", "ReportOutput", "CHROMIUM"]

CHROMIUM = "/usr/bin/chromium"
# headless Chromium without network chatter (the PDF printer here; the browser tests use the same flags)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
SENSITIVITY_TARGET = 0.8


@dataclass(frozen=True)
class ReportOutput:
    directory: Path
    html: Path
    pdf: Path | None
    numbers: dict[str, Any]
    seconds: float


def _cell(column: str, value) -> str:
    return html.escape(cell_text(column, value))


def _table(frame: pd.DataFrame, caption: str | None = None) -> str:
    """An HTML table with human column names, sensible digits (probabilities and MCSE to 4 decimals, expected N
    and ESS to 1) and a dash where a value does not apply; captioned 'Table k.' by the template's counter."""
    head = "".join(f"<th>{html.escape(human(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if isinstance(v, (int, float, np.number)) else ""}">{_cell(c, v)}</td>'
            for c, v in zip(frame.columns, row, strict=True)
        )
        + "</tr>"
        for row in frame.itertuples(index=False)
    )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f'<table class="data">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def prior_text(spec) -> str:
    """A prior as a reader states it (no JSON)."""
    family = spec.family
    if family == "fitted":
        parts = [f"fitted prior \u201c{human(spec.name)}\u201d"]
        if spec.a0 != 1.0:
            parts.append(f"power prior a0 = {spec.a0:g}")
        if spec.robust_weight:
            parts.append(f"robust weight {spec.robust_weight:g}")
        return ", ".join(parts)
    if family == "point":
        return f"fixed at {spec.value:g}"
    name = {"beta": "Beta", "normal": "Normal", "gamma": "Gamma"}[family]
    comps = []
    for c in spec.components:
        a, b = (c.a, c.b) if family == "beta" else (c.mean, c.sd) if family == "normal" else (c.shape, c.rate)
        comps.append(
            f"{c.weight:.2g} {name}({a:.4g}, {b:.4g})"
            if len(spec.components) > 1
            else f"{name}({a:.4g}, {b:.4g})"
        )
    return " + ".join(comps)


def _curve_scenario(result) -> str | None:
    alternatives = [r for r in result.results if not r.is_null]
    if not alternatives:
        return None
    return min(alternatives, key=lambda r: abs(r.success.value - 0.8)).scenario.name


def target_sentence(quantity: str, parameter: str, frame: pd.DataFrame, column: str, target: float) -> str:
    """A sentence about where ``column`` reaches ``target`` over the rows of ``frame`` (indexed by ``parameter``),
    computed from the table it describes: the values of the parameter at which it is below, at least, or within
    two Monte Carlo SEs of the target (where simulated)."""

    def fmt(values):
        values = [f"{v:g}" for v in values]
        return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]

    xs, ys = frame[parameter].tolist(), frame[column].tolist()
    se = frame["MCSE"].tolist() if "MCSE" in frame else [0.0] * len(xs)
    unsure = [x for x, y, e in zip(xs, ys, se, strict=True) if e > 0 and abs(y - target) <= 2 * e]
    below = [x for x, y, e in zip(xs, ys, se, strict=True) if y < target and x not in unsure]
    above = [x for x, y, e in zip(xs, ys, se, strict=True) if y >= target and x not in unsure]
    parts = []
    if below:
        parts.append(f"below {target:g} at {parameter} = {fmt(below)}")
    if above:
        parts.append(f"at least {target:g} at {parameter} = {fmt(above)}")
    if unsure:
        parts.append(f"within Monte Carlo error of {target:g} at {parameter} = {fmt(unsure)}")
    return f"{quantity} is " + "; ".join(parts) + "."


def build_report(
    design: Design,
    out_dir: str | Path,
    *,
    n_sims: int | None = None,
    seed: int | None = None,
    pdf: bool = True,
    source: str | None = None,
    comparison: pd.DataFrame | None = None,
) -> ReportOutput:
    """Compute everything the report shows and write it to ``out_dir``; ``comparison`` (the app's pinned
    designs, :func:`planner.tables.comparison_table`) adds a section and comparison.csv."""
    import jinja2

    from planner import tables
    from planner.group_sequential import describe_looks
    from planner.plots import curve_chart, curve_frame, prior_chart, prior_frame, svg
    from planner.rules.catalog import RULES
    from planner.search import power_curve

    began = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_sims, seed = design.simulation_settings(n_sims, seed)
    if design.simulation.target_mcse is not None:  # as many trials as the target MCSE needs, n_sims the cap
        from planner.engine import evaluate_to_precision

        result = evaluate_to_precision(design, design.simulation.target_mcse, max_sims=n_sims, seed=seed)
        n_sims = result.n_sims
    else:
        result = evaluate(design, n_sims=n_sims, seed=seed)
    ep, an = design.endpoint, design.analysis

    # 1-2. design, estimand, rules
    strategy = (
        "no dropout assumed"
        if design.dropout.rate == 0.0
        else "dropouts and intercurrent events count as failures (composite estimand)"
        if design.dropout.strategy == "failure"
        else "completers analysed (dropouts missing at random)"
    )
    summary = [
        (
            "arms",
            f"{design.arms.kind}, N = {design.arms.n} "
            + (
                f"({design.arms.sizes[0]} treatment : {design.arms.sizes[1]} control)"
                if design.randomized
                else ""
            ),
        ),
        ("primary endpoint", f"{ep.label} ({ep.kind})"),
        (
            "estimand",
            time_to_event_estimand(ep)
            if ep.kind == "time-to-event"
            else f"{strategy}; dropout rate {design.dropout.rate:g}",
        ),
        ("null hypothesis", design.null_hypothesis()),
    ]
    rules = [
        (
            "analysis rule",
            f"{an.rule}: {RULES[an.rule].summary}"
            if design.reestimation is None
            else f"{design.analysis_name}: the stage-wise z tests of {an.rule}'s comparison (sd known) combined "
            "with the planned weights",
        )
    ]
    guard = result.type_one_error
    if RULES[an.rule].bayesian and guard is not None:  # a Bayesian design states its type I error, not alpha
        rules.append(
            (
                "type I error (maximum over the null)",
                f"{guard.value:.4f} ({'exact' if guard.exact else f'MCSE {guard.mcse:.4f}'}); "
                f"target one-sided alpha {an.alpha}",
            )
        )
    else:
        rules.append(("one-sided alpha", f"{an.alpha}"))
    inflation = (
        describe_looks(design).get("beta_spending_inflation_factor") if design.interim is not None else None
    )
    if inflation is not None:
        rules.append(
            (
                "beta-spending futility",
                f"maximum-information inflation factor {inflation:.4f} over the "
                "fixed design with the same alpha and power",
            )
        )
    if RULES[an.rule].bayesian:
        rules.append(("posterior threshold", f"{an.threshold}"))
    beyond = "below" if getattr(design.endpoint, "better", "higher") == "lower" else "above"
    effect = ("the rate ratio" if design.randomized else "the event rate") if ep.kind == "count" else "effect"
    for i, c in enumerate(an.conditions, start=1):
        rules.append(
            (
                f"further condition {i}",
                f"P({effect} {beyond} {c.value:g} | data) > {c.probability:g} (every condition must hold"
                + (
                    "; the approximate posterior: a flat prior on the log, the normal Wald likelihood)"
                    if ep.kind == "count"
                    else ")"
                ),
            )
        )
    looks = describe_looks(design)["labels"] if design.interim is not None else []

    # 3. priors
    design_prior_rows = []
    specs = prior_roles(design)
    for role, info in result.priors.items():
        spec = specs[role][0]
        design_prior_rows.append((role, prior_text(spec), info))
    mixtures = tables.prior_mixtures(design)
    prior_svg = svg(prior_chart(prior_frame(mixtures), tables.prior_axis_title(design))) if mixtures else ""
    fitted = tables.fitted_table()
    fitted = fitted.assign(prior=[human(n) for n in fitted["prior"]])[
        [
            "prior",
            "what",
            "stored as",
            "mixture",
            "mean",
            "sd",
            "ESS (ELIR)",
            "ESS (Morita)",
            "ESS (moment)",
            "R-hat",
            "bulk ESS",
        ]
    ]

    # 4. operating characteristics and the null grid
    oc = tables.results_table(result)
    multiple_html, fwer_html, fwer_text, fwer_frame = "", "", "", None
    several = tables.multiple_table(result)
    if several is not None:
        from planner.multiple import familywise_error, fwer_scenario, least_favourable

        multiple_html = _table(several, f"Several endpoints: P(rejected) after {design.multiple.procedure}")
        base = fwer_scenario(design)
        fwer_sims = min(n_sims, 20_000)
        configs = familywise_error(design.multiple_spec(), dict(base.endpoints), n_sims=fwer_sims, seed=seed)
        fwer_frame = pd.DataFrame(
            [
                {
                    "endpoints with no effect": ", ".join(c["null_endpoints"]),
                    "true null hypotheses": ", ".join(c["true_null_hypotheses"]),
                    "FWER": c["fwer"].value,
                    "MCSE": c["fwer"].mcse,
                }
                for c in configs
            ]
        )
        fwer_html = _table(
            fwer_frame,
            f"Family-wise error under each null configuration (the others as in {base.name!r}; "
            f"{fwer_sims:,} simulated trials each)",
        )
        fwer_text = least_favourable(configs, design.analysis.alpha)["finding"]
    # several endpoints: the primary endpoint's own null (their FWER: planner evaluate --fwer)
    check = result.type_one_error or max_type_one_error(design, n_sims=n_sims, seed=seed)
    null_table = pd.DataFrame(
        [
            {"treatment": g.treatment, "control": g.control, "P(success)": g.value, "MCSE": g.mcse}
            for g in check.grid
        ]
    )
    if not design.randomized:
        null_table = null_table.drop(columns="control")
    # the page shows about ten rows of the grid (the boundary and the maximum among them); the CSV has all
    shown = sorted(
        set(np.linspace(0, len(null_table) - 1, min(len(null_table), 9)).round().astype(int))
        | {int(null_table["P(success)"].idxmax()), len(null_table) - 1}
    )
    null_shown = null_table.iloc[shown]
    key_numbers = [
        (
            "design",
            f"{design.arms.kind}, N = {design.arms.n}, {design.analysis_name}"
            + (f", {len(design.interim.fractions)} looks" if design.interim else ""),
        )
    ]
    key_numbers.append(
        (
            "maximum type I error",
            f"{check.value:.4f} ({'exact' if check.exact else f'MCSE {check.mcse:.4f}'})"
            + (" -- ABOVE ALPHA" if check.exceeds else f" -- within alpha {an.alpha:g}"),
        )
    )
    for r in result.results:
        if not r.is_null:
            key_numbers.append(
                (
                    f"power: {r.scenario.name}",
                    f"{r.success.value:.4f}"
                    + ("" if r.success.exact else f" (MCSE {r.success.mcse:.4f})")
                    + f"; expected N {r.expected_n:.1f}",
                )
            )
    if result.assurance is not None:
        a = result.assurance
        key_numbers.append(
            ("assurance (design prior)", f"{a.value:.4f}" + ("" if a.exact else f" (MCSE {a.mcse:.4f})"))
        )
    estimand = estimand_rows(design)
    zones_html, zone_svg, zone_rules, zone_frame = "", "", [], None
    if design.decision is not None:
        from planner.decisions import decision_zones
        from planner.plots import zone_chart

        zone_frame = tables.zone_table(decision_zones(design, n_sims=n_sims, seed=result.seed))
        zones_html = _table(zone_frame, "Probability of each decision after the trial")
        zone_svg = svg(zone_chart(zone_frame))
        zone_rules = tables.decision_text(design)
    drift_html, drift_svg, drift_text, drift_effect, drift_frame = "", "", "", "", None
    from planner.borrowing import has_drift

    if has_drift(design):
        from planner.borrowing import drift_defaults, drift_finding, drift_table
        from planner.plots import drift_chart
        from planner.priors import analysis_mixture

        controls, effect = drift_defaults(design)
        points = drift_table(design, controls, effect)
        drift_frame = tables.drift_frame(points)
        drift_html = _table(
            drift_frame, "Type I error and power against drift of the true control rate (exact)"
        )
        prior_mean = analysis_mixture(design.analysis.control_prior, "beta").mean()
        drift_svg = svg(drift_chart(drift_frame, design.analysis.alpha, prior_mean))
        drift_text = drift_finding(design, points)
        drift_effect = (
            "no power column (every scenario is null)"
            if effect is None
            else f"the power with the treatment rate {effect:+g} from the control's (the first scenario outside "
            "the null)"
        )
    stages = tables.stages_table(result)
    outcomes_html, outcomes_svg, outcomes_frame = "", "", None
    if design.interim is not None:
        from planner.plots import stage_chart
        from planner.stages import outcomes_of

        outcomes_frame = tables.stage_outcome_table(outcomes_of(result))
        outcomes_html = _table(outcomes_frame, "How the trial ends, per scenario and under the design prior")
        outcomes_svg = svg(stage_chart(outcomes_frame))
    ssr_html, ssr_text, ssr_rule, ssr_frame = "", "", "", tables.reestimation_table(result)
    if ssr_frame is not None:
        from planner.adaptive import naive_finding, plan_of

        plan = plan_of(design)
        r = design.reestimation
        assert r is not None
        ssr_html = _table(ssr_frame, "Sample-size re-estimation: success and the final N (by integration)")
        ssr_text = naive_finding(plan)
        zone = (
            f"when the conditional power of the planned size lies in the promising zone [{r.cp_min:g}, "
            f"{r.target_power:g}), stage 2 grows to reach a conditional power of {r.target_power:g}"
            if r.rule == "promising-zone"
            else f"stage 2 grows to reach a conditional power of {r.target_power:g}"
        )
        stops = []
        if plan.efficacy_spending != "none":
            stops.append(
                f"for efficacy when z1 is at least {plan.bounds[0]:.4f} ({plan.efficacy_spending} spending)"
            )
        if plan.futility_z is not None:
            stops.append(f"for futility when z1 is below {plan.futility_z:g} (non-binding)")
        ssr_rule = (
            f"At the interim, after {plan.n1} participants per arm, "
            + (f"the trial stops {' and '.join(stops)}; otherwise " if stops else "")
            + f"{zone} (the interim estimate as the effect), "
            f"up to {plan.n2_max} per arm in stage 2 (N at most {2 * (plan.n1 + plan.n2_max)}); the stage-wise z "
            f"tests (sd {plan.sd:g} known) are combined with the planned weights sqrt({plan.n1}/{plan.n1 + plan.n2}) "
            f"and sqrt({plan.n2}/{plan.n1 + plan.n2}) and compared with {plan.critical:.4f} (Cui, Hung and Wang "
            "1999; Mehta and Pocock 2011)."
        )

    # 5. curves over N
    n0 = design.arms.n
    ns = tuple(sorted({max(4, int(round(n0 * f))) for f in np.linspace(0.4, 2.0, 17)}))
    curve_n_sims = min(n_sims, 20_000)
    chosen = _curve_scenario(result)
    power_points = power_curve(design, ns, scenario=chosen, n_sims=curve_n_sims, seed=seed) if chosen else ()
    power_svg = svg(curve_chart(curve_frame(power_points, "power"), "power", current_n=n0)) if chosen else ""
    assurance_points, assurance_svg = (), ""
    if design.design_prior is not None:
        assurance_points = power_curve(design, ns, metric="assurance", n_sims=curve_n_sims, seed=seed)
        assurance_svg = svg(
            curve_chart(curve_frame(assurance_points, "assurance"), "assurance", current_n=n0)
        )
    survival_figures = (
        _survival_figures(design, chosen, ns, curve_n_sims, seed) if ep.kind == "time-to-event" else []
    )

    # 6. sensitivity
    sensitivity, sens_frames = [], {}
    chosen_row = next((r for r in result.results if r.scenario.name == chosen), None)

    def power_at(changes: dict) -> Estimate:
        d = design.with_changes({**changes, "scenarios": [chosen_row.scenario.model_dump()]})
        return evaluate(d, n_sims=curve_n_sims, seed=seed, type_one_error=False).results[0].success

    if design.design_prior is not None and design.design_prior.treatment.family == "fitted":
        rows = []
        for a0 in (0.1, 0.25, 0.5, 0.75, 1.0):
            a = evaluate(
                design.with_changes(
                    {"design_prior.treatment.a0": a0, "scenarios": [design.scenarios[0].model_dump()]}
                ),
                n_sims=curve_n_sims,
                seed=seed,
            ).assurance
            rows.append({"design prior a0": a0, "assurance": a.value, "MCSE": a.mcse})
        frame = pd.DataFrame(rows)
        note = (
            target_sentence("Assurance", "design prior a0", frame, "assurance", SENSITIVITY_TARGET)
            + " (a0 = 1 uses the evidence behind the fitted prior in full; smaller a0 discounts it.)"
        )
        sensitivity.append(
            ("Assurance against the discount of the evidence (power prior a0)", _table(frame), note)
        )
        sens_frames["discount"] = frame
    if an.prior is not None and an.prior.family == "fitted" and chosen_row is not None:
        rows = [
            {
                "analysis prior a0": a0,
                "power": (e := power_at({"analysis.prior.a0": a0})).value,
                "MCSE": e.mcse,
            }
            for a0 in (0.1, 0.25, 0.5, 0.75, 1.0)
        ]
        frame = pd.DataFrame(rows)
        sensitivity.append(
            (
                "Power against the discount of the analysis prior",
                _table(frame),
                target_sentence("Power", "analysis prior a0", frame, "power", SENSITIVITY_TARGET),
            )
        )
        sens_frames["analysis_discount"] = frame
    if chosen_row is not None and an.performance_goal is not None:
        if ep.kind == "time-to-event" and an.rule != "km-landmark":  # a median: relative steps
            goals = [an.performance_goal * f for f in (0.8, 0.9, 1.0, 1.1, 1.2)]
        else:
            goals = [an.performance_goal + d for d in (-0.1, -0.05, 0.0, 0.05, 0.1)]
        goals = [g for g in goals if ep.kind != "binary" or 0 < g < 1]
        rows = [
            {
                "performance goal": g,
                "power": (e := power_at({"analysis.performance_goal": g})).value,
                "MCSE": e.mcse,
            }
            for g in goals
        ]
        sensitivity.append(
            (
                f'Power under "{chosen}" against the performance goal',
                _table(pd.DataFrame(rows)),
                target_sentence("Power", "performance goal", pd.DataFrame(rows), "power", SENSITIVITY_TARGET),
            )
        )
        sens_frames["goal"] = pd.DataFrame(rows)
    if chosen_row is not None and ep.kind == "time-to-event":
        rows = [
            {
                "dropout probability": r,
                "power": (e := power_at({"endpoint.dropout_probability": r})).value,
                "MCSE": e.mcse,
            }
            for r in (0.0, 0.05, 0.1, 0.15, 0.2)
        ]
        sensitivity.append(
            (
                f'Power under "{chosen}" against the probability of dropping out by {ep.dropout_time:g} '
                f"{ep.time_unit} (dropouts censored)",
                _table(pd.DataFrame(rows)),
                target_sentence(
                    "Power", "dropout probability", pd.DataFrame(rows), "power", SENSITIVITY_TARGET
                ),
            )
        )
        sens_frames["dropout"] = pd.DataFrame(rows)
    elif chosen_row is not None and design.reestimation is None:  # re-estimation designs have no dropout yet
        strategy = design.dropout.strategy
        if strategy == "failure" and (
            ep.kind == "count" or (ep.kind == "continuous" and ep.failure_value is None)
        ):
            strategy = "missing"  # no failure value to impute: dropouts are then missing
        rows = [
            {
                "dropout rate": r,
                "power": (e := power_at({"dropout.rate": r, "dropout.strategy": strategy})).value,
                "MCSE": e.mcse,
            }
            for r in (0.0, 0.05, 0.1, 0.15, 0.2)
        ]
        sensitivity.append(
            (
                f'Power under "{chosen}" against the dropout rate (dropouts {strategy})',
                _table(pd.DataFrame(rows)),
                target_sentence("Power", "dropout rate", pd.DataFrame(rows), "power", SENSITIVITY_TARGET),
            )
        )
        sens_frames["dropout"] = pd.DataFrame(rows)

    # 7. reproducibility
    design_file = out / "design.toml"
    design_file.write_text(design_to_toml(design))
    command = f"planner report {source or out / 'design.toml'} -o {out} --sims {n_sims} --seed {seed}"
    script = (
        "# Reproduces the key numbers of the report: run `python reproduce.py` in this folder.\n"
        "import json\n"
        "from planner import evaluate, load_design\n"
        "from planner.engine import max_type_one_error\n\n"
        "design = load_design('design.toml')\n"
        f"result = evaluate(design, n_sims={n_sims}, seed={seed})\n"
        "numbers = {r.scenario.name: [r.success.value, r.success.mcse] for r in result.results}\n"
        f"check = result.type_one_error or max_type_one_error(design, n_sims={n_sims}, seed={seed})\n"
        "numbers['max type I error'] = [check.value, check.mcse]\n"
        "if result.assurance is not None:\n"
        "    numbers['assurance'] = [result.assurance.value, result.assurance.mcse]\n"
        "print(json.dumps(numbers, indent=1))\n"
    )
    (out / "reproduce.py").write_text(script)
    numbers = {r.scenario.name: [r.success.value, r.success.mcse] for r in result.results}
    numbers["max type I error"] = [check.value, check.mcse]
    if result.assurance is not None:
        numbers["assurance"] = [result.assurance.value, result.assurance.mcse]
    reproducibility = [
        ("package versions", ", ".join(f"{k} {v}" for k, v in result.versions.items())),
        ("seed", seed),
        (
            "simulated trials per scenario",
            f"{n_sims:,} (curves and sensitivity: {curve_n_sims:,})"
            + (
                f"; chosen so that every Monte Carlo SE is at most {result.precision['target_mcse']:g}"
                + ("" if result.precision["met"] else " -- NOT MET: the cap was reached")
                if result.precision is not None
                else ""
            ),
        ),
        ("design hash (SHA-256)", result.design_hash),
        (
            "method",
            "exact enumeration"
            if all(r.success.exact for r in result.results)
            else "Monte Carlo simulation of sufficient statistics",
        ),
    ]

    # tables as CSV
    oc.to_csv(out / "operating_characteristics.csv", index=False)
    if comparison is not None:
        comparison.to_csv(out / "comparison.csv", index=False)
    null_table.to_csv(out / "null_grid.csv", index=False)
    if zone_frame is not None:
        zone_frame.to_csv(out / "decision_zones.csv", index=False)
    if drift_frame is not None:
        drift_frame.to_csv(out / "drift.csv", index=False)
    if ssr_frame is not None:
        ssr_frame.to_csv(out / "reestimation.csv", index=False)
    if fwer_frame is not None:
        fwer_frame.to_csv(out / "familywise_error.csv", index=False)
    if outcomes_frame is not None:
        outcomes_frame.to_csv(out / "outcomes_by_stage.csv", index=False)
    if power_points:
        curve_frame(power_points, "power").to_csv(out / "power_curve.csv", index=False)
    if assurance_points:
        curve_frame(assurance_points, "assurance").to_csv(out / "assurance_curve.csv", index=False)
    for _, _, name, frame in survival_figures:
        frame.to_csv(out / name, index=False)
    for key, frame in sens_frames.items():
        frame.to_csv(out / f"sensitivity_{key}.csv", index=False)
    (out / "numbers.json").write_text(json.dumps(numbers, indent=1))

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent), autoescape=False)
    page = env.get_template("template.html.j2").render(
        design=design,
        generated=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        versions=result.versions,
        design_hash=result.design_hash,
        seed=seed,
        n_sims=n_sims,
        summary=[(k, html.escape(str(v))) for k, v in summary],
        rules=[(k, html.escape(str(v))) for k, v in rules],
        looks=looks,
        evidence_html=_table(
            tables.evidence_table(), "The phase 1/2 and historical evidence, each number with its source"
        ),
        fitted_html=_table(fitted, "Priors fitted with PyMC to the evidence"),
        design_priors=[(r, html.escape(s), _Info(i)) for r, s, i in design_prior_rows],
        prior_svg=prior_svg,
        oc_html=_table(oc, "Operating characteristics per scenario"),
        type_one_error=check,
        null_grid_html=_table(
            null_shown, "Probability of declaring success over the null (selected rows; all in null_grid.csv)"
        ),
        key_numbers=[(k, html.escape(v)) for k, v in key_numbers],
        estimand=[(k, html.escape(v)) for k, v in estimand],
        comparison_html=_table(comparison, "The pinned designs side by side")
        if comparison is not None
        else "",
        stages_html=_table(stages, "Probability of stopping at each look") if stages is not None else "",
        zones_html=zones_html,
        zone_svg=zone_svg,
        zone_rules=zone_rules,
        drift_html=drift_html,
        drift_svg=drift_svg,
        drift_text=drift_text,
        drift_effect=drift_effect,
        ssr_html=ssr_html,
        multiple_html=multiple_html,
        outcomes_html=outcomes_html,
        outcomes_svg=outcomes_svg,
        fwer_html=fwer_html,
        fwer_text=fwer_text,
        ssr_text=ssr_text,
        ssr_rule=ssr_rule,
        power_svg=power_svg,
        curve_scenario=html.escape(chosen or ""),
        assurance_svg=assurance_svg,
        survival_figures=[(svg, caption) for svg, caption, _, _ in survival_figures],
        sensitivity=sensitivity,
        reproducibility=[(k, html.escape(str(v))) for k, v in reproducibility],
        command=html.escape(command),
        script=html.escape(script),
    )
    html_path = out / "report.html"
    html_path.write_text(page)
    pdf_path = _print_pdf(html_path) if pdf else None
    return ReportOutput(out, html_path, pdf_path, numbers, time.perf_counter() - began)


def _survival_figures(
    design: Design, scenario: str | None, ns: tuple[int, ...], n_sims: int, seed: int
) -> list:
    """Time to event: (svg, caption, csv name, frame) for the scenarios' survival curves, the power over events
    (event-driven designs) and the expected calendar time of the analysis over N."""
    from planner import tables
    from planner.plots import survival_chart, survival_over_chart, svg
    from planner.search import survival_curve

    ep = design.endpoint
    curves = tables.survival_curves(design)
    figures = [
        (
            svg(survival_chart(curves, ep.time_unit)),
            f"Survival (no event yet) over time in {ep.time_unit} in each scenario, from the endpoint's "
            f"{ep.model} model (dashes: control arm).",
            "survival_curves.csv",
            curves,
        )
    ]
    if scenario is None:
        return figures
    if ep.events is not None:
        events = tuple(sorted({max(2, int(round(ep.events * f))) for f in np.linspace(0.5, 1.5, 9)}))
        frame = tables.survival_curve_frame(
            survival_curve(design, "events", events, scenario=scenario, n_sims=n_sims, seed=seed),
            "events",
            "power",
        )
        figures.append(
            (
                svg(survival_over_chart(frame, "events", "power", "power")),
                f'Power over the number of events at the analysis under "{scenario}" (95% Monte Carlo band).',
                "power_over_events.csv",
                frame,
            )
        )
    # event-driven: when the analysis happens; fixed follow-up (a known time): how many events it sees
    quantity, title, what, name = (
        (
            "E[analysis time]",
            f"expected analysis time ({ep.time_unit})",
            f"Expected calendar time of the analysis, in {ep.time_unit} from the first entry,",
            "analysis_time_over_n.csv",
        )
        if ep.events is not None
        else (
            "E[events]",
            "expected events",
            "Expected number of events at the analysis",
            "events_over_n.csv",
        )
    )
    frame = tables.survival_curve_frame(
        survival_curve(design, "n", ns, scenario=scenario, n_sims=n_sims, seed=seed), "N", quantity
    )
    figures.append(
        (
            svg(survival_over_chart(frame, "N", quantity, title)),
            f'{what} over N under "{scenario}" (95% Monte Carlo band).',
            name,
            frame,
        )
    )
    return figures


class _Info:
    def __init__(self, info: dict):
        self.mean, self.sd = info["mean"], info["sd"]
        self.ess_text = (
            ess_text(info.get("ess"), info.get("ess_unit")).removeprefix("ESS ") if "ess" in info else ""
        )


def _print_pdf(html_path: Path) -> Path:
    """Print the HTML to PDF with Debian's headless Chromium (no JavaScript needed: the charts are SVG)."""
    browser = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if browser is None:
        raise DesignError(
            "pdf: Debian's chromium is needed to print the PDF (scripts/setup installs it); "
            "use --no-pdf for the HTML alone"
        )
    pdf_path = html_path.with_suffix(".pdf")
    cmd = [
        browser,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={html_path.parent / '.chromium-profile'}",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf_path}",
        html_path.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    shutil.rmtree(html_path.parent / ".chromium-profile", ignore_errors=True)
    if proc.returncode != 0 or not pdf_path.exists():
        print(proc.stderr[-2000:], file=sys.stderr)
        raise DesignError(f"pdf: chromium could not print {html_path.name}")
    return pdf_path
