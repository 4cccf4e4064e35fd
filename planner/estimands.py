"""The estimand of a design (ICH E9(R1)) in words: its attributes and intercurrent events, for the report and
the app (one table, computed from the design's fields)."""

from __future__ import annotations

from typing import Any

from planner.design import Design

__all__ = ["estimand_rows", "time_to_event_estimand"]


def time_to_event_estimand(ep: Any) -> str:
    """Where the time starts, who is analysed, and how dropouts count."""
    origin = (
        f"time from the onset of the response ({ep.onset_time:g} {ep.time_unit} after entry), responders only"
        if ep.time_origin == "response"
        else "time from entry"
    )
    return (
        f"{origin}; dropouts censored (probability {ep.dropout_probability:g} by {ep.dropout_time:g} "
        f"{ep.time_unit})"
    )


def estimand_rows(design: Design) -> list[tuple[str, str]]:
    """The estimand's attributes as ICH E9(R1) lists them, from the design's fields."""
    ep, an, d = design.endpoint, design.analysis, design.dropout
    if d.rate == 0.0:
        events = "none assumed (dropout rate 0): every participant is analysed as observed"
    elif d.strategy == "failure":
        value = (
            "a non-responder"
            if ep.kind == "binary"
            else f"the failure value {getattr(ep, 'failure_value', '')}"
        )
        events = (
            f"dropout and intercurrent events (e.g. resuming insulin, graft loss), probability {d.rate:g} by the "
            f"analysis: composite strategy -- the participant counts as {value}"
        )
    else:
        events = (
            f"dropout (probability {d.rate:g}): the completers are analysed, dropout assumed missing "
            "completely at random"
        )
    if ep.kind == "time-to-event":
        events = (
            f"dropout (probability {ep.dropout_probability:g} by {ep.dropout_time:g} {ep.time_unit}): censored at "
            "dropout, assumed non-informative; participants without the event at the analysis are censored then"
        )
    if design.randomized:
        measure = {
            "time-to-event": "hazard ratio, treatment over control ("
            + ("Cox model, Wald test" if an.rule == "cox" else "log-rank test")
            + "; below 1 is benefit)",
            "binary": "difference in response proportions, treatment minus control",
            "continuous": "difference in means, treatment minus control",
            "count": "ratio of event rates, treatment over control",
        }[ep.kind]
    elif ep.kind == "time-to-event":
        measure = single_arm_survival_measure(design)
    else:
        measure = {
            "binary": f"proportion of responders, against the performance goal {an.performance_goal:g}",
            "continuous": f"mean, against the performance goal {an.performance_goal:g}",
            "count": f"event rate, against the performance goal {an.performance_goal:g}",
        }[ep.kind]
    responders = ep.kind == "time-to-event" and ep.time_origin == "response"
    stated = design.estimand
    population = (
        "participants enrolled by the protocol's eligibility criteria"
        + (" and randomized" if design.randomized else "")
        + (
            ", who respond (become insulin independent): the time starts at the response"
            if responders
            else ""
        )
    )
    rows = [
        ("population", stated.population if stated and stated.population else population),
        ("treatment", "zimislecel" + (" versus standard care" if design.randomized else "")),
        ("variable (endpoint)", stated.variable if stated and stated.variable else ep.label),
    ]
    for ev in stated.intercurrent_events if stated else ():
        rows.append((f"intercurrent event: {ev.name}", _event_text(ev)))
    if stated and stated.intercurrent_events:
        theta = design.intercurrent_response
        rows.append(
            (
                "what the analysis estimates",
                "among the analysed participants, the response probability "
                + "; ".join(
                    f"{theta(sc.treatment)[0]:.4f} when {sc.name!r} says {sc.treatment:g}"
                    + (
                        f" (control {theta(sc.control)[0]:.4f} for {sc.control:g})"
                        if sc.control is not None
                        else ""
                    )
                    for sc in design.scenarios
                ),
            )
        )
    rows.append(
        (
            "dropout (missing data)"
            if stated and stated.intercurrent_events
            else "intercurrent events and strategy",
            events,
        )
    )
    rows.append(("population-level summary", stated.summary if stated and stated.summary else measure))
    return rows


def _event_text(ev: Any) -> str:
    """One intercurrent event, its probability and strategy, in words."""
    what = {
        "composite": "composite -- the participant counts as a non-responder",
        "treatment-policy": f"treatment policy -- the outcome is observed anyway (responds with probability {ev.response:g})"
        if ev.response is not None
        else "treatment policy",
        "while-on-treatment": f"while on treatment -- the outcome up to the event (responds with probability {ev.response:g})"
        if ev.response is not None
        else "while on treatment",
        "hypothetical": "hypothetical -- the outcome had it not occurred, imputed under MAR from the analysed participants",
    }[ev.strategy]
    return f"probability {ev.probability:g}; {what}"


def single_arm_survival_measure(design: Design) -> str:
    an, unit = design.analysis, design.endpoint.time_unit
    if an.rule == "km-landmark":
        return (
            f"Kaplan-Meier survival at {an.landmark:g} {unit}, against the performance goal "
            f"{an.performance_goal:g}"
        )
    if an.rule == "exponential-posterior":
        ep = design.endpoint
        model = (
            "a piecewise-exponential model (relative hazards "
            + ", ".join(f"{r:g}" for r in ep.relative_hazards)
            + f" from {', '.join(f'{c:g}' for c in ep.cuts)} {unit}; unknown scale)"
            if ep.model == "piecewise-exponential"
            else "an exponential model"
        )
        return (
            f"median time to the event under {model}, against the performance goal "
            f"{an.performance_goal:g} {unit} (posterior probability)"
        )
    return (
        f"time to the event against a reference distribution with median {an.performance_goal:g} {unit} "
        "(one-sample log-rank)"
    )
