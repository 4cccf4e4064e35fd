"""The tables of the planner, one source for the CLI (rich tables), the app (DataFrames) and the report (HTML):
the result rows as plain data (values stay numbers, None where a cell does not apply; each front end formats
them), and as DataFrames the results, the evidence, the fitted priors and the comparison of pinned designs.
pandas is imported only where a DataFrame is built (the CLI renders the plain rows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from planner.results import Evaluation

if TYPE_CHECKING:
    from pandas import DataFrame

    from planner.design import Design

__all__ = [
    "result_rows",
    "stage_rows",
    "multiple_rows",
    "method_text",
    "human",
    "cell_text",
    "display_frame",
    "results_table",
    "stages_table",
    "multiple_table",
    "results_csv",
    "evidence_table",
    "fitted_table",
    "prior_axis_title",
    "survival_curves",
    "survival_curve_frame",
    "prior_mixtures",
    "comparison_table",
    "comparison_csv",
    "decision_text",
    "zone_rows",
    "zone_table",
]


def method_text(estimate: Any) -> str:
    """'exact', or the number of simulated trials behind a Monte Carlo figure."""
    return "exact" if estimate.exact else f"{estimate.n_sims:,} simulations"


def result_rows(result: Evaluation) -> list[dict[str, Any]]:
    """One row per scenario (and one for the assurance): truth, estimand, measure, P(success), MCSE, E[N]."""
    rows = []
    for r in result.results:
        rows.append(
            {
                "scenario": r.scenario.name,
                "treatment": r.scenario.treatment,
                "control": r.scenario.control,
                "estimand": tuple(r.estimand),
                "measure": r.label,
                "P(success)": r.success.value,
                "MCSE": r.success.mcse,
                "exact": r.success.exact,
                "expected N": r.expected_n,
                "method": method_text(r.success),
            }
        )
        if r.survival is not None:  # time to event: what the analysis where each trial stopped sees
            s = r.survival
            rows[-1] |= {
                "expected events": s.expected_events,
                "expected events MCSE": s.expected_events_mcse,
                "expected analysis time": s.expected_time,
                "expected analysis time MCSE": s.expected_time_mcse,
            }
    if result.assurance is not None:
        a = result.assurance
        rows.append(
            {
                "scenario": "Assurance (design prior)",
                "treatment": None,
                "control": None,
                "estimand": (),
                "measure": "assurance",
                "P(success)": a.value,
                "MCSE": a.mcse,
                "exact": a.exact,
                "expected N": None if result.design.interim else float(result.design.arms.n),
                "method": method_text(a),
            }
        )
    return rows


def stage_rows(result: Evaluation) -> list[dict[str, Any]] | None:
    """Per scenario: P(stop for efficacy) and P(stop for futility; at the last look, fail) at each look (keyed by
    the look's label), early success, early futility stop, rejection ignoring futility, E[N]. None for fixed
    designs."""
    if result.results[0].stages is None:
        return None
    rows = []
    for r in result.results:
        s = r.stages
        assert s is not None  # every scenario of a sequential design has stages
        row: dict[str, Any] = {"scenario": r.scenario.name}
        for label, e, f in zip(s.boundaries["labels"], s.efficacy_stop, s.futility_stop, strict=True):
            row[f"{label}: efficacy"] = e.value
            row[f"{label}: futility/fail"] = f.value
        row.update(
            {
                "early success": s.early_success.value,
                "futility stop": s.futility_stop_early.value,
                "reject if futility ignored": s.reject_ignoring_futility.value,
                "expected N": r.expected_n,
                "max MCSE": max(e.mcse for e in (*s.efficacy_stop, *s.futility_stop)),
                "exact": all(e.exact for e in s.efficacy_stop),
            }
        )
        rows.append(row)
    return rows


def multiple_rows(result: Evaluation) -> list[dict[str, Any]] | None:
    """Per scenario of a [multiple] design: P(rejected) per hypothesis after the procedure and alone, all
    rejected, and the largest MCSE. None when no scenario has them."""
    rows = []
    for r in result.results:
        if r.multiple is None:
            continue
        row: dict[str, Any] = {"scenario": r.scenario.name}
        for h, a, u in zip(r.multiple.hypotheses, r.multiple.power, r.multiple.unadjusted, strict=True):
            row[f"{h}: adjusted"] = a.value
            row[f"{h}: alone"] = u.value
        row["all rejected"] = r.multiple.all_rejected.value
        row["max MCSE"] = max(e.mcse for e in (*r.multiple.power, r.multiple.all_rejected))
        rows.append(row)
    return rows or None


def _frame(rows: Any, columns: list[str] | None = None) -> DataFrame:
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)


def human(name: str) -> str:
    """An identifier as words: 'insulin_independence' -> 'insulin independence'."""
    return str(name).replace("_", " ")


ONE_DECIMAL = ("expected N", "E[N]", "ESS", "N")  # columns shown to one decimal
FOUR_SIGNIFICANT = (  # design inputs, shown as written (to 4 significant digits)
    "treatment",
    "control",
    "performance goal",
    "dropout rate",
    "design prior a0",
    "analysis prior a0",
    "alpha",
    "mean",
    "sd",
)


def cell_text(column: str, value: Any) -> str:
    """A table cell as people read it (the report's and the app's tables): a dash where it does not apply,
    yes/no, integers with thousands separators, probabilities and MCSE to 4 decimals, expected N and ESS to 1,
    design inputs to 4 significant digits."""
    import math

    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "\u2013"  # does not apply
    if type(value).__name__ in ("bool", "bool_"):
        return "yes" if value else "no"
    if isinstance(value, int) or type(value).__name__.startswith(("int", "uint")):
        return f"{int(value):,}"
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        value = float(value)
        if not math.isfinite(value):
            return "\u2013"
        if column == "bulk ESS":
            return f"{value:,.0f}"
        if any(column.startswith(c) for c in ONE_DECIMAL):
            return f"{value:.1f}"
        if column == "R-hat":
            return f"{value:.3f}"
        if column in FOUR_SIGNIFICANT:
            return f"{value:.4g}"
        return f"{value:.4f}"
    return str(value)


def display_frame(frame: DataFrame) -> DataFrame:
    """``frame`` as text cells (``cell_text``) under human column names: a table to show, not to compute on."""
    import pandas as pd

    return pd.DataFrame(
        [
            [cell_text(c, v) for c, v in zip(frame.columns, row, strict=True)]
            for row in frame.itertuples(index=False)
        ],
        columns=[human(c) for c in frame.columns],
    )


APP_RESULT_COLUMNS = [
    "scenario",
    "treatment",
    "control",
    "measure",
    "P(success)",
    "MCSE",
    "expected N",
    "method",
]


def results_table(result: Evaluation) -> DataFrame:
    """The operating characteristics (planner.tables.result_rows) as a DataFrame."""
    return _frame(result_rows(result), APP_RESULT_COLUMNS)


def stages_table(result: Evaluation) -> DataFrame | None:
    """Stopping probabilities per look (planner.tables.stage_rows) as a DataFrame."""
    rows = stage_rows(result)
    return None if rows is None else _frame(rows).drop(columns=["max MCSE", "exact"])


def multiple_table(result: Evaluation) -> DataFrame | None:
    """Power per hypothesis after the multiple testing procedure (designs with a [multiple] section)."""
    rows = multiple_rows(result)
    return None if rows is None else _frame(rows)


def results_csv(result: Evaluation) -> str:
    table = results_table(result)
    table["seed"] = result.seed
    table["design_hash"] = result.design_hash
    return str(table.to_csv(index=False))


def evidence_table() -> DataFrame:
    """The phase 1/2 and historical numbers with their sources (priors/evidence.toml)."""
    import tomllib

    from planner.resources import priors_dir

    data = tomllib.loads((priors_dir() / "evidence.toml").read_text())
    sources = data["sources"]
    rows = []
    for key, value in data["phase12"].items():
        if isinstance(value, dict):
            for field, v in value.items():
                if field != "source":
                    rows.append(
                        {
                            "study": "FORWARD phase 1/2",
                            "measure": f"{human(key)}: {human(field)}",
                            "value": ", ".join(str(x) for x in v) if isinstance(v, list) else str(v),
                            "source": sources[value.get("source", "forward")],
                        }
                    )
    for h in data["historical"]:
        rows.append(
            {
                "study": h["study"],
                "measure": h["endpoint"],
                "value": f"{h['responders']}/{h['n']}",
                "source": sources[h["source"]],
            }
        )
    for r in data.get("durability", ()):
        rows.append(
            {
                "study": r["study"],
                "measure": f"durability: {r['endpoint']} (still / at risk over {r['years']:g} years)",
                "value": f"{r['still']}/{r['at_risk']}",
                "source": sources[r["source"]],
            }
        )
    for name, anchor in data.get("durability_anchor", {}).items():
        rows.append(
            {
                "study": human(name),
                "measure": "median duration of insulin independence, months (IQR); not in the fitted prior",
                "value": f"{anchor['median_months']:g} ({anchor['iqr_months'][0]:g}-{anchor['iqr_months'][1]:g})",
                "source": sources[anchor["source"]],
            }
        )
    return _frame(rows)


SURVIVAL_QUANTITIES = {
    "power": ("power", "power_mcse"),
    "E[analysis time]": ("expected_time", "expected_time_mcse"),
    "E[events]": ("expected_events", "expected_events_mcse"),
}


def survival_curve_frame(points: tuple[Any, ...], x: str, quantity: str) -> DataFrame:
    """One quantity of :func:`planner.search.survival_curve` points (power, E[analysis time], E[events]) over
    ``x`` (events or N), with its MCSE and 95% Monte Carlo band."""
    value, mcse = SURVIVAL_QUANTITIES[quantity]
    rows: list[dict[str, Any]] = []
    for p in points:
        v, se = getattr(p, value), getattr(p, mcse)
        low, high = v - 1.96 * se, v + 1.96 * se
        if quantity == "power":
            low, high = max(low, 0.0), min(high, 1.0)
        rows.append({x: p.at, quantity: v, "MCSE": se, "low": low, "high": high})
    return _frame(rows, [x, quantity, "MCSE", "low", "high"])


def survival_curves(design: Design, points: int = 201) -> DataFrame:
    """Each scenario's survival function per arm (time, survival: the probability of no event yet), from the
    endpoint's model with the scenario's median and durable fraction, from 0 to the analysis time (fixed
    follow-up) or to three times the longest median (event-driven)."""
    import numpy as np

    from planner.design import TimeToEventEndpoint
    from planner.endpoints.time_to_event import accrual_of
    from planner.time_to_event.models import endpoint_model

    ep = design.endpoint
    if not isinstance(ep, TimeToEventEndpoint):
        raise TypeError(f"survival curves need a time-to-event endpoint, got {ep.kind!r}")
    medians = [v for s in design.scenarios for v in (s.treatment, s.control) if v is not None]
    if ep.follow_up is not None:
        horizon = accrual_of(ep).duration + ep.follow_up
    else:
        horizon = 3.0 * max(medians)
    if design.analysis.landmark is not None:
        horizon = max(horizon, 1.5 * design.analysis.landmark)
    time = np.linspace(0.0, horizon, points)
    rows: list[dict[str, Any]] = []
    for s in design.scenarios:
        arms = [("treatment", s.treatment)] + ([("control", s.control)] if s.control is not None else [])
        for a, (arm, median) in enumerate(arms):
            durable = 0.0 if s.durable is None else s.durable[a]
            survival = endpoint_model(ep, median, durable).survival(time)
            rows.extend(
                {"scenario": s.name, "arm": arm, "time": t, "survival": float(v)}
                for t, v in zip(time, survival, strict=True)
            )
    return _frame(rows)


def fitted_table() -> DataFrame:
    """The stored fitted priors: mixture, mean and sd, ESS, convergence diagnostics."""
    from planner.artifacts import load_fitted

    rows = []
    for name, a in load_fitted().items():
        e = a.info.get("ess", {})
        mixture = " + ".join(
            f"{w:.2f} {a.family.capitalize()}({p1:.3g}, {p2:.3g})" for w, p1, p2 in a.mixture.components()
        )
        what = a.description + (
            f" (heterogeneity tau ~ HalfNormal({a.info['tau_scale']:g}))" if "tau_scale" in a.info else ""
        )
        rows.append(
            {
                "prior": name,
                "what": what,
                "model": a.info.get("model", ""),
                "mixture": mixture,
                "family": a.family,
                "mean": a.mixture.mean(),
                "sd": a.mixture.var() ** 0.5,
                "ESS (ELIR)": e.get("elir"),
                "ESS (Morita)": e.get("morita"),
                "ESS (moment)": e.get("moment"),
                "stored as": a.info.get("approximation", {}).get("method", ""),
                "R-hat": a.info["diagnostics"]["rhat_max"],
                "bulk ESS": a.info["diagnostics"]["ess_bulk_min"],
            }
        )
    return _frame(rows)


def prior_axis_title(design: Design) -> str:
    """What the plotted priors are densities of."""
    ep = design.endpoint
    if ep.kind == "binary":
        return "response rate"
    if ep.kind == "time-to-event":
        return f"hazard per {ep.time_unit.removesuffix('s')}"
    return ep.label


def prior_mixtures(design: Design) -> dict[str, object]:
    """The analysis and design priors of a design, resolved, for plotting."""
    from planner.priors import prior_roles, resolve_role

    ref = getattr(design.endpoint, "sd", None)
    roles = prior_roles(design)
    out: dict[str, object] = {}
    for role in (
        "analysis prior",
        "analysis prior (treatment)",
        "design prior (treatment)",
        "design prior (treatment hazard)",
    ):
        if role in roles:
            spec, unit = roles[role]
            out[role] = resolve_role(spec, unit, reference_sd=ref)
    return out


def comparison_table(pinned: list[tuple[str, Evaluation]]) -> DataFrame:
    """Pinned designs side by side, one row each: N, rule, maximum type I error, assurance, expected N and the
    power of every scenario, each probability with its Monte Carlo SE (0 when exact)."""
    rows = []
    for label, result in pinned:
        d = result.design
        check = result.type_one_error
        row: dict[str, Any] = {
            "design": label,
            "N": d.arms.n,
            "rule": d.analysis.rule,
            "looks": 1 if d.interim is None else len(d.interim.fractions),
            "alpha": d.analysis.alpha,
            "max type I error": None if check is None else check.value,
            "max type I error MCSE": None if check is None else check.mcse,
            "above alpha": None if check is None else bool(check.exceeds),
        }
        if result.assurance is not None:
            row["assurance"] = result.assurance.value
            row["assurance MCSE"] = result.assurance.mcse
        for r in result.results:
            if not r.is_null:
                row[f"power: {r.scenario.name}"] = r.success.value
                row[f"power MCSE: {r.scenario.name}"] = r.success.mcse
        alternatives = [r for r in result.results if not r.is_null]
        row["expected N (first alternative)"] = alternatives[0].expected_n if alternatives else None
        rows.append(row)
    return _frame(rows)


def comparison_csv(pinned: list[tuple[str, Evaluation]]) -> str:
    table = comparison_table(pinned)
    table["design hash"] = [r.design_hash for _, r in pinned]
    table["seed"] = [r.seed for _, r in pinned]
    return str(table.to_csv(index=False))


def decision_text(design: Design) -> list[str]:
    """The Go and No-Go rules of a design's [decision] section, in words."""
    decision = design.decision
    if decision is None:
        return []
    lower = getattr(design.endpoint, "better", "higher") == "lower"
    if design.randomized and design.endpoint.kind == "time-to-event":
        lower = True  # a hazard ratio below a value is benefit
    beyond, short = ("below", "above") if lower else ("above", "below")
    if design.randomized:
        effect = {
            "count": "the rate ratio (treatment / control)",
            "time-to-event": "the hazard ratio (treatment / control)",
        }.get(design.endpoint.kind, "the difference (treatment - control)")
    else:
        effect = {
            "binary": "the response rate",
            "continuous": "the mean",
            "time-to-event": "the median time to the event",
            "count": "the event rate",
        }.get(design.endpoint.kind, "the effect")

    def conditions(items: Any, side: str) -> str:
        return " and ".join(f"P({effect} {side} {c.value:g} | data) > {c.probability:g}" for c in items)

    return [
        f"Go: {conditions(decision.go, beyond)}.",
        f"No-Go (when not Go): {conditions(decision.no_go, short)}.",
        "Consider: neither.",
    ]


def zone_rows(rows: Any) -> list[dict[str, Any]]:
    """P(Go), P(Consider), P(No-Go) with their MCSEs per scenario (planner.decisions.decision_zones)."""
    return [
        {
            "scenario": r.name,
            "P(Go)": r.go.value,
            "P(Consider)": r.consider.value,
            "P(No-Go)": r.no_go.value,
            "MCSE": max(r.go.mcse, r.consider.mcse, r.no_go.mcse),
        }
        for r in rows
    ]


def zone_table(rows: Any) -> DataFrame:
    return _frame(zone_rows(rows))


def drift_rows(points: Any) -> list[dict[str, Any]]:
    """The drift table (planner.borrowing.drift_table): exact, so no MCSE column."""
    return [
        {
            "true control rate": r.control,
            "type I error": r.type_one_error,
            "power": r.power,
            "P(prior-data conflict)": r.conflict,
            "borrowed (ESS)": r.borrowed,
        }
        for r in points
    ]


def drift_frame(points: Any) -> DataFrame:
    return _frame(drift_rows(points))


def reestimation_rows(result: Evaluation) -> list[dict[str, Any]] | None:
    """Per scenario of a [reestimation] design: P(success), E[N], P(increase) and quantiles of the final N."""
    if result.design.reestimation is None:
        return None
    from planner.adaptive import n_quantile

    rows = []
    for r in result.results:
        oc = r.reestimation
        rows.append(
            {
                "scenario": r.scenario.name,
                "P(success)": r.success.value,
                "E[N]": oc.expected_n,
                "P(increase)": oc.p_increase,
                "median N": n_quantile(oc, 0.5),
                "90th percentile N": n_quantile(oc, 0.9),
                "largest N": max(n for n, p in oc.n_distribution.items() if p > 0.0),
            }
        )
    return rows


def reestimation_table(result: Evaluation) -> DataFrame | None:
    rows = reestimation_rows(result)
    return None if rows is None else _frame(rows)


def stage_outcome_rows(rows: Any) -> list[dict[str, Any]]:
    """planner.stages.stage_outcomes as table rows: per scenario, each way the trial can end, E[N], the
    flip-flops and the largest MCSE."""
    out = []
    for r in rows:
        k = len(r.efficacy)
        row: dict[str, Any] = {"scenario": r.name}
        for i in range(k - 1):
            row[f"efficacy stop, look {i + 1}"] = r.efficacy[i].value
            row[f"futility stop, look {i + 1}"] = r.futility[i].value
        row["final success"] = r.efficacy[-1].value
        row["final failure"] = r.futility[-1].value
        row["E[N]"] = r.expected_n
        if r.futility_then_success is not None:
            row["futility stop, then success had it continued"] = sum(r.futility_then_success)
            row["efficacy stop, then final failure"] = sum(r.efficacy_then_failure or ())
        row["MCSE"] = max(e.mcse for e in (*r.efficacy, *r.futility))
        out.append(row)
    return out


def stage_outcome_table(rows: Any) -> DataFrame:
    return _frame(stage_outcome_rows(rows))
