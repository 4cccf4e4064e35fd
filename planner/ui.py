"""What the app needs from the planner, as plain functions of plain values (no Streamlit here).

The app keeps the current design as TOML text; these functions apply the user's edits and
run the planner (the tables it shows are :mod:`planner.tables`). Keeping them free of Streamlit lets the
app stay a thin layer and lets them be tested like any other code.
"""

from __future__ import annotations

from typing import Any

from planner import tables
from planner.design import MARGIN_RULES, Design, design_to_toml, parse_design_text
from planner.engine import evaluate
from planner.resources import examples_dir
from planner.results import Evaluation

__all__ = ["example_designs", "apply_edits", "DEFAULT_EXAMPLE", "MAX_PINNED"]

DEFAULT_EXAMPLE = "zimislecel_single_arm.toml"


def example_designs() -> dict[str, str]:
    """The shipped example designs: file name -> TOML text (the default first)."""
    files = sorted(examples_dir().glob("*.toml"), key=lambda f: (f.name != DEFAULT_EXAMPLE, f.name))
    return {f.name: f.read_text() for f in files}


SIMS_CHOICES = (2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000)  # the app's simulation-count choices


def short_hash(text: str) -> str:
    """A short stable digest of a text (widget keys that follow their content)."""
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:12]


def widget_defaults(design: Design) -> dict[str, Any]:
    """The value of every Design-page field for ``design``: the app sets them when a design is loaded, so every
    field shows the design the user chose (rule, threshold, priors and interim included)."""
    an = design.analysis
    out: dict[str, Any] = {
        "w_n": design.arms.n,
        "w_dropout": float(design.dropout.rate),
        "w_strategy": design.dropout.strategy,
        "w_rule": an.rule,
        "w_alpha": float(an.alpha),
        "w_threshold": float(an.threshold or 0.975),
        "w_interim": "none" if design.interim is None else "one interim look",
        "w_fraction": float(design.interim.fractions[0]) if design.interim else 0.5,
        "w_futility": bool(design.interim and design.interim.futility != "none"),
        "w_sims": max(
            [c for c in SIMS_CHOICES if c <= min(20_000, design.simulation.n_sims)] or [SIMS_CHOICES[0]]
        ),
        "w_target_mcse": design.simulation.target_mcse,
    }
    if design.randomized:
        out["w_alloc"] = float(design.arms.allocation[0] / design.arms.allocation[1])
    if an.performance_goal is not None:
        out["w_goal"] = float(an.performance_goal)
    ep = design.endpoint
    if ep.kind == "time-to-event":
        out["w_tte_dropout"] = float(ep.dropout_probability)
        if ep.events is not None:
            out["w_events"] = int(ep.events)
        else:
            out["w_follow_up"] = float(ep.follow_up)
    if ep.kind in ("time-to-event", "count") and getattr(ep, "accrual_time", None) is not None:
        out["w_accrual"] = float(ep.accrual_time)
    if design.randomized:
        out["w_margin"] = None if an.margin is None else float(an.margin)
    prior = design.design_prior.treatment if design.design_prior is not None else None
    if prior is not None and prior.family == "fitted":
        out["w_a0"] = float(prior.a0)
        out["w_robust"] = float(prior.robust_weight)
    return out


def scenario_columns(design: Design) -> list[str]:
    """The scenario table's columns: name, treatment (and control if randomized); a single-arm time-to-event
    design adds the durable fraction and, when the time starts at the response, the probability of responding."""
    columns = ["name", "treatment"] + (["control"] if design.randomized else [])
    ep = design.endpoint
    if ep.kind == "time-to-event" and not design.randomized:
        columns.append("durable")
        if ep.time_origin == "response":
            columns.append("responders")
    if ep.kind == "continuous" and design.multiple is None:  # blank: the endpoint's sd
        columns.append("sd")
        if design.randomized and design.analysis.rule != "ancova" and design.interim is None:
            columns.append("control_sd")
    return columns


def scenario_rows(design: Design) -> list[dict[str, Any]]:
    """The scenario table the Design page shows for ``design`` (columns: :func:`scenario_columns`)."""
    columns = scenario_columns(design)
    rows = []
    for sc in design.scenarios:
        row: dict[str, Any] = {"name": sc.name, "treatment": sc.treatment}
        if "control" in columns:
            row["control"] = sc.control
        if "durable" in columns:
            row["durable"] = None if sc.durable is None else sc.durable[0]
        if "responders" in columns:
            row["responders"] = sc.responders
        if "sd" in columns:
            row["sd"] = sc.sd
        if "control_sd" in columns:
            row["control_sd"] = sc.control_sd
        rows.append(row)
    return rows


def apply_table_edits(rows: list[dict[str, Any]], delta: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows after a data editor's edits (Streamlit's ``edited_rows`` / ``added_rows`` / ``deleted_rows``, whose
    indices are positions in ``rows``)."""
    edited = [dict(row) for row in rows]
    for index, changes in (delta.get("edited_rows") or {}).items():
        edited[int(index)].update(changes)
    deleted = {int(i) for i in delta.get("deleted_rows") or ()}
    columns = list(rows[0]) if rows else ["name", "treatment"]
    added = [{c: row.get(c) for c in columns} for row in delta.get("added_rows") or ()]
    return [row for i, row in enumerate(edited) if i not in deleted] + added


def field_rule(design: Design, values: dict[str, Any]) -> str:
    """The decision rule the Design page's fields choose (the design's own where the page offers no choice)."""
    return values["w_rule"] if design.interim is None and design.multiple is None else design.analysis.rule


def shown_fields(design: Design, rule: str) -> set[str]:
    """The Design page's optional fields shown for ``design`` when its rule is ``rule`` (a field is shown only
    where the design has what it edits)."""
    from planner.rules.catalog import RULES

    info = RULES[rule]
    shown = set()
    if design.randomized:
        shown.add("w_alloc")
    if design.interim is None and design.multiple is None:
        shown.add("w_rule")
    if design.analysis.performance_goal is not None:
        shown.add("w_goal")
    if design.rule_info.bayesian or rule == "posterior-probability":
        shown.add("w_threshold")
    prior = design.design_prior.treatment if design.design_prior is not None else None
    if prior is not None and prior.family == "fitted":
        shown |= {"w_a0", "w_robust"}
    if design.endpoint.kind == "time-to-event":
        shown.add("w_tte_dropout")
        shown.add("w_events" if design.endpoint.events is not None else "w_follow_up")
    else:
        shown.add("w_dropout")
    if getattr(design.endpoint, "accrual_time", None) is not None:
        shown.add("w_accrual")
    if design.randomized and rule in MARGIN_RULES and design.reestimation is None:
        shown.add("w_margin")
    if info.sequential or (info.bayesian and design.endpoint.kind != "count"):
        shown.add("w_interim")
    return shown


def _number(value: Any) -> Any:
    """A table cell as a float where it is a number; anything else is left for the design's checks to name."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def edits_from_fields(
    design: Design, values: dict[str, Any], rows: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """The edits (dotted paths -> values) the Design page's fields make to ``design``.

    ``values`` holds the fields' values by widget key (see :func:`widget_defaults`); ``rows`` the scenario table
    when the user edited it (None: the design's own scenarios). Empty-named rows are ignored; ``interim`` None
    removes the design's interim looks.
    """
    from planner.rules.catalog import RULES

    rule = field_rule(design, values)
    shown = shown_fields(design, rule)
    edits: dict[str, Any] = {"arms.n": values["w_n"], "analysis.alpha": values["w_alpha"]}
    if "w_target_mcse" in values:  # empty: the number of trials of the slider
        edits["simulation.target_mcse"] = values["w_target_mcse"]
    if "w_dropout" in shown:
        edits["dropout.rate"] = values["w_dropout"]
        edits["dropout.strategy"] = values["w_strategy"]
    for key, path in (
        ("w_tte_dropout", "endpoint.dropout_probability"),
        ("w_events", "endpoint.events"),
        ("w_follow_up", "endpoint.follow_up"),
        ("w_accrual", "endpoint.accrual_time"),
    ):
        if key in shown:
            edits[path] = values[key]
    if "w_alloc" in shown:
        edits["arms.allocation"] = [values["w_alloc"], 1.0]
    if "w_rule" in shown:
        edits["analysis.rule"] = rule
        if design.analysis.margin is not None and rule not in MARGIN_RULES:
            edits["analysis.margin"] = (
                None  # a rule without a margin: the design's margin goes with the old rule
            )
    if "w_margin" in shown:  # an empty field: no margin (a superiority test)
        edits["analysis.margin"] = values.get("w_margin")
    if "w_goal" in shown:
        edits["analysis.performance_goal"] = values["w_goal"]
    if "w_threshold" in shown:
        edits["analysis.threshold"] = values["w_threshold"]
    if "w_a0" in shown:
        edits["design_prior.treatment.a0"] = values["w_a0"]
        edits["design_prior.treatment.robust_weight"] = values["w_robust"]
    if "w_interim" in shown:
        if values["w_interim"] == "none":
            if design.interim is not None:
                edits["interim"] = None
        else:
            futility = bool(values["w_futility"])
            kept = design.interim.model_dump(mode="json", exclude_none=True) if design.interim else {}
            if len(kept.get("fractions", [0, 1])) != 2:
                kept = {}  # the one-look editor replaces a design with several looks
            futility_kind = (
                ("predictive-probability" if RULES[rule].bayesian else "conditional-power")
                if futility
                else "none"
            )
            if futility and kept.get("futility", "none") != "none":
                futility_kind = kept["futility"]  # keep the design's own futility rule
            kept = {k: v for k, v in kept.items() if futility or k not in ("futility_counts", "binding")}
            edits["interim"] = (
                kept
                | {"fractions": [values["w_fraction"], 1.0], "futility": futility_kind}
                | ({"futility_threshold": kept.get("futility_threshold", 0.1)} if futility else {})
            )
    if rows is not None:
        columns = scenario_columns(design)
        originals = {sc.name: sc.model_dump(exclude_none=True) for sc in design.scenarios}
        scenarios = []
        for row in rows:
            if not row.get("name"):
                continue
            # what the table does not show (an sd, a randomized design's durable fractions) stays as the
            # design's scenario of that name has it
            item = {k: v for k, v in originals.get(str(row["name"]), {}).items() if k not in columns}
            item |= {"name": str(row["name"]), "treatment": _number(row.get("treatment"))}
            for column in columns[2:]:
                value = row.get(column)
                if value is None or value != value:  # blank (NaN): not stated
                    continue
                item[column] = [_number(value)] if column == "durable" else _number(value)
            scenarios.append(item)
        if scenarios:
            edits["scenarios"] = scenarios
    return edits


REMOVABLE = ("interim", "analysis.margin", "simulation.target_mcse")  # edits whose None removes the part


def apply_edits(base_toml: str, edits: dict[str, Any]) -> Design:
    """The base design with the user's edits (dotted paths) applied and validated; None at one of
    :data:`REMOVABLE` removes that part (the interim looks, the margin), any other None is no edit."""
    design = parse_design_text(base_toml, origin="design")
    clean = {k: v for k, v in edits.items() if v is not None or k in REMOVABLE}
    return design.with_changes(clean) if clean else design


def evaluate_toml(toml_text: str, n_sims: int, seed: int) -> Evaluation:
    """The design's evaluation; with simulation.target_mcse, as many trials as the target needs (up to the
    design's n_sims, the cap) instead of ``n_sims``."""
    design = parse_design_text(toml_text)
    if design.simulation.target_mcse is not None:
        from planner.engine import evaluate_to_precision

        return evaluate_to_precision(design, design.simulation.target_mcse, seed=seed)
    return evaluate(design, n_sims=n_sims, seed=seed)


def to_toml(design: Design) -> str:
    return design_to_toml(design)


# --- design comparison ------------------------------------------------------------------------------

MAX_PINNED = 4


def warm_up() -> float:
    """Import and exercise what the app's first page uses (tables, charts, the default design's evaluation and
    curves), so that the server pays these costs when it starts rather than its first visitor. Seconds taken."""
    import time

    began = time.perf_counter()
    from planner.plots import curve_chart, curve_frame, svg
    from planner.search import power_curve

    design = parse_design_text(example_designs()[DEFAULT_EXAMPLE])
    tables.results_table(evaluate(design, n_sims=2_000, seed=design.simulation.seed))
    metric = "assurance" if design.design_prior is not None else "power"
    points = power_curve(
        design,
        (design.arms.n,),
        metric=metric,
        scenario=None if metric == "assurance" else design.scenarios[-1].name,
        n_sims=2_000,
        seed=design.simulation.seed,
    )
    svg(
        curve_chart(curve_frame(points, metric), metric, current_n=design.arms.n)
    )  # starts vl-convert's engine
    return time.perf_counter() - began
