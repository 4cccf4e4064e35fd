"""Exact multi-stage single-arm binary designs (planner.multistage) against brute-force enumeration written
here, against simulation (within 4 MCSE), and against Simon (1989)'s published table."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from planner import evaluate, load_design, parse_design
from planner.errors import DesignError
from planner.multistage import multistage_for
from planner.sequential import spending
from planner.simon import simon_oc, simon_search

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def single_arm(
    n=30,
    fractions=(0.5, 1.0),
    rule="exact-binomial",
    goal=0.3,
    dropout=0.0,
    strategy="failure",
    scenarios=(0.3, 0.5),
    **interim,
):
    return parse_design(
        {
            "name": "multistage",
            "arms": {"kind": "single-arm", "n": n},
            "endpoint": {"kind": "binary"},
            "dropout": {"rate": dropout, "strategy": strategy},
            "analysis": {"rule": rule, "alpha": 0.025, "performance_goal": goal},
            "interim": {"fractions": list(fractions), **interim},
            "scenarios": [{"name": f"p={p}", "treatment": p} for p in scenarios],
            "simulation": {"n_sims": 200_000, "seed": 11},
        }
    )


# --- brute force: every sequence of stage counts, written independently of planner.multistage -----------


def brute_force(stage_sizes, efficacy, futility, q):
    """P(stop for efficacy / futility at each look) by enumerating every vector of stage responder counts.

    Look k succeeds when the cumulative count is >= efficacy[k], stops for futility when it is < futility[k]
    (interim looks); the last look fails otherwise."""
    K = len(stage_sizes)
    eff, fut = np.zeros(K), np.zeros(K)
    for counts in itertools.product(*(range(s + 1) for s in stage_sizes)):
        prob = np.prod([stats.binom.pmf(c, s, q) for c, s in zip(counts, stage_sizes, strict=True)])
        total = 0
        for k, c in enumerate(counts):
            total += c
            if total >= efficacy[k]:
                eff[k] += prob
                break
            if k == K - 1 or total < futility[k]:
                fut[k] += prob
                break
    return eff, fut


def test_three_looks_with_futility_counts_equal_brute_force():
    d = single_arm(
        n=24,
        fractions=(1 / 3, 2 / 3, 1.0),
        futility="counts",
        futility_counts=[1, 4],
        efficacy_counts=[6, 10, 12],
    )
    oc = multistage_for(d).oc([0.3, 0.45])
    for i, p in enumerate((0.3, 0.45)):
        eff, fut = brute_force((8, 8, 8), (6, 10, 12), (2, 5, 0), p)
        np.testing.assert_allclose(oc.efficacy[i], eff, atol=1e-14)
        np.testing.assert_allclose(oc.futility[i], fut, atol=1e-14)
        assert oc.expected_n[i] == pytest.approx(
            8 * (eff[0] + fut[0]) + 16 * (eff[1] + fut[1]) + 24 * (eff[2] + fut[2])
        )


def spending_counts_by_hand(stage_sizes, alpha_cumulative, q0):
    """Efficacy counts of a two-look design spending alpha exactly (no futility), by direct double sums."""
    n1, n2 = stage_sizes
    e1 = next(c for c in range(n1 + 2) if stats.binom.sf(c - 1, n1, q0) <= alpha_cumulative[0] * (1 + 1e-9))
    crossed1 = stats.binom.sf(e1 - 1, n1, q0)

    def second(c):
        return sum(stats.binom.pmf(x1, n1, q0) * stats.binom.sf(c - x1 - 1, n2, q0) for x1 in range(e1))

    e2 = next(c for c in range(n1 + n2 + 2) if crossed1 + second(c) <= alpha_cumulative[1] * (1 + 1e-9))
    return e1, e2


@pytest.mark.parametrize("kind", ["obrien-fleming", "pocock"])
def test_spending_counts_equal_a_direct_computation(kind):
    d = single_arm(n=40, goal=0.4, spending=kind)
    cum = spending(kind, 0.025, np.array([0.5, 1.0]))
    cum[-1] = 0.025
    b = multistage_for(d).boundaries()
    assert b.efficacy == spending_counts_by_hand((20, 20), cum, 0.4)
    # the counts are the smallest that keep the crossing probability within the alpha spent
    oc = multistage_for(d).oc(0.4)
    assert oc.efficacy[0, 0] <= cum[0] * (1 + 1e-9) and oc.efficacy[0].sum() <= 0.025 * (1 + 1e-9)


def test_missing_dropout_paths_equal_brute_force_over_completer_counts():
    # boundaries are computed for the completer counts observed; enumerate (c1, c2, x1, x2) by hand
    d = single_arm(n=16, fractions=(0.5, 1.0), goal=0.3, dropout=0.2, strategy="missing")
    ms = multistage_for(d)
    p, alpha = 0.3, 0.025
    cum = spending("obrien-fleming", alpha, np.array([0.5, 1.0]))
    cum[-1] = alpha
    total = 0.0
    for c1 in range(9):
        for c2 in range(9):
            w = stats.binom.pmf(c1, 8, 0.8) * stats.binom.pmf(c2, 8, 0.8)
            e1, e2 = spending_counts_by_hand((c1, c2), cum, 0.3)
            eff, _ = brute_force((c1, c2), (e1, e2), (0, 0), p)
            total += w * eff.sum()
    assert ms.oc(p).success[0] == pytest.approx(total, abs=1e-12)
    assert total <= alpha


VARIANTS = [
    {"rule": "exact-binomial", "futility": "conditional-power"},
    {"rule": "exact-binomial", "futility": "conditional-power", "binding": True},
    {"rule": "exact-binomial", "futility": "predictive-probability", "dropout": 0.1, "strategy": "missing"},
    {"rule": "exact-binomial", "spending": "pocock", "fractions": (0.4, 0.7, 1.0), "dropout": 0.1},
    {"rule": "z-score", "futility": "conditional-power"},
]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(str(x) for x in v.values()))
def test_exact_equals_simulation_within_four_mcse(variant):
    kw = dict(variant)
    design_kw = {k: kw.pop(k) for k in ("rule", "dropout", "strategy", "fractions") if k in kw}
    d = single_arm(n=40, goal=0.4, scenarios=(0.4, 0.55, 0.7), **design_kw, **kw)
    exact = evaluate(d)
    sim = evaluate(d, method="simulate")
    for a, b in zip(exact.results, sim.results, strict=True):
        assert a.success.exact and not b.success.exact
        assert abs(a.success.value - b.success.value) <= 4 * max(b.success.mcse, 1e-4)
        for ea, eb in zip(a.stages.efficacy_stop, b.stages.efficacy_stop, strict=True):
            assert abs(ea.value - eb.value) <= 4 * max(eb.mcse, 1e-4)
        ra, rb = a.stages.reject_ignoring_futility, b.stages.reject_ignoring_futility
        assert abs(ra.value - rb.value) <= 4 * max(rb.mcse, 1e-4)
        assert abs(a.expected_n - b.expected_n) <= 4 * max(b.stages.expected_n_mcse, 1e-3)


def test_shipped_group_sequential_example_is_exact_and_within_alpha_binding_and_not():
    d = load_design(EXAMPLES / "zimislecel_group_sequential.toml")
    assert d.analysis.rule == "exact-binomial"
    for binding in (False, True):
        r = evaluate(d.with_changes({"interim.binding": binding}), method="exact")
        check = r.type_one_error
        assert check.exact and check.value <= d.analysis.alpha and not check.exceeds
        assert r["Null boundary"].success.exact
        # the boundary of the composite estimand: (1 - 0.08) x 0.5435 = 0.5
        assert check.at.treatment == pytest.approx(0.5 / 0.92)


def test_normal_theory_version_of_the_example_is_flagged_with_its_exact_size():
    # normal-theory boundaries on the binomial score statistic: 0.0287 obeying futility, 0.0331 ignoring it
    d = load_design(EXAMPLES / "zimislecel_group_sequential.toml").with_changes({"analysis.rule": "z-score"})
    r = evaluate(d)
    assert r["Null boundary"].success.value == pytest.approx(0.02870, abs=5e-5)
    assert r.type_one_error.value == pytest.approx(0.03309, abs=5e-5)  # non-binding: judged ignoring futility
    assert r.type_one_error.exceeds and "discreteness" in r.type_one_error.cause


def test_rejection_rises_with_the_response_rate():
    d = single_arm(n=50, goal=0.5, futility="conditional-power")
    success = multistage_for(d).success_probability(np.linspace(0, 1, 101))
    assert np.all(np.diff(success) >= -1e-15)


# --- Simon (1989), Table 1: (p0, p1, alpha, beta, design, r1, n1, r, n, EN(p0), PET(p0)) --------------------
# Source: Simon R. Optimal two-stage designs for phase II clinical trials. Control Clin Trials 1989;10:1-10,
# Table 1 (EN to one decimal, PET to two). Stage 1 stops when X1 <= r1; success when X1 + X2 > r. The values are
# in planner/validation/simon1989.toml, the file `planner validate` reads too.
def _simon_table():
    from planner.validation import load_references

    rows: dict = {}
    for ref in load_references():
        if ref.file == "simon1989.toml":
            i = ref.inputs
            key = (i["p0"], i["p1"], i["alpha"], i["beta"], i["design"], i["r1"], i["n1"], i["r"], i["n"])
            rows.setdefault(key, {})[ref.method] = ref.expected
    return [(*key, v["simon.expected-n"], v["simon.pet"]) for key, v in rows.items()]


SIMON_1989 = _simon_table()


def simon_as_design(r1, n1, r, n, p0, p1, alpha):
    """A Simon design as a planner design file: futility counts [r1], efficacy only at the end (r + 1)."""
    return parse_design(
        {
            "name": "Simon",
            "arms": {"kind": "single-arm", "n": n},
            "endpoint": {"kind": "binary"},
            "analysis": {"rule": "exact-binomial", "alpha": alpha, "performance_goal": p0},
            "interim": {
                "fractions": [n1 / n, 1.0],
                "futility": "counts",
                "futility_counts": [r1],
                "efficacy_counts": [n1 + 1, r + 1],
                "binding": True,
            },
            "scenarios": [{"name": "p0", "treatment": p0}, {"name": "p1", "treatment": p1}],
        }
    )


@pytest.mark.parametrize("row", SIMON_1989, ids=lambda r: f"{r[0]}-{r[1]}-{r[2]}-{r[3]}-{r[4]}")
def test_simon_table_operating_characteristics_exact(row):
    p0, p1, alpha, beta, _, r1, n1, r, n, en0, pet0 = row
    res = evaluate(simon_as_design(r1, n1, r, n, p0, p1, alpha))
    null, alt = res.results
    assert null.success.exact
    assert null.expected_n == pytest.approx(en0, abs=0.05 + 1e-9)
    assert null.stages.futility_stop[0].value == pytest.approx(pet0, abs=0.005 + 1e-9)
    assert null.success.value <= alpha and alt.success.value >= 1 - beta
    assert not res.type_one_error.exceeds  # Simon's futility is binding: the guard counts on it
    # and the closed form of Simon's paper, written independently in planner.simon
    assert null.success.value == pytest.approx(simon_oc(r1, n1, r, n, p0)[0], abs=1e-13)


@pytest.mark.parametrize("row", SIMON_1989[:12], ids=lambda r: f"{r[0]}-{r[1]}-{r[2]}-{r[3]}-{r[4]}")
def test_simon_search_finds_the_published_designs(row):
    p0, p1, alpha, beta, kind, r1, n1, r, n, _, _ = row
    found = getattr(simon_search(p0, p1, alpha, beta, n_max=70), kind)
    assert (found.r1, found.n1, found.r, found.n) == (r1, n1, r, n)


def test_simon_admissible_designs_lie_between_minimax_and_optimal():
    s = simon_search(0.1, 0.3, 0.05, 0.2, n_max=60)
    assert s.admissible[0] == s.minimax and s.admissible[-1] == s.optimal
    ns = [d.n for d in s.admissible]
    assert ns == sorted(ns) and all(
        a.en0 >= b.en0 for a, b in zip(s.admissible, s.admissible[1:], strict=False)
    )


def brute_force_simon(p0, p1, alpha, beta, n_max):
    """Every (r1, n1, r, n) by plain loops: the optimal design's EN(p0) (an independent reference)."""
    best = np.inf
    for n in range(2, n_max + 1):
        for n1 in range(1, n):
            for r1 in range(n1):
                for r in range(r1, n):
                    a, pet, en = simon_oc(r1, n1, r, n, p0)
                    if a <= alpha and simon_oc(r1, n1, r, n, p1)[0] >= 1 - beta:
                        best = min(best, en)
    return best


def test_simon_search_equals_brute_force_loops():
    s = simon_search(0.2, 0.5, 0.1, 0.2, n_max=22)
    assert s.optimal.en0 == pytest.approx(brute_force_simon(0.2, 0.5, 0.1, 0.2, 22), abs=1e-12)


# --- bad input ---------------------------------------------------------------------------------------------


def test_futility_counts_above_efficacy_counts_name_the_field():
    with pytest.raises(DesignError, match=r"interim.futility_counts\[0\]: 7 .* efficacy_counts\[0\] = 6"):
        single_arm(futility="counts", futility_counts=[7], efficacy_counts=[6, 10])
    d = single_arm(n=30, goal=0.3, futility="counts", futility_counts=[14])
    with pytest.raises(DesignError, match=r"interim.futility_counts\[0\]: 14"):
        evaluate(d)


def test_unreachable_alpha_names_the_field_and_the_value():
    d = single_arm(n=6, fractions=(0.5, 1.0), goal=0.6)  # 0.6^6 = 0.047 > 0.025
    with pytest.raises(DesignError, match=r"analysis.alpha: 0.025 cannot be reached.*0.0467"):
        evaluate(d)


@pytest.mark.parametrize(
    "bad, message",
    [
        (
            {"futility": "counts"},
            r"interim.futility_counts: needs one count per interim look \(1\), got None",
        ),
        (
            {"futility": "counts", "futility_counts": [1, 2]},
            r"interim.futility_counts: needs one count per interim look",
        ),
        ({"efficacy_counts": [5]}, r"interim.efficacy_counts: needs one count per look \(2\), got \[5\]"),
        ({"futility_counts": [2]}, r"interim.futility_counts: only used with futility = 'counts'"),
    ],
)
def test_count_fields_are_checked(bad, message):
    with pytest.raises(DesignError, match=message):
        single_arm(**bad)


def test_simon_search_without_a_feasible_design_names_n_max():
    with pytest.raises(DesignError, match=r"n_max: no two-stage design with N <= 10"):
        simon_search(0.2, 0.3, 0.05, 0.1, n_max=10)
    with pytest.raises(DesignError, match=r"p1: must exceed p0 = 0.4, got 0.3"):
        simon_search(0.4, 0.3, 0.05, 0.1)


# --- two-arm binary group sequential designs (pooled z test), enumerated --------------------------------------


def two_arm(n=120, futility="conditional-power", dropout=0.1):
    return parse_design(
        {
            "name": "two-arm gsd",
            "arms": {"kind": "randomized", "n": n},
            "endpoint": {"kind": "binary"},
            "analysis": {"rule": "z-pooled"},
            "interim": {"fractions": [0.5, 1.0], "futility": futility},
            "dropout": {"rate": dropout, "strategy": "failure"},
            "scenarios": [
                {"name": "null", "treatment": 0.3, "control": 0.3},
                {"name": "alt", "treatment": 0.55, "control": 0.3},
            ],
            "simulation": {"n_sims": 300_000, "seed": 5},
        }
    )


def test_two_arm_enumeration_equals_simulation_within_four_mcse():
    d = two_arm()
    exact, sim = evaluate(d), evaluate(d, method="simulate")
    for a, b in zip(exact.results, sim.results, strict=True):
        assert a.success.exact
        assert abs(a.success.value - b.success.value) <= 4 * b.success.mcse
        ra, rb = a.stages.reject_ignoring_futility, b.stages.reject_ignoring_futility
        assert abs(ra.value - rb.value) <= 4 * rb.mcse
        assert abs(a.expected_n - b.expected_n) <= 4 * b.stages.expected_n_mcse


def test_two_arm_enumeration_equals_brute_force_over_all_tables():
    """Every (x_t1, x_c1, x_t2, x_c2) of a small design, with the pooled z statistic written here."""
    from planner.looks import boundaries_for

    d = two_arm(n=16, dropout=0.0)
    b = boundaries_for(d)
    (mt1, mc1), (mt2, mc2) = d.look_sizes

    def z(xt, xc, mt, mc):
        pooled = (xt + xc) / (mt + mc)
        var = pooled * (1 - pooled) * (1 / mt + 1 / mc)
        return (xt / mt - xc / mc) / np.sqrt(var) if var > 0 else 0.0

    pt, pc = 0.6, 0.35
    total = 0.0
    for xt1, xc1 in itertools.product(range(mt1 + 1), range(mc1 + 1)):
        w1 = stats.binom.pmf(xt1, mt1, pt) * stats.binom.pmf(xc1, mc1, pc)
        z1 = z(xt1, xc1, mt1, mc1)
        if z1 >= b.efficacy[0]:
            total += w1
            continue
        if not z1 >= b.futility[0]:
            continue
        for xt2, xc2 in itertools.product(range(mt2 - mt1 + 1), range(mc2 - mc1 + 1)):
            w2 = stats.binom.pmf(xt2, mt2 - mt1, pt) * stats.binom.pmf(xc2, mc2 - mc1, pc)
            if z(xt1 + xt2, xc1 + xc2, mt2, mc2) >= b.efficacy[1]:
                total += w1 * w2
    assert multistage_for(d).success_probability(pt, pc)[0] == pytest.approx(total, abs=1e-13)


def test_two_arm_normal_theory_design_is_flagged_with_its_exact_size():
    check = evaluate(two_arm()).type_one_error
    assert check.exact and check.exceeds and check.at.control == check.at.treatment
    assert check.value == pytest.approx(0.0278, abs=1e-4)  # ignoring the non-binding futility rule


def test_beta_spending_futility_counts_spend_at_most_beta_and_are_the_largest():
    base = load_design(EXAMPLES / "zimislecel_group_sequential.toml")
    d = base.with_changes(
        {"interim.futility": "beta-spending", "interim.beta_alternative": 0.75, "interim.beta": 0.1}
    )
    ms = multistage_for(d)
    f = ms.boundaries().futility[0]
    spent = spending("obrien-fleming", 0.1, np.array([0.5, 1.0]))[0]
    assert ms.oc(0.75).futility[0, 0] <= spent
    bigger = d.with_changes(
        {
            "interim.futility": "counts",
            "interim.futility_counts": [f],  # stop at <= f: f + 1
            "interim.beta_alternative": None,
            "interim.beta": 0.2,
        }
    )
    assert multistage_for(bigger).oc(0.75).futility[0, 0] > spent
    assert evaluate(d).type_one_error.value <= 0.025  # non-binding: the efficacy counts ignore futility


def test_beta_spending_counts_need_an_alternative_above_the_null():
    base = load_design(EXAMPLES / "zimislecel_group_sequential.toml")
    with pytest.raises(DesignError, match="interim.beta_alternative: required"):
        base.with_changes({"interim.futility": "beta-spending"})
    with pytest.raises(
        DesignError, match=r"interim.beta_alternative: must lie above the null boundary 0.5435"
    ):
        base.with_changes({"interim.futility": "beta-spending", "interim.beta_alternative": 0.5})


def test_cli_simon_writes_a_design_that_evaluates_to_the_table(tmp_path):
    import json

    from typer.testing import CliRunner

    from planner.cli import app

    runner = CliRunner()
    out = runner.invoke(
        app,
        [
            "simon",
            "--p0",
            "0.1",
            "--p1",
            "0.3",
            "--alpha",
            "0.05",
            "--beta",
            "0.2",
            "-o",
            str(tmp_path / "simon.toml"),
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    optimal = json.loads(out.stdout)["optimal"]
    assert (optimal["r1"], optimal["n1"], optimal["r"], optimal["n"]) == (1, 10, 5, 29)
    res = evaluate(load_design(tmp_path / "simon.toml"))
    assert res.results[0].expected_n == pytest.approx(optimal["en0"], abs=1e-9)
    assert res.results[0].success.value == pytest.approx(optimal["alpha"], abs=1e-12)
    assert not res.type_one_error.exceeds
    bad = runner.invoke(app, ["simon", "--p0", "0.2", "--p1", "0.3", "--n-max", "10"])
    assert bad.exit_code == 2 and "n_max: no two-stage design" in bad.output and "Traceback" not in bad.output
    bad = runner.invoke(app, ["simon", "--p0", "1.3", "--p1", "0.3"])
    assert bad.exit_code == 2 and "p0: a response rate strictly between 0 and 1, got 1.3" in bad.output
