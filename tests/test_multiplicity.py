"""Multiple testing procedures and correlated endpoints: equivalences, closed forms, family-wise error."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from planner import DesignError
from planner.multiple import Composite, EndpointSpec, MultipleEndpoints, familywise_error, simulate_multiple
from planner.multiplicity import fixed_sequence, fixed_sequence_graph, graphical, holm, holm_graph
from tests.conftest import within_mcse

P = np.random.default_rng(1).random((100_000, 4)) ** 2


def test_graphical_special_cases_equal_holm_and_fixed_sequence():
    assert np.array_equal(graphical(P, 0.025, *holm_graph(4)), holm(P, 0.025))
    assert np.array_equal(graphical(P, 0.025, *fixed_sequence_graph(4)), fixed_sequence(P, 0.025))


def test_holm_by_hand():
    p = np.array([[0.01, 0.04, 0.03], [0.001, 0.2, 0.012], [0.02, 0.02, 0.02]])
    # alpha 0.05: thresholds 0.0167, 0.025, 0.05 for the sorted p-values
    assert holm(p, 0.05).tolist() == [[True, False, False], [True, False, True], [False, False, False]]


def test_graphical_bonferroni_without_transitions():
    w = [0.5, 0.5]
    g = np.zeros((2, 2))
    assert np.array_equal(graphical(P[:, :2], 0.05, w, g), P[:, :2] <= 0.025)


def test_graphical_example_of_bretz_2009():
    """Two primaries with alpha split 1/2 : 1/2, each passing on to its secondary (Bretz et al. 2009, Fig. 3 shape)."""
    w = [0.5, 0.5, 0.0, 0.0]
    g = [[0, 0.5, 0.5, 0], [0.5, 0, 0, 0.5], [0, 1, 0, 0], [1, 0, 0, 0]]
    p = np.array([[0.01, 0.5, 0.02, 0.5]])  # H1 at 0.025 -> its weight goes half to H2, half to H3
    # after H1: w2 = 0.75, w3 = 0.25; H3: 0.02 > 0.25 * 0.05 = 0.0125, H2 not -> only H1
    assert graphical(p, 0.05, w, g).tolist() == [[True, False, False, False]]
    p = np.array([[0.01, 0.5, 0.012, 0.5]])  # now H3 <= 0.0125: rejected, its weight flows on to H2
    assert graphical(p, 0.05, w, g).tolist() == [[True, False, True, False]]


def zimislecel_endpoints(procedure="holm", **kw):
    return MultipleEndpoints(
        endpoints=(
            EndpointSpec("insulin independent", "binary"),
            EndpointSpec("SHE-free", "binary"),
            EndpointSpec("HbA1c change", "continuous", sd=0.7, better="lower"),
            EndpointSpec("time in range", "continuous", sd=5.0),
        ),
        # within-patient HbA1c-TIR correlation about -0.7 (evidence.md); the others are assumptions
        correlation=((1, 0.3, -0.3, 0.3), (0.3, 1, -0.2, 0.2), (-0.3, -0.2, 1, -0.7), (0.3, 0.2, -0.7, 1)),
        composites=(Composite("insulin independent and SHE-free", ("insulin independent", "SHE-free")),),
        hypotheses=("insulin independent and SHE-free", "HbA1c change", "time in range"),
        sizes=(30, 30),
        procedure=procedure,
        **kw,
    )


TRUTH = {
    "insulin independent": (0.8, 0.1),
    "SHE-free": (0.95, 0.7),
    "HbA1c change": (-1.8, -0.33),
    "time in range": (93.0, 71.0),
}


def test_composite_rate_follows_the_copula():
    me = zimislecel_endpoints(procedure="none")
    truth = {**TRUTH, "insulin independent": (0.4, 0.4), "SHE-free": (0.6, 0.6)}
    # the composite's probability is the bivariate normal CDF at the two thresholds
    both = stats.multivariate_normal([0, 0], [[1, 0.3], [0.3, 1]]).cdf(
        [stats.norm.ppf(0.4), stats.norm.ppf(0.6)]
    )
    res = simulate_multiple(me, truth, n_sims=20_000)
    assert res.hypotheses[0] == "insulin independent and SHE-free"
    # under equal arms, the composite's unadjusted test is at most alpha (pooled z, 30 per arm)
    assert res.unadjusted[0].value <= 0.025 + 3 * res.unadjusted[0].mcse
    assert 0 < both < 0.4


@pytest.mark.parametrize(
    ("procedure", "extra"),
    [
        ("holm", {}),
        ("fixed-sequence", {}),
        (
            "graphical",
            {"weights": (0.8, 0.2, 0.0), "transitions": ((0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0))},
        ),
    ],
)
def test_familywise_error_under_every_null_configuration(procedure, extra):
    me = zimislecel_endpoints(procedure, **extra)
    configs = familywise_error(me, TRUTH, n_sims=100_000, seed=3)
    assert len(configs) >= 7
    for c in configs:
        assert c["fwer"].value <= 0.025 + 3 * c["fwer"].mcse, c


def test_z_test_at_low_counts_can_break_the_familywise_error():
    """Why Fisher is the default: with the pooled z test the composite (control rate ~0.09, 30 per arm) is liberal."""
    me = zimislecel_endpoints(
        "graphical",
        weights=(0.8, 0.2, 0.0),
        transitions=((0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0)),
        binary_test="z-pooled",
    )
    configs = familywise_error(me, TRUTH, n_sims=100_000, seed=3)
    assert max(c["fwer"].value for c in configs) > 0.027


def test_no_adjustment_inflates_the_familywise_error():
    configs = familywise_error(zimislecel_endpoints("none"), TRUTH, n_sims=50_000, seed=3)
    worst = max(c["fwer"].value for c in configs)
    assert worst > 0.035  # three tests at 2.5% each: the reason for a procedure


def test_power_per_endpoint_and_all_together():
    res = simulate_multiple(zimislecel_endpoints("holm"), TRUTH, n_sims=50_000)
    for adj, raw in zip(res.power, res.unadjusted, strict=True):
        assert adj.value <= raw.value + 1e-12
    assert res.all_rejected.value <= min(p.value for p in res.power) + 1e-12
    # the HbA1c endpoint alone: pooled t power at the evidence's effect is ~1 with 30 per arm
    assert res.unadjusted[1].value > 0.99


def test_hba1c_power_matches_t_test_closed_form():
    from planner import analytic

    me = MultipleEndpoints(
        endpoints=(EndpointSpec("HbA1c change", "continuous", sd=0.7, better="lower"),),
        correlation=((1.0,),),
        hypotheses=("HbA1c change",),
        sizes=(10, 10),
        procedure="none",
    )
    res = simulate_multiple(me, {"HbA1c change": (-0.9, -0.33)}, n_sims=40_000)
    assert within_mcse(res.power[0].value, analytic.power_t_two_sample(0.57, 0.7, 10, 10, 0.025), 40_000)


def test_same_numbers_whatever_the_chunk_size():
    me = zimislecel_endpoints()
    a = simulate_multiple(me, TRUTH, n_sims=5_000, max_values=10_000)
    b = simulate_multiple(me, TRUTH, n_sims=5_000, max_values=5_000_000)
    assert [e.value for e in a.power] == [e.value for e in b.power]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"correlation": ((1, 2, 0, 0), (2, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1))}, "correlation"),
        ({"hypotheses": ("nope",)}, "hypotheses"),
        ({"procedure": "graphical"}, "weights"),
    ],
)
def test_bad_specifications_are_named(kwargs, message):
    base = dict(
        endpoints=(
            EndpointSpec("insulin independent", "binary"),
            EndpointSpec("SHE-free", "binary"),
            EndpointSpec("HbA1c change", "continuous", sd=0.7),
            EndpointSpec("time in range", "continuous", sd=5.0),
        ),
        correlation=tuple(tuple(float(i == j) for j in range(4)) for i in range(4)),
        hypotheses=("HbA1c change",),
        sizes=(30, 30),
    )
    with pytest.raises(DesignError, match=message):
        MultipleEndpoints(**{**base, **kwargs})


def test_design_file_with_several_endpoints(examples_dir):
    from planner import evaluate, load_design

    d = load_design(examples_dir / "hba1c_key_secondaries.toml")
    res = evaluate(d, n_sims=5_000)
    alt = res["Phase 1/2 effects"]
    assert alt.multiple is not None and alt.multiple.hypotheses[0] == "HbA1c change"
    direct = simulate_multiple(
        d.multiple_spec(), dict(d.scenarios[1].endpoints), n_sims=5_000, seed=d.simulation.seed
    )
    assert [e.value for e in alt.multiple.power] == [e.value for e in direct.power]
    assert res["No difference (null)"].multiple is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {
                "multiple.correlation": [
                    [1.0, 0.0, 0.0, 0.0],
                    [0.0, 1.0, 0.0, 0.0],
                    [0.0, 0.0, 1.0, -1.5],
                    [0.0, 0.0, -1.5, 1.0],
                ]
            },
            "multiple.correlation",
        ),
        ({"multiple.hypotheses": ["HbA1c change", "weight"]}, "multiple.hypotheses"),
        ({"multiple.procedure": "graphical"}, "multiple.weights"),
    ],
)
def test_bad_multiple_sections_are_named(examples_dir, change, message):
    from planner import load_design

    with pytest.raises(DesignError, match=message):
        load_design(examples_dir / "hba1c_key_secondaries.toml").with_changes(change)


def test_scenario_endpoint_values_must_match(examples_dir):
    from planner import load_design, parse_design

    data = load_design(examples_dir / "hba1c_key_secondaries.toml").model_dump(mode="json")
    del data["scenarios"][1]["endpoints"]["time in range"]
    with pytest.raises(DesignError, match=r"scenarios\[1\].endpoints"):
        parse_design(data)
