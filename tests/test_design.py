"""Design files: examples load, round-trip, and every kind of bad input names its field and value."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from planner import DesignError, design_to_toml, load_design, parse_design, parse_design_text
from planner.rules.catalog import RULES

BASE = {
    "name": "d",
    "arms": {"kind": "single-arm", "n": 50},
    "endpoint": {"kind": "binary"},
    "analysis": {"rule": "exact-binomial", "performance_goal": 0.5},
    "scenarios": [{"name": "null", "treatment": 0.5}],
}


def with_field(path: str, value):
    data = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    target = data
    for p in parents:
        target = target[int(p)] if isinstance(target, list) else target[p]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return data


_DELETE = object()


def problems(data) -> tuple[str, ...]:
    with pytest.raises(DesignError) as info:
        parse_design(data)
    return info.value.problems


def test_examples_load_and_round_trip(examples_dir):
    files = sorted(examples_dir.glob("*.toml"))
    assert len(files) >= 3
    for f in files:
        design = load_design(f)
        again = parse_design_text(design_to_toml(design))
        assert again == design
        assert again.hash() == design.hash()


def test_hash_changes_with_any_field():
    a = parse_design(BASE)
    b = parse_design(with_field("arms.n", 51))
    assert a.hash() != b.hash()
    assert a.hash() == parse_design(copy.deepcopy(BASE)).hash()


def test_allocation_split():
    d = parse_design(
        {
            **BASE,
            "arms": {"kind": "randomized", "n": 50, "allocation": [2.0, 1.0]},
            "analysis": {"rule": "fisher"},
            "scenarios": [{"name": "s", "treatment": 0.5, "control": 0.3}],
        }
    )
    assert d.arms.sizes == (33, 17)  # round(50 * 2/3) = 33


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("arms.n", -5, ["arms.n", "-5"]),
        ("arms.n", 0, ["arms.n", "0"]),
        ("arms.n", "fifty", ["arms.n", "'fifty'"]),
        ("arms.n", 50.5, ["arms.n", "50.5"]),
        ("arms.kind", "crossover", ["arms.kind", "'crossover'"]),
        ("endpoint.kind", "binomial", ["endpoint.kind", "'binomial'"]),
        ("analysis.rule", "chi-square", ["analysis.rule", "'chi-square'"]),
        ("analysis.alpha", 1.3, ["analysis.alpha", "1.3"]),
        ("analysis.alpha", "0.05", ["analysis.alpha", "'0.05'"]),
        ("analysis.performance_goal", 1.3, ["analysis.performance_goal", "1.3"]),
        ("scenarios.0.treatment", 1.3, ["scenarios[0].treatment", "1.3"]),
        ("scenarios.0.treatment", -0.1, ["scenarios[0].treatment", "-0.1"]),
        ("analysis.performance_goal", _DELETE, ["analysis.performance_goal", "required"]),
        ("arms.n", _DELETE, ["arms.n", "missing"]),
        ("analysis.alhpa", 0.05, ["analysis.alhpa", "unknown field"]),
        ("dropout", {"rate": 1.0}, ["dropout.rate", "1.0"]),
        ("dropout", {"rate": 0.1, "strategy": "ignore"}, ["dropout.strategy", "'ignore'"]),
        ("simulation", {"n_sims": 10**13}, ["simulation.n_sims", "10000000000000"]),
        ("simulation", {"n_sims": 5}, ["simulation.n_sims", "5"]),
        ("simulation", {"n_sims": -100}, ["simulation.n_sims", "-100"]),
    ],
)
def test_bad_field_is_named_with_its_value(path, value, expected):
    found = problems(with_field(path, value))
    assert any(all(e in p for e in expected) for p in found), found


def test_rule_must_fit_design():
    found = problems(with_field("analysis.rule", "fisher"))
    assert any("analysis.rule" in p and "single-arm binary" in p for p in found)


def test_randomized_scenario_needs_control():
    data = {**BASE, "arms": {"kind": "randomized", "n": 40}, "analysis": {"rule": "fisher"}}
    found = problems(data)
    assert any(p.startswith("scenarios[0].control") for p in found)


def test_cross_field_rules_name_fields():
    cont = {"kind": "continuous", "sd": 1.0}
    rnd = {"kind": "randomized", "n": 40}
    two = [{"name": "s", "treatment": 0.0, "control": 0.0}]
    found = problems(
        {
            **BASE,
            "arms": rnd,
            "endpoint": cont,
            "analysis": {"rule": "t-pooled"},
            "scenarios": two,
            "dropout": {"rate": 0.1, "strategy": "failure"},
        }
    )
    assert any(p.startswith("endpoint.failure_value") for p in found)
    found = problems({**BASE, "analysis": {"rule": "posterior-probability", "performance_goal": 0.5}})
    assert any(p.startswith("analysis.threshold") for p in found)
    found = problems(
        {**BASE, "analysis": {"rule": "exact-binomial", "performance_goal": 0.5, "threshold": 0.9}}
    )
    assert any(p.startswith("analysis.threshold") for p in found)
    found = problems(
        {
            **BASE,
            "analysis": {
                "rule": "posterior-probability",
                "performance_goal": 0.5,
                "threshold": 0.9,
                "prior": {"family": "beta", "components": [{"weight": 0.5, "a": 1.0, "b": 1.0}]},
            },
        }
    )
    assert any("weights must sum to 1" in p for p in found)
    found = problems(
        {**BASE, "scenarios": [{"name": "a", "treatment": 0.5}, {"name": "a", "treatment": 0.6}]}
    )
    assert any("scenarios[1].name" in p for p in found)


def test_catalog_rules_all_constructible():
    # every rule in the catalog is reachable from a valid design
    endpoints = {
        "binary": {"kind": "binary"},
        "continuous": {"kind": "continuous", "sd": 1.0},
        "count": {"kind": "count", "exposure": 1.0, "dispersion": 0.5},
        "time-to-event": {"kind": "time-to-event", "accrual_time": 12.0, "follow_up": 12.0},
    }
    for name, info in RULES.items():
        for ep in info.endpoints:
            for arms in info.arms:
                analysis = {"rule": name}
                scen = {"name": "s", "treatment": 0.5}
                if arms == "single-arm":
                    analysis["performance_goal"] = 0.5
                else:
                    scen["control"] = 0.4
                if info.bayesian:
                    analysis["threshold"] = 0.9
                if name == "km-landmark":
                    analysis["landmark"] = 12.0
                if name == "exponential-posterior":  # a hazard prior is required
                    analysis["prior"] = {"family": "fitted", "name": "durability_hazard"}
                parse_design(
                    {
                        **BASE,
                        "arms": {"kind": arms, "n": 40},
                        "endpoint": endpoints[ep],
                        "analysis": analysis,
                        "scenarios": [scen],
                    }
                )


def test_malformed_toml_names_file(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("name = 'x'\n[arms\nkind = 'single-arm'\n")
    with pytest.raises(DesignError) as info:
        load_design(f)
    assert "bad.toml" in str(info.value) and "TOML" in str(info.value)


def test_missing_file():
    with pytest.raises(DesignError, match="no such design file"):
        load_design("/nonexistent/design.toml")


def test_null_scenarios_follow_the_estimand():
    # with dropouts counted as failures, a rate of 0.5 / 0.92 puts the composite exactly at the goal
    d = parse_design(
        {
            **BASE,
            "dropout": {"rate": 0.08, "strategy": "failure"},
            "scenarios": [
                {"name": "boundary", "treatment": 0.5 / 0.92},
                {"name": "above", "treatment": 0.55},
            ],
        }
    )
    assert d.estimand_truth(d.scenarios[0])[0] == pytest.approx(0.5)
    assert d.is_null(d.scenarios[0])
    assert not d.is_null(d.scenarios[1])


def test_with_n_is_the_typed_sample_size_change():
    """Design.with_n: the search's way to set N (checked as a whole number, the N-dependent checks rerun)."""
    from pathlib import Path

    d = load_design(Path(__file__).resolve().parent.parent / "examples" / "hba1c_randomized.toml")
    assert d.with_n(60).arms.n == 60 and d.with_n(60) == d.with_changes({"arms.n": 60})
    for bad, message in ((0, "arms.n: must be between 1"), (2.5, "arms.n: must be a whole number")):
        with pytest.raises(DesignError, match=message):
            d.with_n(bad)


def test_the_hba1c_example_uses_ancova_with_the_sourced_correlation():
    """Issue 16, item 5: ANCOVA on baseline HbA1c is the randomized HbA1c example's analysis, its baseline
    correlation the evidence file's (Jones et al. 2016, with its source), and [multiple] designs refuse it."""
    import tomllib

    from planner.resources import priors_dir

    root = Path(__file__).resolve().parent.parent
    d = load_design(root / "examples" / "hba1c_randomized.toml")
    evidence = tomllib.loads((priors_dir() / "evidence.toml").read_text())
    anchor = evidence["comparators"]["hba1c_baseline_response"]
    assert d.analysis.rule == "ancova" and d.endpoint.baseline_correlation == anchor["correlation"]
    assert anchor["correlation"] == pytest.approx(-(anchor["r_squared"] ** 0.5), abs=5e-4)
    assert "PLoS One 2016" in evidence["sources"][anchor["source"]]
    secondaries = load_design(root / "examples" / "hba1c_key_secondaries.toml")
    assert secondaries.analysis.rule == "ancova" and secondaries.multiple_spec().ancova
    hba1c = next(e for e in secondaries.multiple.endpoints if e.name == "HbA1c change")
    assert hba1c.baseline_correlation == anchor["correlation"]
    with pytest.raises(DesignError, match=r"multiple\.endpoints\[1\]\.baseline_correlation: only continuous"):
        secondaries.with_changes(
            {
                "multiple.endpoints": [
                    e.model_dump() | ({"baseline_correlation": 0.3} if i == 1 else {})
                    for i, e in enumerate(secondaries.multiple.endpoints)
                ]
            }
        )
