"""The Streamlit app through AppTest: every page renders, controls change results, bad input keeps the design."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest  # noqa: E402

from planner import evaluate, load_design  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


def run_page(page: str) -> None:
    from planner import webapp

    getattr(webapp, page)()


def page(name: str) -> AppTest:
    return AppTest.from_function(run_page, args=(name,), default_timeout=120).run()


def results(at: AppTest):
    """The results table as shown (text cells, probabilities to 4 decimals)."""
    return next(t.value for t in at.table if "P(success)" in t.value.columns)


def test_main_page_shows_the_default_design_with_exact_numbers():
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    table = results(at)
    api = evaluate(load_design(ROOT / "examples" / "zimislecel_single_arm.toml"))
    for r in api.results:
        row = table[table["scenario"] == r.scenario.name].iloc[0]
        assert row["P(success)"] == f"{r.success.value:.4f}"
    labels = {m.label: m.value for m in at.metric}
    assert labels["Assurance (design prior)"] == f"{api.assurance.value:.4f}"
    assert labels["Power: Phase 1/2 estimate"] == f"{api['Phase 1/2 estimate'].success.value:.4f}"


def test_changing_n_changes_power():
    at = AppTest.from_file(APP, default_timeout=120).run()
    before = results(at).set_index("scenario")["P(success)"]
    at.number_input(key="w_n").set_value(80).run()
    assert not at.exception
    after = results(at).set_index("scenario")["P(success)"]
    design = load_design(ROOT / "examples" / "zimislecel_single_arm.toml").with_changes({"arms.n": 80})
    expected = evaluate(design)["Phase 1/2 estimate"].success.value
    assert after["Phase 1/2 estimate"] == f"{expected:.4f}"
    assert float(after["Phase 1/2 estimate"]) > float(before["Phase 1/2 estimate"])


def test_malformed_design_shows_an_error_and_keeps_the_previous_design():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.text_area(key="pasted").set_value("name = 'x'\n[arms]\nkind = 'single-arm'\nn = -4\n").run()
    at.button(key="load_pasted").click().run()
    assert not at.exception
    assert any("arms.n" in e.value or "required" in e.value for e in at.error)
    assert "Zimislecel" in at.sidebar.caption[0].value or "zimislecel" in at.sidebar.caption[0].value
    assert len(results(at)) >= 5  # the previous design's results are still shown


def test_loading_another_example_switches_the_design():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.selectbox(key="example_choice").set_value("hba1c_randomized.toml").run()
    assert not at.exception
    assert "No difference (null)" in set(results(at)["scenario"])


@pytest.mark.parametrize("name", ["priors_page", "size_page", "export_page"])
def test_other_pages_render(name):
    at = page(name)
    assert not at.exception, at.exception
    assert at.title


def test_size_page_reports_the_search():
    from planner.search import smallest_n

    at = page("size_page")
    at.selectbox(key="w_size_scenario").set_value("Phase 1/2 estimate").run()
    assert not at.exception
    expected = smallest_n(
        load_design(ROOT / "examples" / "zimislecel_single_arm.toml"),
        0.9,
        scenario="Phase 1/2 estimate",
        n_max=200,
    )
    assert int(at.metric[0].value) == expected.n


def test_adding_an_interim_look_shows_stopping_probabilities():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.selectbox(key="w_rule").set_value("z-score").run()
    at.selectbox(key="w_interim").set_value("one interim look").run()
    assert not at.exception
    assert any("efficacy" in " ".join(d.value.columns) for d in at.table)
    at.selectbox(key="w_interim").set_value("none").run()
    assert not at.exception
    assert not any("efficacy" in " ".join(d.value.columns) for d in at.table)


def test_invalid_edit_shows_an_error_box():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.number_input(key="w_goal").set_value(1.5).run()  # a performance goal above 1
    assert not at.exception
    assert any("performance_goal" in e.value for e in at.error)
    assert len(results(at)) >= 5  # results of the last valid design are still shown


def test_export_page_builds_the_report():
    at = page("export_page")
    at.button(key="build_report").click().run()
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert "Download the report (HTML)" in labels and "Download the design (TOML)" in labels


def test_key_secondaries_are_shown():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.selectbox(key="example_choice").set_value("hba1c_key_secondaries.toml").run()
    assert not at.exception
    tables = [d.value for d in at.table if "all rejected" in d.value.columns]
    assert tables and "Phase 1/2 effects" in set(tables[0]["scenario"])


def load_text(at: AppTest, text: str) -> AppTest:
    at.text_area(key="pasted").set_value(text)
    at.button(key="load_pasted").click().run()
    return at


def test_type_one_error_banner_and_calibrate_button():
    """An uncalibrated Bayesian design shows a red banner beside the cards with the exact maximum type I error;
    the calibrate button sets a threshold that holds alpha and the banner goes, other edits kept."""
    from planner.design import design_to_toml

    design = load_design(ROOT / "examples" / "zimislecel_single_arm_bayes.toml").with_changes(
        {"analysis.threshold": 0.975}
    )
    at = load_text(AppTest.from_file(APP, default_timeout=120).run(), design_to_toml(design))
    assert not at.exception
    api = evaluate(design).type_one_error
    banners = [e.value for e in at.error if "TYPE I ERROR ABOVE ALPHA" in e.value]
    assert banners and f"{api.value:.4f}" in banners[0]
    labels = {m.label: m.value for m in at.metric}
    assert labels["Type I error (maximum over the null)"] == f"{api.value:.4f}"
    at.number_input(key="w_n").set_value(60).run()  # an edit the calibration must keep
    at.button(key="calibrate").click().run()
    assert not at.exception
    assert not [e for e in at.error if "TYPE I ERROR ABOVE ALPHA" in e.value]
    assert at.number_input(key="w_n").value == 60
    threshold = at.number_input(key="w_threshold").value
    calibrated = evaluate(design.with_changes({"arms.n": 60, "analysis.threshold": threshold}))
    assert not calibrated.type_one_error.exceeds
    assert {m.label: m.value for m in at.metric}[
        "Type I error (maximum over the null)"
    ] == f"{calibrated.type_one_error.value:.4f}"


def test_frequentist_design_shows_its_maximum_type_one_error_without_a_banner():
    at = AppTest.from_file(APP, default_timeout=120).run()
    api = evaluate(load_design(ROOT / "examples" / "zimislecel_single_arm.toml")).type_one_error
    labels = {m.label: m.value for m in at.metric}
    assert labels["Maximum type I error (alpha 0.025)"] == f"{api.value:.4f}"
    assert not [e for e in at.error if "TYPE I ERROR" in e.value]


def _durability_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.selectbox(key="example_choice").set_value("zimislecel_durability.toml").run()
    assert not at.exception
    return at


def test_time_to_event_fields_edit_the_endpoint_and_the_numbers_are_the_apis():
    """The durability example: time-to-event fields (censored dropout, accrual, follow-up) instead of the
    binary dropout slider; an edit of the dropout probability gives the API's numbers for that design."""
    at = _durability_app()
    keys = {w.key for w in at.slider} | {w.key for w in at.number_input}
    assert {"w_tte_dropout", "w_accrual", "w_follow_up"} <= keys and "w_dropout" not in keys
    at.slider(key="w_tte_dropout").set_value(0.2).run()
    assert not at.exception and not at.error
    table = results(at).set_index("scenario")["P(success)"]
    design = load_design(ROOT / "examples" / "zimislecel_durability.toml").with_changes(
        {"endpoint.dropout_probability": 0.2}
    )
    sims = at.select_slider[0].value
    api = evaluate(design, n_sims=sims)
    for r in api.results:
        assert table[r.scenario.name] == f"{r.success.value:.4f}", r.scenario.name


def test_editing_a_scenario_keeps_the_columns_the_design_needs():
    """The scenario table of a responders-only design shows the probability of responding and the durable
    fraction; editing a median keeps them (before, every edit dropped what the table did not show)."""
    at = _durability_app()
    shown = next(t.value for t in at.table if "responders" in t.value.columns)  # the scenarios, as a table
    assert list(shown.columns) == ["name", "treatment", "durable", "responders"]
    at.toggle(key="w_edit_scenarios").set_value(True).run()
    frame = next(
        d.value for d in at.dataframe if "responders" in getattr(d.value, "columns", [])
    )  # the editor
    assert list(frame.columns) == ["name", "treatment", "durable", "responders"]
    from planner import ui

    design = load_design(ROOT / "examples" / "zimislecel_durability.toml")
    rows = ui.scenario_rows(design)
    rows[1]["treatment"] = 50.0
    edits = ui.edits_from_fields(design, ui.widget_defaults(design), rows)
    edited = design.with_changes(edits)
    assert edited.scenarios[1].treatment == 50.0
    assert [s.responders for s in edited.scenarios] == [s.responders for s in design.scenarios]
    assert edited.model_dump(exclude={"scenarios"}) == design.model_dump(exclude={"scenarios"})


def test_switching_away_from_a_margin_rule_drops_the_margin_and_back_keeps_the_rest():
    """A pasted Farrington-Manning design (margin 0.1): choosing Fisher's test removes the margin (no error), and
    the cards are the API's for the Fisher design with the pasted N and scenarios (where equal rates are the
    null, so the type I error card); the edit functions agree."""
    from planner import ui
    from planner.design import design_to_toml, parse_design

    design = parse_design(
        {
            "name": "non-inferiority",
            "arms": {"kind": "randomized", "n": 120},
            "endpoint": {"kind": "binary"},
            "analysis": {"rule": "farrington-manning", "margin": 0.1},
            "scenarios": [{"name": "equal 0.8", "treatment": 0.8, "control": 0.8}],
        }
    )
    values = ui.widget_defaults(design) | {"w_rule": "fisher"}
    switched = ui.apply_edits(design_to_toml(design), ui.edits_from_fields(design, values, None))
    assert switched.analysis.rule == "fisher" and switched.analysis.margin is None
    kept = ui.apply_edits(
        design_to_toml(design), ui.edits_from_fields(design, ui.widget_defaults(design), None)
    )
    assert kept.analysis.margin == 0.1
    at = load_text(AppTest.from_file(APP, default_timeout=120).run(), design_to_toml(design))
    assert not at.exception
    label = "Power: equal 0.8"
    before = {m.label: m.value for m in at.metric}[label]
    assert before == f"{evaluate(design)['equal 0.8'].success.value:.4f}"
    at.selectbox(key="w_rule").set_value("fisher").run()
    assert not at.exception and not [e.value for e in at.error if "analysis.margin" in e.value]
    fisher = design.with_changes({"analysis.rule": "fisher", "analysis.margin": None})
    shown = {m.label: m.value for m in at.metric}  # without a margin equal rates are the null: its size only
    assert label not in shown
    assert shown["Maximum type I error (alpha 0.025)"] == f"{evaluate(fisher).type_one_error.value:.4f}"


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_margin_field_edits_the_margin_and_a_wrong_sign_is_named():
    """A pasted Farrington-Manning design: the margin field shows 0.1; 0.15 gives the API's power at margin
    0.15; a margin of -0.1 gives the message naming analysis.margin beside the field, the typed value and the
    last valid numbers kept; emptying it tests superiority (equal rates are then the null: the size card)."""
    from planner.design import design_to_toml, parse_design

    design = parse_design(
        {
            "name": "non-inferiority",
            "arms": {"kind": "randomized", "n": 120},
            "endpoint": {"kind": "binary"},
            "analysis": {"rule": "farrington-manning", "margin": 0.1},
            "scenarios": [{"name": "equal 0.8", "treatment": 0.8, "control": 0.8}],
        }
    )
    at = load_text(AppTest.from_file(APP, default_timeout=120).run(), design_to_toml(design))
    assert at.number_input(key="w_margin").value == pytest.approx(0.1)
    at.number_input(key="w_margin").set_value(0.15).run()
    assert not at.exception
    wider = design.with_changes({"analysis.margin": 0.15})
    assert _metrics(at)["Power: equal 0.8"] == f"{evaluate(wider)['equal 0.8'].success.value:.4f}"
    at.number_input(key="w_margin").set_value(-0.1).run()
    assert not at.exception
    assert any("analysis.margin" in e.value and "-0.1" in e.value for e in at.error)
    assert at.number_input(key="w_margin").value == pytest.approx(-0.1)
    assert _metrics(at)["Power: equal 0.8"] == f"{evaluate(wider)['equal 0.8'].success.value:.4f}"
    at.number_input(key="w_margin").set_value(None).run()
    superiority = design.with_changes({"analysis.margin": None})
    assert not at.exception and not [e.value for e in at.error if "analysis.margin" in e.value]
    size = _metrics(at)["Maximum type I error (alpha 0.025)"]
    assert size == f"{evaluate(superiority).type_one_error.value:.4f}"


def test_the_scenario_table_sets_a_control_sd_and_the_cards_follow():
    """The shipped randomized HbA1c design with the t-pooled rule and 12 participants, pasted: its scenario
    table has sd and control_sd columns (blank: the endpoint's sd); a control sd of 2.5 in the Phase 1/2 row
    gives the API's power for that design (below 1, so the card tells)."""
    from planner import ui
    from planner.design import design_to_toml

    design = load_design(ROOT / "examples" / "hba1c_randomized.toml").with_changes(
        {"analysis.rule": "t-pooled", "endpoint.baseline_correlation": 0.0, "arms.n": 12}
    )
    text = design_to_toml(design)
    assert ui.scenario_columns(design)[-2:] == ["sd", "control_sd"]
    assert "control_sd" not in ui.scenario_columns(design.with_changes({"analysis.rule": "ancova"}))
    rows = ui.scenario_rows(design)
    rows[1]["control_sd"] = 2.5
    edited = ui.apply_edits(text, ui.edits_from_fields(design, ui.widget_defaults(design), rows))
    assert edited.scenarios[1].control_sd == 2.5 and edited.scenarios[0].control_sd is None
    at = load_text(AppTest.from_file(APP, default_timeout=120).run(), text)
    at.session_state["saved_scenarios"] = rows
    at.run()
    assert not at.exception
    api = evaluate(edited, n_sims=int(at.session_state["w_sims"]), seed=design.simulation.seed)
    label = "Power: Phase 1/2 effect"
    assert api["Phase 1/2 effect"].success.value < 0.99
    assert _metrics(at)[label] == f"{api['Phase 1/2 effect'].success.value:.4f}"


def test_a_count_design_with_accrual_shows_the_accrual_field():
    from planner.design import design_to_toml, parse_design

    design = parse_design(
        {
            "name": "counts with accrual",
            "arms": {"kind": "randomized", "n": 80},
            "endpoint": {"kind": "count", "exposure": 1.0, "accrual_time": 1.0, "dispersion": 0.5},
            "analysis": {"rule": "nb-wald"},
            "simulation": {"n_sims": 2000},
            "scenarios": [{"name": "a", "treatment": 1.0, "control": 4.0}],
        }
    )
    at = load_text(AppTest.from_file(APP, default_timeout=120).run(), design_to_toml(design))
    assert at.number_input(key="w_accrual").value == 1.0
    at.number_input(key="w_accrual").set_value(2.0).run()
    assert not at.exception
    api = evaluate(
        design.with_changes({"endpoint.accrual_time": 2.0}), n_sims=int(at.session_state["w_sims"])
    )
    assert _metrics(at)["Power: a"] == f"{api['a'].success.value:.4f}"
