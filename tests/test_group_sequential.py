"""Group sequential simulation: type I error at nominal, agreement with the integration and with rpact."""

from __future__ import annotations

import numpy as np
import pytest

from planner import DesignError, evaluate, parse_design
from planner.looks import boundaries_for
from planner.randomness import BlockStreams
from planner.rules import rule_for
from planner.sequential import crossing_probabilities
from tests.conftest import make_design, within_mcse

NULL_ALT = {
    "continuous": (
        {"kind": "continuous", "sd": 1.0},
        "t-pooled",
        [
            {"name": "null", "treatment": 0.0, "control": 0.0},
            {"name": "alt", "treatment": 0.5, "control": 0.0},
        ],
    ),
    "binary": (
        {"kind": "binary"},
        "z-pooled",
        [
            {"name": "null", "treatment": 0.3, "control": 0.3},
            {"name": "alt", "treatment": 0.6, "control": 0.3},
        ],
    ),
    "count": (
        {"kind": "count", "exposure": 1.0, "dispersion": 0.5},
        "nb-wald",
        [
            {"name": "null", "treatment": 4.0, "control": 4.0},
            {"name": "alt", "treatment": 2.5, "control": 4.0},
        ],
    ),
}


def gsd(endpoint_kind, spending="obrien-fleming", n=150, fractions=(1 / 3, 2 / 3, 1.0), **interim):
    ep, rule, scenarios = NULL_ALT[endpoint_kind]
    d = make_design({"kind": "randomized", "n": n}, ep, {"rule": rule}, scenarios)
    return d.with_changes({"interim": {"fractions": list(fractions), "spending": spending, **interim}})


@pytest.mark.parametrize("kind", ["continuous", "binary", "count"])
@pytest.mark.parametrize(
    ("spending", "extra"), [("obrien-fleming", {}), ("pocock", {}), ("hsd", {"gamma": -2.0})]
)
def test_simulated_type_one_error_is_nominal(kind, spending, extra):
    """10^6 null trials: within 3 MCSE of alpha (t and Wald statistics on the z scale are approximately normal)."""
    d = gsd(kind, spending, n=300 if kind != "binary" else 150, **extra)
    null = evaluate(d, n_sims=1_000_000, seed=11, method="simulate")["null"]
    assert null.is_null
    assert abs(null.success.value - 0.025) <= 3 * null.success.mcse, null.success.value
    if kind == "binary":  # two binomial arms are also enumerated exactly: the simulation agrees with it
        exact = evaluate(d)["null"].success
        assert exact.exact and abs(exact.value - null.success.value) <= 3 * null.success.mcse


def test_stopping_probabilities_match_the_integration():
    """Per-look stopping under an alternative equals the recursive integration of the canonical distribution.

    Large arms make the t statistic's extra variance from estimating sd (about drift^2 / (2 df))
    negligible, so simulation and integration describe the same thing.
    """
    ep, rule, _ = NULL_ALT["continuous"]
    d = make_design(
        {"kind": "randomized", "n": 20_000},
        ep,
        {"rule": rule},
        [{"name": "alt", "treatment": 0.09, "control": 0.0}],
    )
    d = d.with_changes({"interim": {"fractions": [1 / 3, 2 / 3, 1.0], "spending": "pocock"}})
    alt = evaluate(d, n_sims=400_000, seed=5)["alt"]
    b = boundaries_for(d)
    drift = 0.09 / np.sqrt(2 / 10_000)
    up, _ = crossing_probabilities(b, drift)
    for est, ref in zip(alt.stages.efficacy_stop, up, strict=True):
        assert within_mcse(est.value, ref, est.n_sims), (est.value, ref)
    expected_n = 20_000 / 3 * (1 * up[0] + 2 * up[1] + 3 * (1 - up[0] - up[1]))
    assert alt.expected_n == pytest.approx(expected_n, abs=4 * alt.stages.expected_n_mcse + 1)


# rpact 3.3.4, R 4.2.2; 10^5 iterations, seed 1 (benchmarks/rpact_sequential.R):
#   design <- getDesignGroupSequential(kMax = 3, alpha = 0.025, sided = 1, typeOfDesign = td)
#   getSimulationMeans(design, groups = 2, alternative = c(0, 0.5), stDev = 1, plannedSubjects = c(50, 100, 150),
#                      normalApproximation = FALSE, maxNumberOfIterations = 1e5, seed = 1)
#   getSimulationRates(design, groups = 2, pi1 = c(0.3, 0.6), pi2 = 0.3, plannedSubjects = c(50, 100, 150),
#                      normalApproximation = TRUE, maxNumberOfIterations = 1e5, seed = 1)
#   $overallReject, $expectedNumberOfSubjects
# For means under H0 rpact reports 0.0262 (seed 1) and 0.0277 (seed 2), above alpha: its overall statistic
# combines stage-wise t statistics weighted by sqrt(n) ("disregarding the fact that the variance can be
# estimated from the overall data", rpact's own comment). The planner uses the cumulative pooled t test,
# whose null rejection is nominal (test_simulated_type_one_error_is_nominal), so the continuous null is
# compared with alpha there and not with rpact here.
RPACT = {
    ("continuous", "obrien-fleming"): ((None, 0.85752), (149.6695, 124.7665)),
    ("binary", "obrien-fleming"): ((0.02493, 0.95929), (149.6945, 112.4885)),
    ("continuous", "pocock"): ((None, 0.80344), (148.4765, 105.6090)),
    ("binary", "pocock"): ((0.02519, 0.93903), (148.446, 89.013)),
}


@pytest.mark.parametrize(("kind", "spending"), list(RPACT))
def test_agrees_with_rpact_simulation(kind, spending):
    (reject, expected_n) = RPACT[(kind, spending)]
    res = evaluate(gsd(kind, spending), n_sims=200_000, seed=3)
    for r, ref_p, ref_n in zip(res.results, reject, expected_n, strict=True):
        if ref_p is not None:
            se = np.sqrt(ref_p * (1 - ref_p) * (1 / 1e5 + 1 / 2e5))
            assert abs(r.success.value - ref_p) <= 4 * se, (r.scenario.name, r.success.value, ref_p)
        assert r.expected_n == pytest.approx(ref_n, abs=0.6)


def test_outcome_categories_add_up():
    d = gsd("continuous", "obrien-fleming", futility="conditional-power", futility_threshold=0.2)
    alt = evaluate(d, n_sims=100_000)["alt"]
    s = alt.stages
    total = (
        s.early_success.value + s.final_success.value + s.futility_stop_early.value + s.final_failure.value
    )
    assert total == pytest.approx(1.0, abs=1e-12)
    assert alt.success.value == pytest.approx(s.early_success.value + s.final_success.value, abs=1e-12)
    assert s.futility_stop_early.value > 0
    # non-binding futility: obeying it can only lower the rejection probability
    assert s.reject_ignoring_futility.value >= alt.success.value


def test_nonbinding_futility_keeps_type_one_error_when_ignored():
    d = gsd("continuous", "obrien-fleming", n=300, futility="conditional-power", futility_threshold=0.2)
    null = evaluate(d, n_sims=1_000_000, seed=2)["null"]
    ignoring = null.stages.reject_ignoring_futility
    assert abs(ignoring.value - 0.025) <= 3 * ignoring.mcse
    assert null.success.value < 0.025
    assert null.expected_n < 300


def test_binding_futility_spends_alpha_with_futility_obeyed():
    d = gsd(
        "continuous",
        "obrien-fleming",
        n=300,
        futility="conditional-power",
        futility_threshold=0.2,
        binding=True,
    )
    null = evaluate(d, n_sims=1_000_000, seed=4)["null"]
    assert abs(null.success.value - 0.025) <= 3 * null.success.mcse


CHUNKED = {
    "binary pocock": lambda: gsd("binary", "pocock"),
    "continuous, pooled statistics": lambda: gsd("continuous", "obrien-fleming"),
    "continuous, missing dropout and futility": lambda: gsd(
        "continuous", "obrien-fleming", futility="conditional-power", futility_threshold=0.2
    ).with_changes({"dropout": {"rate": 0.2, "strategy": "missing"}}),
    "count": lambda: gsd("count", "pocock"),
}


@pytest.mark.parametrize("name", list(CHUNKED))
def test_same_numbers_whatever_the_chunk_size(name):
    """Trials that crossed an efficacy bound are dropped from later looks; the stage streams are consumed by
    the trials still simulated in trial order, so the chunking still changes nothing (stages included)."""
    d = CHUNKED[name]()
    a = evaluate(d, n_sims=150_000, chunk_size=1_000, method="simulate", type_one_error=False)
    b = evaluate(d, n_sims=150_000, chunk_size=100_000, method="simulate", type_one_error=False)
    assert [r.to_dict() for r in a.results] == [r.to_dict() for r in b.results]
    assert a.results[-1].stages.efficacy_stop[0].value > 0  # some trials did stop early


@pytest.mark.parametrize(
    ("interim", "message"),
    [
        ({"fractions": [0.5, 0.4, 1.0]}, "interim.fractions"),
        ({"fractions": [0.5, 0.9]}, "interim.fractions"),
        ({"fractions": [0.5, 1.0], "spending": "hsd"}, "interim.gamma"),
        (
            {"fractions": [0.5, 1.0], "spending": "custom", "cumulative_alpha": [0.01, 0.02]},
            "interim.cumulative_alpha",
        ),
        ({"fractions": [0.5, 1.0], "binding": True}, "interim.binding"),
        ({"fractions": [0.001, 1.0]}, "interim.fractions"),
    ],
)
def test_bad_interim_settings_are_named(interim, message):
    ep, rule, scenarios = NULL_ALT["continuous"]
    data = make_design({"kind": "randomized", "n": 100}, ep, {"rule": rule}, scenarios).model_dump(
        mode="json"
    )
    data["interim"] = interim
    from planner import parse_design

    with pytest.raises(DesignError, match=message.replace(".", r"\.")):
        parse_design(data)


def test_rules_without_sequential_version_are_refused():
    d = make_design(
        {"kind": "randomized", "n": 100},
        {"kind": "binary"},
        {"rule": "fisher"},
        [{"name": "s", "treatment": 0.5, "control": 0.3}],
    ).model_dump(mode="json")
    d["interim"] = {"fractions": [0.5, 1.0]}
    from planner import parse_design

    with pytest.raises(DesignError, match="no group sequential version"):
        parse_design(d)


def _per_patient_pooled_t_looks(design, scenario, trials: int, seed: int) -> np.ndarray:
    """Independent reference: participants drawn one by one (a trials x participants array per arm), the
    cumulative pooled t statistic at every look from the raw values, each trial stopped at the first look
    whose statistic reaches the efficacy bound (the t value equivalent to the z bound at its df) or falls
    below the futility bound; returns the counts stopped for efficacy at each look."""
    from planner.looks import boundaries_for
    from planner.sequential import at_or_above_threshold

    rng = np.random.default_rng(seed)
    bounds = boundaries_for(design)
    n1, n2 = design.arms.sizes
    x1 = rng.normal(scenario.treatment, design.endpoint.sd, (trials, n1))
    x2 = rng.normal(scenario.control, design.endpoint.sd, (trials, n2))
    running = np.ones(trials, dtype=bool)
    efficacy = []
    for k, (m1, m2) in enumerate(design.look_sizes):
        a, b = x1[:, :m1], x2[:, :m2]
        df = m1 + m2 - 2
        ss = ((a - a.mean(1, keepdims=True)) ** 2).sum(1) + ((b - b.mean(1, keepdims=True)) ** 2).sum(1)
        t = (a.mean(1) - b.mean(1)) / np.sqrt(ss / df * (1 / m1 + 1 / m2))
        cross = t >= at_or_above_threshold(bounds.efficacy[k], df, design.arms.n)
        lower = bounds.futility[k]
        below = (
            t < at_or_above_threshold(lower, df, design.arms.n)
            if np.isfinite(lower)
            else np.zeros_like(cross)
        )
        efficacy.append(int(np.count_nonzero(running & cross)))
        running &= ~cross & ~below
    return np.array(efficacy)


@pytest.mark.parametrize(
    ("allocation", "fractions", "futility", "in_ratio"),
    [
        ([1, 1], [1 / 3, 2 / 3, 1.0], "none", True),
        ([2, 1], [1 / 3, 2 / 3, 1.0], "beta-spending", True),
        ([2, 1], [0.3, 0.55, 1.0], "none", False),  # stage sizes off the 2:1 ratio: per-arm statistics
    ],
)
def test_sequential_pooled_t_matches_a_per_patient_simulation(allocation, fractions, futility, in_ratio):
    """The pooled t looks drawn from their minimal statistics (one normal for the difference and one
    chi-square per stage when the stages keep the arms' ratio; per-arm means otherwise) stop for efficacy at
    each look as often as participant-level data do: 10^5 trials each side, every look's stopping probability
    within 4 MC SEs of the difference (null and alternative)."""
    from planner.group_sequential import _stages_in_ratio, simulate_looks

    d = parse_design(
        {
            "name": "pooled t looks",
            "arms": {"kind": "randomized", "n": 90, "allocation": allocation},
            "endpoint": {"kind": "continuous", "sd": 2.0},
            "analysis": {"rule": "t-pooled"},
            "interim": {"fractions": fractions, "futility": futility},
            "scenarios": [
                {"name": "null", "treatment": 0.0, "control": 0.0},
                {"name": "alt", "treatment": 1.2, "control": 0.0},
            ],
        }
    )
    assert _stages_in_ratio(d) is in_ratio
    trials = 100_000
    for i, scenario in enumerate(d.scenarios):
        ours = simulate_looks(d, rule_for(d), scenario, BlockStreams(17, i), trials).efficacy
        reference = _per_patient_pooled_t_looks(d, scenario, trials, seed=100 + i)
        p, q = ours / trials, reference / trials
        se = np.sqrt((p * (1 - p) + q * (1 - q)) / trials)
        assert np.all(np.abs(p - q) <= 4 * np.maximum(se, 1e-4)), (scenario.name, p, q)
        assert q.sum() > 0


@pytest.mark.parametrize(
    ("allocation", "fractions"), [([1, 1], [0.25, 0.5, 1.0]), ([2, 1], [0.3, 0.55, 1.0])]
)
def test_sequential_pooled_statistics_have_the_moments_of_participant_data(allocation, fractions):
    """The cumulative pooled statistics at each look against their closed forms for N_k participants at look k
    (sd s, true difference delta): SS_k / s^2 ~ chi^2(N_k - 2) (mean N_k - 2, variance 2 (N_k - 2)),
    independent of D_k; D_k ~ N(delta, s^2 (1/n_1k + 1/n_2k)); corr(D_j, D_k) = sqrt(I_j / I_k) with
    I = 1 / (1/n_1 + 1/n_2), and corr(SS_j, SS_k) = sqrt((N_j - 2) / (N_k - 2)) (nested chi-squares, the
    later adding independent terms). 2 x 10^5 trials, each moment within 5 of its standard errors."""
    from planner.group_sequential import _Stages

    sd, delta, trials = 1.5, 0.4, 200_000
    d = parse_design(
        {
            "name": "pooled moments",
            "arms": {"kind": "randomized", "n": 90, "allocation": allocation},
            "endpoint": {"kind": "continuous", "sd": sd},
            "analysis": {"rule": "t-pooled"},
            "interim": {"fractions": fractions},
            "scenarios": [{"name": "alt", "treatment": delta, "control": 0.0}],
        }
    )
    stages = _Stages(d, d.scenarios[0], BlockStreams(3, 0))
    differences, squares = [], []
    for k, look in enumerate(d.look_sizes):
        sample = stages.advance(k, look, trials)
        differences.append(sample.difference.copy())  # copies: the next stage updates in place
        squares.append(sample.ss / sd**2)
    root = np.sqrt(trials)
    for k, (n1, n2) in enumerate(d.look_sizes):
        df = n1 + n2 - 2
        assert abs(squares[k].mean() - df) <= 5 * np.sqrt(2 * df) / root
        assert abs(squares[k].var() / (2 * df) - 1) <= 5 * np.sqrt(2 + 12 / df) / root
        v = sd**2 * (1 / n1 + 1 / n2)
        assert abs(differences[k].mean() - delta) <= 5 * np.sqrt(v) / root
        assert abs(differences[k].var() / v - 1) <= 5 * np.sqrt(2) / root
        for f in (differences[k], (differences[k] - delta) ** 2):
            assert abs(np.corrcoef(squares[k], f)[0, 1]) <= 5 / root
        for j in range(k):
            info_j, info_k = (1 / (1 / a + 1 / b) for a, b in (d.look_sizes[j], (n1, n2)))
            r = np.corrcoef(differences[j], differences[k])[0, 1]
            assert abs(r - np.sqrt(info_j / info_k)) <= 5 * (1 - r**2) / root
            r = np.corrcoef(squares[j], squares[k])[0, 1]
            m1, m2 = d.look_sizes[j]
            assert abs(r - np.sqrt((m1 + m2 - 2) / df)) <= 5 * 2 / root
