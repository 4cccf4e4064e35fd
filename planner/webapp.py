"""The planner in a browser: `planner app` (or `scripts/run`, or `streamlit run app.py` in a checkout).

A thin router over the planner's public API: widgets -> a design -> planner -> tables and
charts. No statistics here. The current design lives in the session as TOML text; a bad
upload or a bad edit shows an error and leaves the last good design in place.
"""

from __future__ import annotations

import math

import streamlit as st

from planner import DesignError, parse_design_text, tables, ui
from planner.rules.catalog import RULES, rules_for

MAX_APP_SIMS = ui.SIMS_CHOICES[-1]
CHART_WIDTH = 640  # pixels of the charts' SVG; the image then scales to its column
MAX_CARDS = 5  # three powers, the assurance and the type I error


def show_chart(chart) -> None:
    """A chart as an SVG image (planner.plots.svg, as in the report): the page needs no charting code in the
    browser, which keeps the first view quick to draw."""
    from planner.plots import svg

    st.image(svg(chart, width=CHART_WIDTH), width="stretch")


def show_table(frame) -> None:
    """A small table as text, formatted as in the report (planner.tables.display_frame)."""
    st.table(tables.display_frame(frame), hide_index=True)


# --- cached calls into the planner (arguments are plain values; bounded caches) -------------------
@st.cache_data(max_entries=64, show_spinner=False)
def run_evaluation(toml_text: str, n_sims: int, seed: int):
    return ui.evaluate_toml(toml_text, n_sims, seed)


@st.cache_data(max_entries=32, show_spinner=False)
def run_curve(toml_text: str, ns: tuple[int, ...], metric: str, scenario: str | None, n_sims: int, seed: int):
    from planner.search import power_curve

    return power_curve(
        parse_design_text(toml_text), ns, metric=metric, scenario=scenario, n_sims=n_sims, seed=seed
    )


@st.cache_data(max_entries=32, show_spinner=False)
def run_survival_curve(
    toml_text: str, over: str, values: tuple[int, ...], scenario: str, n_sims: int, seed: int
):
    from planner.search import survival_curve

    return survival_curve(
        parse_design_text(toml_text), over, values, scenario=scenario, n_sims=n_sims, seed=seed
    )


@st.cache_data(max_entries=32, show_spinner=False)
def run_zones(toml_text: str, n_sims: int, seed: int):
    from planner.decisions import decision_zones

    return decision_zones(parse_design_text(toml_text), n_sims=n_sims, seed=seed)


@st.cache_data(max_entries=16, show_spinner=False)
def run_drift(toml_text: str):
    from planner.borrowing import drift_defaults, drift_table

    design = parse_design_text(toml_text)
    controls, effect = drift_defaults(design)
    return drift_table(design, controls, effect)


@st.cache_data(max_entries=16, show_spinner=False)
def run_size(
    toml_text: str, target: float, metric: str, scenario: str | None, n_max: int, n_sims: int, seed: int
):
    from planner.search import smallest_n

    return smallest_n(
        parse_design_text(toml_text),
        target,
        metric=metric,
        scenario=scenario,
        n_max=n_max,
        n_sims=n_sims,
        seed=seed,
    )


def run_report(toml_text: str, pinned: tuple[tuple[str, str, int], ...] = ()) -> dict:
    """Build the briefing report (with the pinned designs' comparison) in a temporary folder; keep its bytes."""
    import tempfile
    from pathlib import Path

    from planner.report import CHROMIUM, build_report

    comparison = None
    if pinned:
        comparison = tables.comparison_table(
            [
                (label, run_evaluation(text, n, parse_design_text(text).simulation.seed))
                for label, text, n in pinned
            ]
        )
    with tempfile.TemporaryDirectory() as tmp:
        out = build_report(
            parse_design_text(toml_text),
            Path(tmp) / "report",
            pdf=Path(CHROMIUM).exists(),
            comparison=comparison,
        )
        return {
            "toml": toml_text,
            "html": out.html.read_bytes(),
            "pdf": out.pdf.read_bytes() if out.pdf else None,
            "seconds": out.seconds,
        }


# --- the current design ------------------------------------------------------------------------------
def _state():
    if "base_toml" not in st.session_state:
        examples = ui.example_designs()
        st.session_state.base_toml = examples[ui.DEFAULT_EXAMPLE]
        st.session_state.base_name = ui.DEFAULT_EXAMPLE
    return st.session_state


def _load(text: str, name: str) -> None:
    """Replace the base design if the text is a valid design; otherwise show why and keep the old one."""
    try:
        parse_design_text(text, origin=name)
    except DesignError as err:
        st.session_state.load_error = f"{name}: " + "; ".join(err.problems)
        return
    st.session_state.base_toml = text
    st.session_state.base_name = name
    st.session_state.load_error = None
    # every field follows the newly loaded design: its values are assigned (not only forgotten), so that the
    # browser's copy of a field the user had typed into is replaced too
    defaults = ui.widget_defaults(parse_design_text(text))
    for key in [k for k in st.session_state if k.startswith("w_") and k not in defaults]:
        del st.session_state[key]
    for key, value in defaults.items():
        st.session_state[key] = value
    for key in ("saved_widgets", "saved_scenarios", "edits"):
        st.session_state.pop(key, None)


def _load_upload() -> None:
    """File uploader callback (runs before the script, so the page drawn next shows the uploaded design)."""
    uploaded = st.session_state.get("upload")
    if uploaded is not None and st.session_state.get("last_upload") != uploaded.file_id:
        st.session_state.last_upload = uploaded.file_id
        from planner.design import MAX_DESIGN_CHARS

        if uploaded.size > 4 * MAX_DESIGN_CHARS:  # refused before it is decoded (the parser refuses the rest)
            st.session_state.load_error = f"{uploaded.name}: {uploaded.size:,} bytes; a design file has at most {MAX_DESIGN_CHARS:,} characters"
            return
        _load(uploaded.getvalue().decode("utf-8", errors="replace"), uploaded.name)


def sidebar() -> None:
    """The design file: a shipped design, an upload or a pasted text. Drawn after the page (the page's cards
    are the first thing the browser shows); the loads run as callbacks, before the page is computed."""
    s = _state()
    with st.sidebar:
        st.header("Design file")
        examples = ui.example_designs()
        # a shipped design is loaded only when the user picks one (not whenever the box differs from the
        # current design, which would drop an uploaded or pasted design on the next rerun)
        st.selectbox(
            "Shipped design",
            list(examples),
            key="example_choice",
            index=list(examples).index(s.base_name) if s.base_name in examples else 0,
            on_change=lambda: _load(
                examples[st.session_state.example_choice], st.session_state.example_choice
            ),
        )
        st.file_uploader("Load a design (TOML)", type=["toml"], key="upload", on_change=_load_upload)
        with st.expander("Paste a design (TOML)"):
            st.text_area("TOML", key="pasted", height=150)
            st.button(
                "Load pasted design",
                key="load_pasted",
                on_click=lambda: _load(st.session_state.get("pasted", ""), "pasted design"),
            )
        if st.session_state.get("load_error"):
            st.error(st.session_state.load_error, icon="⚠️")
        st.caption(f"Current: {s.base_name}")


def edited_design():
    """(design, problems): the base design with the Design page's edits when they are valid (and remembered as
    the last valid design), else the last valid design and the problems of the edit."""
    s = _state()
    try:
        design = ui.apply_edits(s.base_toml, st.session_state.get("edits", {}))
    except DesignError as err:
        last = st.session_state.get("last_valid_toml")
        base = parse_design_text(
            last if last and st.session_state.get("last_valid_base") == s.base_toml else s.base_toml
        )
        return base, list(err.problems)
    st.session_state.last_valid_toml = ui.to_toml(design)
    st.session_state.last_valid_base = s.base_toml
    return design, []


def current_design():
    """The design the other pages show: the edited one, or the last valid one (with a note) while an edit is invalid."""
    design, problems = edited_design()
    if problems:
        st.warning(
            "An edit on the Design page is not valid; this page shows the last valid design.", icon="⚠️"
        )
    return design


# the Design page's fields, by the design field a message names (longest prefix first)
FIELD_SLOTS = (
    "arms.n",
    "arms.allocation",
    "dropout",
    "endpoint.dropout_probability",
    "endpoint.events",
    "endpoint.follow_up",
    "endpoint.accrual_time",
    "analysis.rule",
    "analysis.margin",
    "analysis.alpha",
    "analysis.performance_goal",
    "analysis.threshold",
    "design_prior",
    "interim",
    "simulation",
    "scenarios",
)


def _slot_for(problem: str) -> str | None:
    field = problem.split(":", 1)[0]
    matches = [f for f in FIELD_SLOTS if field == f or field.startswith(f + ".") or field.startswith(f + "[")]
    return max(matches, key=len) if matches else None


def _calibrate(toml_text: str) -> None:
    """Button callback (runs before the widgets are drawn): set the threshold widget to the calibrated value."""
    from planner.search import calibrate_threshold

    try:
        out = calibrate_threshold(parse_design_text(toml_text))
    except DesignError as err:
        st.session_state.calibration_note = "Calibration failed: " + "; ".join(err.problems)
        return
    threshold = (
        math.ceil(out["threshold"] * 1e4) / 1e4
    )  # rounded up to the widget's 4 decimals: never above alpha
    if threshold > 0.9999:
        st.session_state.calibration_note = (
            f"The calibrated threshold {out['threshold']:.6f} is above the "
            "largest the field takes (0.9999); edit the design file."
        )
        return
    # the current design (with every edit) becomes the base, with the calibrated threshold; the threshold
    # field then follows the base while every other field keeps what the user set
    design = parse_design_text(toml_text).with_changes({"analysis.threshold": threshold})
    st.session_state.base_toml = ui.to_toml(design)
    st.session_state.pop("w_threshold", None)
    st.session_state.get("saved_widgets", {}).pop("w_threshold", None)
    st.session_state.calibration_note = (
        f"Threshold set to {threshold:.4f} (calibrated {out['threshold']:.6f}; "
        f"maximum type I error {out['max_type_one_error']:.4f} <= alpha "
        f"{out['alpha']:g})."
    )


# --- pages -------------------------------------------------------------------------------------------
def _scenario_edit(editor_key: str, rows: list[dict]) -> None:
    """Data editor callback (runs before the rerun): the scenario rows after the user's edit."""
    st.session_state.saved_scenarios = ui.apply_table_edits(rows, st.session_state[editor_key])


def design_fields(base, values: dict, messages: dict) -> None:
    """The Design page's fields for ``base`` (their values are in the session already), each with the messages
    that name it just below it."""
    rule_now = ui.field_rule(base, values)
    shown = ui.shown_fields(base, rule_now)
    drawn = {"arms.n", "analysis.rule", "analysis.alpha", "simulation", "scenarios"} | {
        slot
        for key, slot in (
            ("w_dropout", "dropout"),
            ("w_tte_dropout", "endpoint.dropout_probability"),
            ("w_events", "endpoint.events"),
            ("w_follow_up", "endpoint.follow_up"),
            ("w_accrual", "endpoint.accrual_time"),
            ("w_margin", "analysis.margin"),
            ("w_alloc", "arms.allocation"),
            ("w_goal", "analysis.performance_goal"),
            ("w_threshold", "analysis.threshold"),
            ("w_a0", "design_prior"),
            ("w_interim", "interim"),
        )
        if key in shown
    }
    placed: dict = {}
    for slot, lines in messages.items():  # a message for a field this page does not draw goes to the top
        placed.setdefault(slot if slot in drawn else None, []).extend(lines)

    def note(slot: str | None) -> None:
        if placed.get(slot):
            st.error("\n\n".join(placed[slot]), icon="⚠️")

    st.subheader("Design")
    note(None)  # messages that name no field of this page
    # no min/max on the number fields: an out-of-range value reaches the design's checks, whose message
    # (naming the field and the value) appears under the field
    st.number_input("Participants (total N)", step=1, key="w_n")
    note("arms.n")
    if "w_alloc" in shown:
        st.number_input("Allocation treatment : control (x : 1)", step=0.25, key="w_alloc")
        note("arms.allocation")
    ep = base.endpoint
    if ep.kind == "time-to-event":  # beside N: the events (at most N) or the follow-up, and the accrual
        unit = ep.time_unit
        if "w_events" in shown:
            st.number_input("Events at the analysis (event-driven)", step=1, key="w_events")
            note("endpoint.events")
        else:
            st.number_input(f"Follow-up after the last entry ({unit})", step=1.0, key="w_follow_up")
            note("endpoint.follow_up")
        if "w_accrual" in shown:
            st.number_input(f"Accrual period ({unit})", step=1.0, key="w_accrual")
            note("endpoint.accrual_time")
    if ep.kind == "count" and "w_accrual" in shown:  # variable exposure: entry spread over the accrual
        st.number_input("Accrual period (exposure units; variable exposure)", step=0.25, key="w_accrual")
        note("endpoint.accrual_time")
    if "w_dropout" in shown:
        st.slider("Dropout by one year", 0.0, 0.5, step=0.01, key="w_dropout")
        st.selectbox(
            "Dropouts are",
            ["failure", "missing"],
            key="w_strategy",
            format_func=lambda v: {
                "failure": "failures (composite estimand)",
                "missing": "missing (completers)",
            }[v],
        )
        note("dropout")
    else:  # time to event: dropouts are censored
        st.slider(
            f"Dropout probability by {ep.dropout_time:g} {ep.time_unit} (censored)",
            0.0,
            0.5,
            step=0.01,
            key="w_tte_dropout",
        )
        note("endpoint.dropout_probability")
    if "w_rule" in shown:
        st.selectbox("Decision rule", rules_for(base.endpoint.kind, base.arms.kind), key="w_rule")
    note("analysis.rule")
    if "w_margin" in shown:
        ratio = rule_now == "nb-wald"
        st.number_input(
            "Non-inferiority margin ("
            + ("rate ratio above 1" if ratio else "a difference")
            + "; empty: superiority)",
            value=None,
            step=0.05,
            format="%.3f",
            key="w_margin",
            help="The null: the treatment worse than the control by the margin"
            + (" (its rate the margin times the control's)" if ratio else "")
            + ".",
        )
        note("analysis.margin")
    st.number_input("One-sided alpha", step=0.005, format="%.3f", key="w_alpha")
    note("analysis.alpha")
    if "w_goal" in shown:
        goal_label = (
            f"Performance goal (median, {ep.time_unit})"
            if ep.kind == "time-to-event" and rule_now != "km-landmark"
            else "Performance goal"
        )
        st.number_input(goal_label, step=1.0 if "median" in goal_label else 0.05, key="w_goal")
        note("analysis.performance_goal")
    if "w_threshold" in shown:
        st.number_input("Posterior probability threshold", step=0.005, format="%.4f", key="w_threshold")
        note("analysis.threshold")
    if "w_a0" in shown:
        st.markdown("**Design prior** (what may be true): fitted to the evidence, discounted")
        st.slider("Weight of the evidence (power prior a0)", 0.05, 1.0, step=0.05, key="w_a0")
        st.slider("Robust (vague) component weight", 0.0, 0.95, step=0.05, key="w_robust")
        note("design_prior")
    if "w_interim" in shown:
        looks = st.selectbox("Interim look", ["none", "one interim look"], key="w_interim")
        if looks != "none":
            st.slider("Interim at this fraction of participants", 0.2, 0.8, step=0.05, key="w_fraction")
            st.checkbox(
                "Stop early for futility",
                key="w_futility",
                help=(
                    "predictive probability of final success below 10%"
                    if RULES[rule_now].bayesian
                    else "conditional power under the current trend below 10% (non-binding)"
                ),
            )
        note("interim")
    st.select_slider("Simulated trials per scenario (simulated designs)", list(ui.SIMS_CHOICES), key="w_sims")
    st.number_input(
        "Or a target Monte Carlo SE (empty: the trials above)",
        value=None,
        min_value=None,
        step=0.001,
        format="%.4f",
        key="w_target_mcse",
        help="Simulate until every probability's Monte Carlo SE is at most this, up to the design's n_sims.",
    )
    note("simulation")
    st.markdown(
        "**Scenarios** (true values per arm); edit the table"
        + (
            f". Values are median times to the event in {ep.time_unit}"
            + ("; durable: the fraction who never have it" if not base.randomized else "")
            + (
                "; responders: the probability of responding"
                if getattr(ep, "time_origin", "") == "response"
                else ""
            )
            if ep.kind == "time-to-event"
            else ""
        )
    )
    import pandas as pd

    rows = st.session_state.get("saved_scenarios") or ui.scenario_rows(base)
    frame = pd.DataFrame(rows, columns=ui.scenario_columns(base))
    # the editor is keyed by its content: an edit seeds a fresh editor (also after a page change)
    editor_key = "w_scenarios_" + ui.short_hash(frame.to_json())
    if st.toggle("Edit the scenarios", key="w_edit_scenarios"):
        st.data_editor(
            frame,
            num_rows="dynamic",
            key=editor_key,
            hide_index=True,
            on_change=_scenario_edit,
            args=(editor_key, frame.to_dict("records")),
        )
    else:
        show_table(frame)
    note("scenarios")


def decision_zones_panel(design, toml_text: str, n_sims: int) -> None:
    """Go / Consider / No-Go: the probability of each decision per scenario and under the design prior."""
    from planner.plots import zone_chart

    with st.spinner("Computing the decision zones..."):
        rows = run_zones(toml_text, n_sims, design.simulation.seed)
    frame = tables.zone_table(rows)
    st.markdown("**Decision zones**: " + " ".join(tables.decision_text(design)))
    show_table(frame)
    show_chart(zone_chart(frame))


def drift_panel(design, toml_text: str) -> None:
    """Borrowing for the control arm: exact type I error and power over the true control rate, conflict and
    the information borrowed (planner.borrowing), with the finding in words."""
    from planner.borrowing import drift_finding
    from planner.plots import drift_chart
    from planner.priors import analysis_mixture

    with st.spinner("Computing the type I error against drift..."):
        points = run_drift(toml_text)
    frame = tables.drift_frame(points)
    st.markdown(
        "**Borrowing for the control arm against drift** (exact): the type I error (treatment equal to the "
        "control) and the power at each true control rate, the probability of prior-data conflict (Box's "
        "p-value at most 0.05) and the information the control prior lends (posterior ESS minus the controls)"
    )
    finding = drift_finding(design, points)
    (st.error if finding.startswith("TYPE I ERROR ABOVE") else st.info)(finding)
    show_chart(
        drift_chart(
            frame, design.analysis.alpha, analysis_mixture(design.analysis.control_prior, "beta").mean()
        )
    )
    show_table(frame)


def survival_figures(design, toml_text: str, scenario: str, ns: tuple[int, ...], n_sims: int) -> None:
    """Time to event: the scenarios' survival curves, power over events (event-driven designs) and the
    expected calendar time of the analysis over N."""
    from planner.plots import survival_chart, survival_over_chart

    ep = design.endpoint
    st.markdown("**Survival curves of the scenarios** (probability of no event yet)")
    show_chart(survival_chart(tables.survival_curves(design), ep.time_unit))
    seed = design.simulation.seed
    if ep.events is not None:
        events = tuple(sorted({max(2, int(ep.events * f)) for f in (0.5, 0.75, 1.0, 1.25, 1.5)}))
        with st.spinner("Computing power over events..."):
            points = run_survival_curve(toml_text, "events", events, scenario, n_sims, seed)
        st.markdown(f"**Power over the number of events** under *{scenario}*")
        frame = tables.survival_curve_frame(points, "events", "power")
        show_chart(survival_over_chart(frame, "events", "power", "power"))
    with st.spinner("Computing the expected analysis..."):
        points = run_survival_curve(toml_text, "n", ns, scenario, n_sims, seed)
    if ep.events is not None:  # event-driven: when the analysis happens
        st.markdown(f"**Expected calendar time of the analysis over N** under *{scenario}*")
        frame = tables.survival_curve_frame(points, "N", "E[analysis time]")
        chart = survival_over_chart(
            frame, "N", "E[analysis time]", f"expected analysis time ({ep.time_unit})"
        )
    else:  # a fixed follow-up: how many events the analysis sees
        st.markdown(f"**Expected events at the analysis over N** under *{scenario}*")
        frame = tables.survival_curve_frame(points, "N", "E[events]")
        chart = survival_over_chart(frame, "N", "E[events]", "expected events")
    show_chart(chart)


def design_page() -> None:
    from planner.plots import curve_chart, curve_frame

    s = _state()
    base = parse_design_text(s.base_toml)
    # The fields show the current design: what the user set on this page before (kept across page changes,
    # invalid values included), otherwise the loaded design's values. Their values are read from the session
    # before any field is drawn, so the results are computed and drawn first.
    defaults = ui.widget_defaults(base)
    saved = st.session_state.get("saved_widgets", {})
    # Coming back from another page, the fields take what was saved: Streamlit forgets a field that another
    # page did not draw, and may then show an older value that was set before the field first appeared
    # (the shipped default's threshold came back for a Bayesian design, in the browser).
    returning = st.session_state.get("previous_page") != DESIGN_PAGE
    for key, value in (defaults | saved).items():
        if returning and key in saved:
            st.session_state[key] = value
        else:
            st.session_state.setdefault(key, value)
    values = {key: st.session_state[key] for key in defaults}
    st.session_state.saved_widgets = values
    st.session_state.edits = ui.edits_from_fields(base, values, st.session_state.get("saved_scenarios"))
    n_sims = int(values["w_sims"])
    design, problems = edited_design()
    by_slot: dict = {}
    for problem in problems:  # beside the field it names; what the user typed stays in the field
        slot = _slot_for(problem)
        by_slot.setdefault(slot, []).append(problem)
    st.title("Zimislecel phase 3 planner")
    st.caption(base.description or base.name)
    toml_text = ui.to_toml(design)
    st.session_state.design_toml = toml_text
    # each notice has a place that is always there, filled or emptied on every run: an element that comes and
    # goes above the fields would move them in the page's element tree (the browser would redraw them and drop
    # the focus), and an emptied place is cleared at once rather than when the run ends
    invalid_notice, banner = st.empty(), st.empty()
    if problems:
        invalid_notice.warning(
            "Your last edit is not valid (the message is beside the field). The results below are "
            "those of the last valid design.",
            icon="⚠️",
        )
    else:
        invalid_notice.empty()
    # The page's places first: the cards across the top (five places, each filled or emptied on every run: a
    # design with fewer cards clears the places it does not use at once), then the fields and the results.
    # The fields are drawn right after the cards, before the tables, zones and curves are computed: a change
    # typed while the page computes interrupts the run, and fields not yet redrawn in an interrupted run lost
    # their values in the browser (the dropout slider came back at 0, changing the design without the user
    # touching it).
    slots = [col.empty() for col in st.columns(MAX_CARDS)]
    left, right = st.columns([1, 2])
    # the cards and tables come from one evaluation, computed before any of them is drawn (no mix of old
    # and new numbers); the curves below are computed next, under their own spinner
    with right, st.spinner("Computing..."):
        result = run_evaluation(toml_text, int(n_sims), design.simulation.seed)
    alternatives = [r for r in result.results if not r.is_null]
    names = [r.scenario.name for r in alternatives]
    n0, curve_sims = design.arms.n, min(int(n_sims), 20_000)
    check = result.type_one_error
    if check is not None and check.exceeds:
        banner.error(check.message, icon="🚩")
    else:
        banner.empty()
    cards = [(f"Power: {r.scenario.name}", r.success) for r in result.results if not r.is_null][:3]
    if result.assurance is not None:
        cards.append(("Assurance (design prior)", result.assurance))
    for slot, (label, est) in zip(slots, cards, strict=False):
        slot.metric(
            label, f"{est.value:.4f}", help="exact" if est.exact else f"Monte Carlo SE {est.mcse:.4f}"
        )
    for slot in slots[len(cards) + (check is not None) :]:
        slot.empty()
    if check is not None:
        how = "exact" if check.exact else f"Monte Carlo SE {check.mcse:.4f}"
        label = (
            "Type I error (maximum over the null)"
            if design.rule_info.bayesian
            else f"Maximum type I error (alpha {design.analysis.alpha:g})"
        )
        slots[len(cards)].metric(
            label,
            f"{check.value:.4f}",
            help=f"{how}; at treatment {check.at.treatment:.4g}. " + check.finding,
            delta=("above alpha" if check.exceeds else "within alpha"),
            delta_color="inverse" if check.exceeds else "normal",
        )
    with left:  # right after the cards, before the tables, zones and curves
        design_fields(base, values, by_slot)
    with right:
        st.subheader("Operating characteristics")
        if check is not None:
            if design.rule_info.bayesian:
                st.button(
                    "Calibrate the threshold to alpha",
                    key="calibrate",
                    on_click=_calibrate,
                    args=(toml_text,),
                    help="The smallest posterior threshold whose maximum type I error over "
                    "the null (estimand scale, dropout included) is at most alpha.",
                )
            if st.session_state.get("calibration_note"):
                st.info(st.session_state.calibration_note)
        pinned = st.session_state.setdefault("pinned", [])
        if st.button(
            f"Pin this design for comparison ({len(pinned)} of {ui.MAX_PINNED} pinned)",
            key="pin",
            disabled=bool(problems) or len(pinned) >= ui.MAX_PINNED,
            help="Keep these numbers and compare them with other versions on the Compare page.",
        ):
            st.session_state.pin_count = st.session_state.get("pin_count", 0) + 1
            label = (
                f"{st.session_state.pin_count}. {design.name} (N = {design.arms.n}, {design.analysis.rule})"
            )
            pinned.append({"label": label, "toml": toml_text, "n_sims": int(n_sims)})
            st.success(f"Pinned: {label}. Change the design and pin again, then open Compare designs.")
        show_table(tables.results_table(result))
        if result.precision is not None:
            pr = result.precision
            (st.caption if pr["met"] else st.warning)(
                f"Simulated until every Monte Carlo SE is at most {pr['target_mcse']:g}: {pr['n_sims']:,} trials "
                f"per scenario (largest MCSE {pr['largest_mcse']:.4f})"
                + ("" if pr["met"] else f"; NOT MET: the design's cap of {pr['cap']:,} trials was reached")
            )
        if design.estimand is not None:
            import pandas as pd

            from planner.estimands import estimand_rows

            st.markdown("**Estimand** (ICH E9(R1))")
            show_table(pd.DataFrame(estimand_rows(design), columns=["attribute", "definition"]))
        st.caption(
            "P(success) is the chance that the trial declares success. Under a null scenario it is the "
            "type I error (should be at most alpha); otherwise it is the power. MCSE is the Monte Carlo "
            "standard error (0 when computed exactly)."
        )
        several = tables.multiple_table(result)
        if several is not None:
            st.markdown(
                f"**Key secondary endpoints** ({design.multiple.procedure}): probability each hypothesis is "
                "rejected after the multiple testing procedure, and alone"
            )
            show_table(several)
        stages = tables.stages_table(result)
        if stages is not None:
            from planner.plots import stage_chart
            from planner.stages import outcomes_of

            st.markdown("**Interim looks**: probability of stopping at each look")
            show_table(stages)
            outcomes = tables.stage_outcome_table(outcomes_of(result))
            st.markdown(
                "**How the trial ends** (per scenario and under the design prior; flip-flops where counted)"
            )
            show_table(outcomes)
            show_chart(stage_chart(outcomes))
        reestimation = tables.reestimation_table(result)
        if reestimation is not None:
            from planner.adaptive import naive_finding, plan_of

            st.markdown(
                f"**Sample-size re-estimation** ({design.analysis_name}): the probability of success, the "
                "expected and the largest N, and how often stage 2 grows (by integration over the interim z)"
            )
            show_table(reestimation)
            finding = naive_finding(plan_of(design))
            (st.error if "ABOVE ALPHA" in finding else st.info)(finding)
        if design.decision is not None:
            decision_zones_panel(design, toml_text, int(n_sims))
        from planner.borrowing import has_drift

        if has_drift(design):
            drift_panel(design, toml_text)
    with right:
        if alternatives:
            ns = tuple(
                sorted(
                    {
                        max(4, int(n0 * f))
                        for f in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4, 1.6, 1.8, 2.0)
                    }
                )
            )
            # default: the alternative whose power at the current N is closest to 80%
            closest = min(range(len(names)), key=lambda i: abs(alternatives[i].success.value - 0.8))
            if st.session_state.get("w_curve_scenario") not in names:
                st.session_state.w_curve_scenario = names[closest]
            chosen = st.selectbox("Power over N under the scenario", names, key="w_curve_scenario")
            with st.spinner("Computing the power curve..."):
                power_curve_points = run_curve(
                    toml_text, ns, "power", chosen, curve_sims, design.simulation.seed
                )
            st.markdown(f"**Power over N** under *{chosen}*")
            show_chart(curve_chart(curve_frame(power_curve_points, "power"), "power", current_n=n0))
            st.caption(
                "The band is 95% Monte Carlo uncertainty; the red line is the current N. Binary designs are "
                "exact, so their power is a saw-tooth in N."
            )
            if design.endpoint.kind == "time-to-event":
                survival_figures(design, toml_text, chosen, ns, curve_sims)
        if design.design_prior is not None:
            ns_a = tuple(sorted({max(4, int(n0 * f)) for f in (0.4, 0.6, 0.8, 1.0, 1.2, 1.5, 2.0)}))
            with st.spinner("Computing the assurance curve..."):
                assurance_points = run_curve(
                    toml_text, ns_a, "assurance", None, curve_sims, design.simulation.seed
                )
            st.markdown("**Assurance over N**: the probability of success averaged over the design prior")
            show_chart(curve_chart(curve_frame(assurance_points, "assurance"), "assurance", current_n=n0))
            st.caption(
                "Assurance levels off below 1 as N grows: it cannot exceed the design prior's probability "
                "that the therapy truly beats the goal."
            )


def priors_page() -> None:
    from planner.plots import prior_chart, prior_frame

    st.title("Evidence and priors")
    st.markdown("The phase 1/2 and historical numbers behind the priors, each with its source.")
    st.dataframe(tables.evidence_table(), hide_index=True, key="evidence")
    st.subheader("Priors fitted with PyMC (stored; refit with `planner priors fit`)")
    st.dataframe(tables.fitted_table(), hide_index=True, key="fitted")
    design = current_design()
    mixtures = tables.prior_mixtures(design)
    if mixtures:
        st.subheader("This design's priors")
        show_chart(prior_chart(prior_frame(mixtures), tables.prior_axis_title(design)))
        from planner.priors import design_priors, ess_text

        for role, info in design_priors(design).items():
            st.write(
                f"**{role}**: mean {info['mean']:.3f}, sd {info['sd']:.3f}, effective sample size "
                + ess_text(info.get("ess"), info.get("ess_unit")).removeprefix("ESS ")
            )
        st.caption(
            "The design prior says what we believe the true effect may be (it drives assurance); the "
            "analysis prior enters a Bayesian decision rule. Discount the evidence on the Design page."
        )
    else:
        st.info("This design has no design or analysis prior.")


def size_page() -> None:
    from planner.plots import curve_chart, curve_frame

    st.title("Sample size")
    design = current_design()
    choices = ["power", "assurance"]
    if design.endpoint.kind == "binary" and not design.randomized:
        choices.append("precision")
    if st.session_state.get("w_metric") not in choices:
        st.session_state.w_metric = "power"
    metric = st.radio(
        "Target",
        choices,
        horizontal=True,
        key="w_metric",
        help="precision: how precisely the response rate will be known (the 95% interval's lower limit)",
    )
    if metric == "assurance" and design.design_prior is None:
        st.warning("Assurance needs a design prior; this design has none.")
        return
    if metric == "precision":
        precision_panel(design)
        return
    target = st.slider(f"Target {metric}", 0.5, 0.99, 0.9 if metric == "power" else 0.8, 0.01, key="w_target")
    alternatives = [sc.name for sc in design.scenarios if not design.is_null(sc)]
    scenario = None
    if metric == "power":
        if not alternatives:
            st.warning("The design has no alternative scenario to compute power under.")
            return
        scenario = st.selectbox("Power under the scenario", alternatives, key="w_size_scenario")
    n_max = st.number_input("Largest N to consider", 10, 5000, max(4 * design.arms.n, 100), key="w_nmax")
    try:
        with st.spinner("Searching..."):
            res = run_size(
                ui.to_toml(design),
                float(target),
                metric,
                scenario,
                int(n_max),
                20_000,
                design.simulation.seed,
            )
    except DesignError as err:
        st.error("; ".join(err.problems))
        return
    if res.n is None:
        st.warning(f"{metric.capitalize()} {target} is not reached up to N = {n_max}.")
    else:
        st.metric(
            f"Smallest N with {metric} >= {target}",
            res.n,
            help=f"{metric} {res.value:.4f}" + ("" if res.mcse == 0 else f", MCSE {res.mcse:.4f}"),
        )
        if res.n_stable and res.n_stable != res.n:
            st.info(
                f"Power is a saw-tooth in N for a binary endpoint: it stays at or above {target} for every "
                f"N >= {res.n_stable}."
            )
    if res.curve:
        show_chart(curve_chart(curve_frame(res.curve, metric), metric, target=target, current_n=res.n))


@st.cache_data(max_entries=16, show_spinner=False)
def run_precision(
    rate: float, threshold: float, target: float, interval: str, level: float, dropout: tuple, n_max: int
):
    from planner.design import Dropout
    from planner.precision import smallest_n_for_precision

    return smallest_n_for_precision(
        rate,
        threshold,
        target,
        level=level,
        interval=interval,  # type: ignore[arg-type]
        dropout=Dropout(rate=dropout[0], strategy=dropout[1]),
        n_max=n_max,
    )


def precision_panel(design) -> None:
    """Precision-based sizing (planner.precision): the smallest N whose interval's lower limit exceeds a
    threshold with a target probability, exact, with the curve over N."""
    import pandas as pd

    from planner.plots import precision_chart

    names = [sc.name for sc in design.scenarios]
    default = next((sc.name for sc in design.scenarios if not design.is_null(sc)), names[0])
    if st.session_state.get("w_prec_scenario") not in names:
        st.session_state.w_prec_scenario = default
    chosen = st.selectbox("Response rate of the scenario", names, key="w_prec_scenario")
    rate = next(sc.treatment for sc in design.scenarios if sc.name == chosen)
    threshold = st.number_input(
        "The lower limit must exceed", value=0.5, step=0.05, format="%.3f", key="w_prec_threshold"
    )
    target = st.slider("With probability at least", 0.5, 0.99, 0.8, 0.01, key="w_prec_target")
    interval = st.selectbox("Interval", ["clopper-pearson", "wilson"], key="w_prec_interval")
    n_max = st.number_input("Largest N to consider", 10, 2000, max(4 * design.arms.n, 100), key="w_prec_nmax")
    try:
        with st.spinner("Searching..."):
            res = run_precision(
                float(rate),
                float(threshold),
                float(target),
                interval,
                0.95,
                (design.dropout.rate, design.dropout.strategy),
                int(n_max),
            )
    except DesignError as err:
        st.error("; ".join(err.problems), icon="⚠️")
        return
    label = f"Smallest N with P(lower limit > {threshold:g}) >= {target:g}"
    if res.smallest_n is None:
        st.warning(f"Not reached up to N = {n_max} at a response rate of {rate:g} (dropout included).")
    else:
        point = res.points[res.smallest_n - res.points[0].n]
        st.metric(
            label,
            res.smallest_n,
            help=f"exact: {point.p_lower_above:.4f}; expected width {point.expected_width:.4f}",
        )
        if res.stable_n is not None and res.stable_n != res.smallest_n:
            st.info(f"A saw-tooth in N: every N from {res.stable_n} to {n_max} reaches it.")
    frame = pd.DataFrame(
        {
            "N": [p.n for p in res.points],
            "P(lower limit > threshold)": [p.p_lower_above for p in res.points],
            "expected width": [p.expected_width for p in res.points],
        }
    )
    show_chart(precision_chart(frame, target, design.arms.n))
    st.caption(
        f"Exact (binomial sums; dropouts {design.dropout.strategy}, rate {design.dropout.rate:g}); the 95% "
        f"{interval} interval; the dashed line is the target, the red one the design's N."
    )


def export_page() -> None:
    st.title("Import and export")
    design = current_design()
    toml_text = ui.to_toml(design)
    st.download_button("Download the design (TOML)", toml_text, file_name="design.toml", key="dl_design")
    result = run_evaluation(toml_text, min(20_000, design.simulation.n_sims), design.simulation.seed)
    st.download_button(
        "Download the results (CSV)", tables.results_csv(result), file_name="results.csv", key="dl_csv"
    )
    st.subheader("Briefing report")
    st.caption(
        "Design and estimand, rules, evidence and priors, operating characteristics with the maximum type I "
        "error over the null grid, power and assurance curves, sensitivity, reproducibility."
    )
    if st.button("Build the report", key="build_report"):
        with st.spinner("Building the report..."):
            pinned = tuple((p["label"], p["toml"], p["n_sims"]) for p in st.session_state.get("pinned", []))
            st.session_state.report = run_report(toml_text, pinned)
    built = st.session_state.get("report")
    if built is not None and built["toml"] == toml_text:
        st.download_button(
            "Download the report (HTML)",
            built["html"],
            file_name="report.html",
            mime="text/html",
            key="dl_report_html",
        )
        if built["pdf"] is not None:
            st.download_button(
                "Download the report (PDF)",
                built["pdf"],
                file_name="report.pdf",
                mime="application/pdf",
                key="dl_report_pdf",
            )
        st.caption(f"Built in {built['seconds']:.1f} s.")
    st.subheader("The design file")
    st.code(toml_text, language="toml")
    st.caption("The same file runs on the command line: `planner evaluate design.toml`.")


def compare_page() -> None:
    from planner.plots import curve_frame, overlay_chart

    st.title("Compare designs")
    pinned = st.session_state.setdefault("pinned", [])
    if not pinned:
        st.info(
            "No design pinned yet: on the Design page, set a design up and press *Pin this design for "
            "comparison*; change it and pin again (up to four)."
        )
        return
    evaluations = [
        (p["label"], run_evaluation(p["toml"], p["n_sims"], parse_design_text(p["toml"]).simulation.seed))
        for p in pinned
    ]
    flagged = [label for label, r in evaluations if r.type_one_error is not None and r.type_one_error.exceeds]
    if flagged:
        st.error("Type I error above alpha: " + "; ".join(flagged), icon="🚩")
    table = tables.comparison_table(evaluations)
    st.dataframe(
        table,
        hide_index=True,
        key="comparison_table",
        column_config={
            c: st.column_config.NumberColumn(format="%.4f")
            for c in table.columns
            if table[c].dtype.kind == "f" and c not in ("alpha", "expected N (first alternative)")
        },
    )
    st.caption(
        "Each probability with its Monte Carlo SE (0 when exact); the maximum type I error is over each "
        "design's own composite null. Power columns are the designs' own alternative scenarios."
    )
    st.download_button(
        "Download the comparison (CSV)",
        tables.comparison_csv(evaluations),
        file_name="comparison.csv",
        mime="text/csv",
        key="dl_comparison",
    )
    power, assurance = {}, {}
    for (label, result), p in zip(evaluations, pinned, strict=True):
        d = result.design
        ns = tuple(sorted({max(4, int(d.arms.n * f)) for f in (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)}))
        alternatives = [r.scenario.name for r in result.results if not r.is_null]
        if alternatives:
            points = run_curve(
                p["toml"], ns, "power", alternatives[0], min(p["n_sims"], 20_000), d.simulation.seed
            )
            power[label] = curve_frame(points, "power")
        if d.design_prior is not None:
            points = run_curve(p["toml"], ns, "assurance", None, min(p["n_sims"], 20_000), d.simulation.seed)
            assurance[label] = curve_frame(points, "assurance")
    if power:
        st.markdown("**Power over N** (each design under its first alternative scenario)")
        show_chart(overlay_chart(power, "power"))
    if assurance:
        st.markdown("**Assurance over N** (each design's design prior)")
        show_chart(overlay_chart(assurance, "assurance"))
    remove = st.selectbox("Remove a pinned design", ["(none)"] + [p["label"] for p in pinned], key="w_unpin")
    if remove != "(none)" and st.button("Remove", key="unpin"):
        st.session_state.pinned = [p for p in pinned if p["label"] != remove]
        st.rerun()


def interim_page() -> None:
    """Observed interim counts -> the probability of final success, the conditional power and the decision."""
    from planner.interim import DEFAULT_FUTILITY, interim_prediction, unavailable

    st.title("Interim data")
    design = current_design()
    st.caption(
        "The data of an interim look: the predictive probability that the final analysis succeeds (under the "
        "analysis prior, and the design prior where it applies), the conditional power under the current trend "
        "and under each scenario, and the decision they imply. Binary designs exactly; continuous ones in closed "
        "form with the sd known at its interim estimate; single-arm binary designs with interim looks by exact "
        "recursion over the later looks (their efficacy and futility bounds as planned)."
    )
    kind = design.endpoint.kind
    reason = unavailable(design)
    if reason is not None:
        st.info(f"Interim predictions are not available for this design: {reason}")
        return
    arms = ("treatment", "control")[: len(design.arms.sizes)]
    observed: list[tuple[float, ...]] = []
    for i, (arm, n, col) in enumerate(zip(arms, design.arms.sizes, st.columns(len(arms)), strict=True)):
        with col:
            st.markdown(f"**{arm.capitalize()}** ({n} planned)")
            m = st.number_input("Analysed so far", step=1, value=n // 2, key=f"w_interim_m_{arm}")
            if kind == "binary":
                x = st.number_input("Responders so far", step=1, value=n // 4, key=f"w_interim_x_{arm}")
                observed.append((int(x), int(m)))
            else:
                scenario = next(
                    (sc for sc in design.scenarios if not design.is_null(sc)), design.scenarios[0]
                )
                start = scenario.treatment if i == 0 else scenario.control
                mean = st.number_input(
                    "Mean so far", value=float(start), step=0.1, format="%.3f", key=f"w_interim_mean_{arm}"
                )
                sd = st.number_input(
                    "Sd so far",
                    value=float(design.endpoint.sd),
                    step=0.1,
                    format="%.3f",
                    key=f"w_interim_sd_{arm}",
                )
                observed.append((float(mean), float(sd), int(m)))
    futility = st.slider(
        "Stop for futility below this predictive probability",
        0.01,
        0.5,
        DEFAULT_FUTILITY,
        0.01,
        key="w_interim_fut",
    )
    try:
        out = interim_prediction(design, tuple(observed), futility_threshold=futility)
    except DesignError as err:
        st.error("; ".join(err.problems), icon="⚠️")
        return
    cards = [("Predictive probability (analysis prior)", out.predictive_analysis_prior)]
    if out.predictive_design_prior is not None:
        cards.append(("Predictive probability (design prior)", out.predictive_design_prior))
    cards.append(("Conditional power (current trend)", out.conditional_power_trend))
    for col, (label, value) in zip(st.columns(len(cards)), cards, strict=True):
        col.metric(
            label, f"{value:.4f}", help="exact" if kind == "binary" else "sd known at its interim value"
        )
    import pandas as pd

    show_table(
        pd.DataFrame(
            {
                "scenario": list(out.conditional_power_planned),
                "conditional power": list(out.conditional_power_planned.values()),
            }
        )
    )
    (st.warning if out.decision.startswith("stop") else st.success)(f"Decision: {out.decision}")


DESIGN_PAGE = "Design and results"  # the page's title, as the navigation reports the page that runs


def main() -> None:
    """One run of the app's script: the page configuration, then the page the user is on."""
    st.set_page_config(page_title="Zimislecel phase 3 planner", layout="wide")
    pages = [
        st.Page(design_page, title=DESIGN_PAGE, url_path="design", default=True),
        st.Page(compare_page, title="Compare designs", url_path="compare"),
        st.Page(priors_page, title="Evidence and priors", url_path="priors"),
        st.Page(size_page, title="Sample size", url_path="size"),
        st.Page(interim_page, title="Interim data", url_path="interim"),
        st.Page(export_page, title="Import and export", url_path="export"),
    ]
    page = st.navigation(pages)
    st.session_state.previous_page = st.session_state.get("current_page")
    st.session_state.current_page = page.title
    page.run()
    sidebar()


if (
    __name__ == "__main__"
):  # `planner app` runs this file as Streamlit's script; tests import the page functions
    main()
