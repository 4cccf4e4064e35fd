"""Bad input in the app (AppTest): every case shows an error naming the field and the value, keeps what the
user typed and every other input, and shows the results of the last valid design, labelled as such."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner import evaluate, load_design

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
DEFAULT = load_design(ROOT / "examples" / "zimislecel_single_arm.toml")


def results(at: AppTest):
    """The results table as shown (text cells, probabilities to 4 decimals)."""
    return next(t.value for t in at.table if "P(success)" in t.value.columns)


def start() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.slider(key="w_dropout").set_value(0.1).run()  # an earlier valid edit that must be kept
    return at


def last_valid_power(at: AppTest) -> str:
    return results(at).set_index("scenario").loc["Phase 1/2 estimate", "P(success)"]


EXPECTED_AFTER_DROPOUT = evaluate(DEFAULT.with_changes({"dropout.rate": 0.1}))[
    "Phase 1/2 estimate"
].success.value

# (name, widget kind, key, bad value, words in the message)
WIDGET_CASES = [
    ("N zero", "number_input", "w_n", 0, "arms.n"),
    ("N negative", "number_input", "w_n", -5, "arms.n"),
    ("N a billion", "number_input", "w_n", 10**9, "arms.n"),
    ("N just above the limit", "number_input", "w_n", 100_001, "arms.n"),
    ("alpha zero", "number_input", "w_alpha", 0.0, "analysis.alpha"),
    ("alpha 0.7", "number_input", "w_alpha", 0.7, "analysis.alpha"),
    ("alpha negative", "number_input", "w_alpha", -0.01, "analysis.alpha"),
    ("goal 1.2", "number_input", "w_goal", 1.2, "analysis.performance_goal"),
    ("goal zero", "number_input", "w_goal", 0.0, "analysis.performance_goal"),
    ("goal negative", "number_input", "w_goal", -0.3, "analysis.performance_goal"),
]


@pytest.mark.parametrize(
    ("name", "kind", "key", "value", "words"), WIDGET_CASES, ids=[c[0] for c in WIDGET_CASES]
)
def test_invalid_field_edit(name, kind, key, value, words):
    at = start()
    getattr(at, kind)(key=key).set_value(value).run()
    assert not at.exception
    messages = [e.value for e in at.error]
    assert any(words in m for m in messages), (name, messages)
    assert getattr(at, kind)(key=key).value == value  # what the user typed is kept
    assert at.slider(key="w_dropout").value == 0.1  # and so is every other input
    assert any("last valid design" in w.value for w in at.warning)
    assert last_valid_power(at) == f"{EXPECTED_AFTER_DROPOUT:.4f}"


def test_invalid_then_corrected_edit_recovers():
    at = start()
    at.number_input(key="w_n").set_value(0).run()
    at.number_input(key="w_n").set_value(60).run()
    assert not [e for e in at.error if "arms.n" in e.value]
    want = evaluate(DEFAULT.with_changes({"dropout.rate": 0.1, "arms.n": 60}))[
        "Phase 1/2 estimate"
    ].success.value
    assert last_valid_power(at) == f"{want:.4f}"


# (name, pasted TOML, words)
BAD_FILES = [
    ("not TOML", "name = 'x\n", "not valid TOML"),
    (
        "negative N",
        (ROOT / "examples" / "zimislecel_single_arm.toml").read_text().replace("n = 50", "n = -4"),
        "arms.n",
    ),
    (
        "probability 1.3",
        (ROOT / "examples" / "zimislecel_single_arm.toml")
        .read_text()
        .replace("treatment = 0.44", "treatment = 1.3"),
        "scenarios[1].treatment",
    ),
    (
        "N as text",
        (ROOT / "examples" / "zimislecel_single_arm.toml").read_text().replace("n = 50", 'n = "50"'),
        "arms.n",
    ),
    ("missing arms", "name = 'x'\n[endpoint]\nkind = 'binary'\n", "arms"),
    # time to event (issue 14's list): a negative median, a cure fraction of 1.2, events above the participants,
    # piecewise cut points that do not increase
    (
        "negative median",
        (ROOT / "examples" / "zimislecel_durability.toml")
        .read_text()
        .replace("treatment = 39.36 ", "treatment = -39.36 "),
        "scenarios[1].treatment",
    ),
    (
        "cure fraction 1.2",
        (ROOT / "examples" / "zimislecel_durability.toml")
        .read_text()
        .replace("treatment = 44.84 ", "treatment = 44.84\ndurable = [1.2] "),
        "scenarios[2].durable: a durable (cure) fraction must lie in [0, 1), got 1.2",
    ),
    (
        "events above participants",
        (ROOT / "examples" / "zimislecel_durability.toml")
        .read_text()
        .replace("follow_up = 24.0 ", "events = 80 "),
        "endpoint.events: 80 events cannot come from arms.n = 50 participants",
    ),
    (
        "cut points not increasing",
        (ROOT / "examples" / "zimislecel_durability.toml")
        .read_text()
        .replace(
            'kind = "time-to-event"',
            'kind = "time-to-event"\nmodel = "piecewise-exponential"\n'
            "cuts = [0.0, 12.0, 6.0]\nrelative_hazards = [1.0, 0.5, 0.25]",
        ),
        "endpoint.cuts: must start at 0 and increase, got [0.0, 12.0, 6.0]",
    ),
    (
        "unknown rule",
        (ROOT / "examples" / "zimislecel_single_arm.toml")
        .read_text()
        .replace('rule = "exact-binomial"', 'rule = "magic"'),
        "analysis.rule",
    ),
]


@pytest.mark.parametrize(("name", "text", "words"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_pasted_design_keeps_the_current_one(name, text, words):
    at = start()
    at.text_area(key="pasted").set_value(text)
    at.button(key="load_pasted").click().run()
    assert not at.exception
    assert any(words in e.value for e in at.error), (name, [e.value for e in at.error])
    assert at.slider(key="w_dropout").value == 0.1
    assert last_valid_power(at) == f"{EXPECTED_AFTER_DROPOUT:.4f}"
    assert at.text_area(key="pasted").value == text  # what the user pasted stays for correcting


def test_corpus_size():
    assert len(WIDGET_CASES) + len(BAD_FILES) >= 15


DURABILITY = load_design(ROOT / "examples" / "zimislecel_durability.toml")
EXPECTED_DURABILITY = evaluate(DURABILITY.with_changes({"endpoint.dropout_probability": 0.1}), n_sims=20_000)

# time-to-event fields of the durability example: (name, key, bad value, words in the message)
TIME_TO_EVENT_CASES = [
    (
        "follow-up shorter than zero",
        "w_follow_up",
        -3.0,
        "endpoint.follow_up: cannot be shorter than zero, got -3.0",
    ),
    ("accrual period zero", "w_accrual", 0.0, "endpoint.accrual_time"),
    ("goal median negative", "w_goal", -15.0, "analysis.performance_goal"),
]


@pytest.mark.parametrize(
    ("name", "key", "value", "words"), TIME_TO_EVENT_CASES, ids=[c[0] for c in TIME_TO_EVENT_CASES]
)
def test_invalid_time_to_event_edit(name, key, value, words):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.selectbox(key="example_choice").set_value("zimislecel_durability.toml").run()
    at.select_slider[0].set_value(20_000).run()
    at.slider(key="w_tte_dropout").set_value(0.1).run()  # an earlier valid edit that must be kept
    at.number_input(key=key).set_value(value).run()
    assert not at.exception
    messages = [e.value for e in at.error]
    assert any(words in m for m in messages), (name, messages)
    assert at.number_input(key=key).value == value
    assert at.slider(key="w_tte_dropout").value == 0.1
    assert any("last valid design" in w.value for w in at.warning)
    shown = results(at).set_index("scenario")["P(success)"]
    for r in EXPECTED_DURABILITY.results:
        assert shown[r.scenario.name] == f"{r.success.value:.4f}"
