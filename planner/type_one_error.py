"""The type I error guard: the maximum probability of declaring success over the composite null.

Every design is checked, whatever scenarios it lists: the planner derives the null itself on the
estimand scale (:meth:`planner.design.Design.null_boundary`, so a null stays null when dropout
changes) and evaluates the rule over it:

* single-arm binary designs (fixed or with interim looks): exactly, on a grid of response rates from
  0 to the null boundary (the rejection probability of a count-monotone rule increases with the rate,
  so the maximum is at the boundary; the grid shows it);
* randomized binary designs: exactly where enumeration is cheap, on a grid of common response rates
  (the size of a two-arm test depends on the common rate; with a non-inferiority margin, treatment rates
  the margin below the control's); simulated otherwise;
* continuous and count designs: simulated at the boundary (single arm) or at equal arms, or at the non-inferiority margin (randomized,
  at the control values of the scenarios, and half and twice them for counts), with the design's
  seed, each value with its Monte Carlo SE; single-arm time-to-event designs whose time starts at a
  response: at the boundary for each responder probability the scenarios state.

Designs with non-binding futility are judged ignoring futility (what a regulator computes); binding
ones with it. A design **exceeds alpha** when the exact maximum is above alpha, or a simulated one is
above alpha + 2 MCSE; the check then states why (the discreteness of an approximate test, or a Bayesian
threshold that is not calibrated to alpha and borrows from its analysis prior).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from planner.design import Design, Scenario

__all__ = ["NullPoint", "TypeOneErrorCheck", "check_type_one_error", "judge", "null_scenarios"]

EXACT_TOL = 1e-9  # relative slack for floating-point sums of exact probabilities
MCSE_MARGIN = 2.0  # simulated values flag above alpha + 2 MCSE
APPROXIMATE_RULES = {
    "z-score": "the normal approximation of the score z test ignores the discreteness of the binomial count; "
    "the exact-binomial rule holds alpha",
    "z-pooled": "the normal approximation of the pooled z test ignores the discreteness of the 2x2 table; "
    "Fisher's or Boschloo's test holds alpha",
    "farrington-manning": "the Farrington-Manning score test relies on a large-sample normal approximation "
    "and ignores the discreteness of the 2x2 table",
    "nb-wald": "the Wald test of the log rate ratio relies on a large-sample normal approximation",
    "welch": "Welch's degrees of freedom are an approximation",
}


@dataclass(frozen=True)
class NullPoint:
    """One truth in the composite null and the probability that the design declares success there."""

    treatment: float
    control: float | None
    value: float
    mcse: float
    exact: bool


@dataclass(frozen=True)
class TypeOneErrorCheck:
    """The maximum type I error of a design over its composite null, and whether it exceeds alpha."""

    alpha: float
    value: float
    mcse: float
    exact: bool
    at: NullPoint
    grid: tuple[NullPoint, ...]
    exceeds: bool
    cause: str | None
    futility: str  # "none", "binding" or "ignored (non-binding)": how futility stops entered the value

    @property
    def message(self) -> str | None:
        """One sentence for every output, when alpha is exceeded (None otherwise)."""
        if not self.exceeds:
            return None
        control = self.at.control
        relation = " = " if control is not None and abs(self.at.treatment - control) < 1e-12 else ", "
        where = f"treatment {self.at.treatment:.4g}" + (
            f"{relation}control {control:.4g}" if control is not None else ""
        )
        how = "exact" if self.exact else f"MCSE {self.mcse:.4f}"
        return (
            f"TYPE I ERROR ABOVE ALPHA: the maximum over the null is {self.value:.4f} ({how}, at {where}) "
            f"> alpha {self.alpha:g}. Cause: {self.cause}"
        )

    @property
    def finding(self) -> str:
        """The statement a report makes, computed from the numbers it describes."""
        how = "exact" if self.exact else f"Monte Carlo SE {self.mcse:.4f}"
        where = f"treatment {self.at.treatment:.4g}" + (
            f" and control {self.at.control:.4g}" if self.at.control is not None else ""
        )
        if self.exceeds:
            return (
                f"The maximum type I error over the null is {self.value:.4f} ({how}, at {where}), above the "
                f"one-sided alpha {self.alpha:g}. Cause: {self.cause}."
            )
        margin = "" if self.exact else f" (at most alpha + {MCSE_MARGIN:g} MCSE)"
        return (
            f"The maximum type I error over the null is {self.value:.4f} ({how}, at {where}), within the "
            f"one-sided alpha {self.alpha:g}{margin}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "max_type_one_error": self.value,
            "mcse": self.mcse,
            "exact": self.exact,
            "at": {"treatment": self.at.treatment, "control": self.at.control},
            "exceeds_alpha": self.exceeds,
            "cause": self.cause,
            "message": self.message,
            "futility": self.futility,
            "grid": [
                {"treatment": g.treatment, "control": g.control, "p_success": g.value, "mcse": g.mcse}
                for g in self.grid
            ],
        }


def null_scenarios(design: Design) -> list[Scenario]:
    """The truths at which the guard evaluates a simulated design (see the module docstring)."""
    if not design.randomized:
        boundary = design.null_boundary()
        if (
            getattr(design.endpoint, "time_origin", None) == "response"
        ):  # at each responder probability stated
            fractions = sorted({float(s.responders) for s in design.scenarios if s.responders is not None})
            return [
                Scenario(name=f"null boundary (responders {r:g})", treatment=boundary, responders=r)
                for r in fractions
            ]
        sds = {None} | {s.sd for s in design.scenarios if s.sd is not None}
        return [
            Scenario(name=f"null boundary{'' if sd is None else f' (sd {sd:g})'}", treatment=boundary, sd=sd)
            for sd in sorted(sds, key=lambda v: -1 if v is None else v)
        ]
    controls = sorted({float(s.control) for s in design.scenarios if s.control is not None})
    if design.endpoint.kind == "binary":  # control rates whose null treatment rate is a rate
        grid = set(np.round(np.linspace(0.05 + design.margin, 0.95, 7), 6)) | set(controls)
        values = sorted(v for v in grid if 0.0 <= design.null_treatment(v) <= 1.0)
    elif design.endpoint.kind == "count":
        values = sorted({v * f for v in controls for f in (0.5, 1.0, 2.0) if v > 0} or {1.0})
    else:
        values = controls or [0.0]
    # the treatment at the null (Design.null_treatment): equal to the control, or worse by the margin
    equal_means = [
        Scenario(name=f"null {v:.4g}", treatment=design.null_treatment(v), control=float(v)) for v in values
    ]
    if design.endpoint.kind != "continuous":
        return equal_means
    spreads = sorted({(s.sd or design.endpoint.sd, s.control_sd) for s in design.scenarios if s.control_sd})
    return [  # equal means also at each pair of arm sds a scenario states (continuous designs only have them)
        Scenario(
            name=f"null {v:.4g} (sd {sd:g}, control sd {csd:g})",
            treatment=design.null_treatment(v),
            control=v,
            sd=sd,
            control_sd=csd,
        )
        for v in values
        for sd, csd in spreads
    ] + equal_means


def _futility_mode(design: Design) -> str:
    it = design.interim
    if it is None or it.futility == "none":
        return "none"
    return "binding" if it.binding else "ignored (non-binding)"


def _cause(design: Design) -> str:
    rule = design.analysis.rule
    if design.rule_info.bayesian:
        prior = design.analysis.prior
        borrowing = (
            "it borrows from an informative analysis prior"
            if prior is not None
            else "the posterior probability is not a p-value"
        )
        return (
            f"the posterior-probability threshold {design.analysis.threshold:g} is not calibrated to alpha "
            f"({borrowing}); calibrate it with `planner calibrate`"
        )
    if rule == "t-pooled" and any(s.control_sd is not None for s in design.scenarios):
        return (
            "the pooled t test assumes one standard deviation in both arms, and the scenarios give the arms "
            "different ones (control_sd); with unequal arm sizes its level is not alpha -- the welch rule "
            "allows unequal standard deviations"
        )
    if design.interim is not None and design.endpoint.kind == "binary" and rule == "z-score":
        return (
            "normal-theory spending boundaries applied to a binomial score z statistic ignore the "
            "discreteness of the count; the exact-binomial rule spends alpha exactly on the count scale"
        )
    it = design.interim
    if rule == "exact-binomial" and it is not None and it.efficacy_counts is not None:
        binding = (
            ""
            if it.binding or it.futility == "none"
            else (
                "; a design whose alpha counts on its futility stops (as Simon's) must declare them binding "
                "(interim.binding = true)"
            )
        )
        return "the efficacy_counts given in the design are not derived from alpha" + binding
    if rule in APPROXIMATE_RULES:
        return APPROXIMATE_RULES[rule]
    return f"the {rule} test's reference distribution does not hold exactly for this estimand and dropout"


def check_type_one_error(
    design: Design, *, exact_power: Callable | None, simulate: Callable[[Scenario], tuple[float, float]]
) -> TypeOneErrorCheck | None:
    """Maximum type I error of ``design`` over its composite null.

    ``exact_power(treatment_array, control) -> array`` gives exact success probabilities (None when
    the design is not enumerated); ``simulate(scenario) -> (value, mcse)`` the simulated one, judged as
    the design is (ignoring non-binding futility). Designs with several endpoints return None (their
    family-wise error is :func:`planner.multiple.familywise_error`).
    """
    if design.multiple is not None:
        return None
    grid: list[NullPoint] = []
    if exact_power is not None and not design.randomized:
        boundary = design.null_boundary()
        values = np.unique(np.concatenate([np.linspace(0.0, boundary, 41), [boundary]]))
        powers = exact_power(values, None)
        grid = [NullPoint(float(v), None, float(p), 0.0, True) for v, p in zip(values, powers, strict=True)]
    elif exact_power is not None:  # control rates v, the treatment at the null (Design.null_treatment)
        values = (float(x) for x in np.linspace(0.02 + design.margin, 0.98, 49))
        grid = [
            NullPoint(t, v, float(exact_power(np.array([t]), v)[0]), 0.0, True)
            for v, t in ((v, design.null_treatment(v)) for v in values)
        ]
    else:
        for sc in null_scenarios(design):
            value, mcse = simulate(sc)
            grid.append(NullPoint(sc.treatment, sc.control, value, mcse, False))
    return judge(design, grid)


def judge(design: Design, grid: list[NullPoint]) -> TypeOneErrorCheck:
    """The check of a design from its values over the null: the largest, and whether it exceeds alpha (exact
    values beyond rounding, simulated ones by more than 2 MCSE), with the cause."""
    alpha = design.analysis.alpha
    worst = max(grid, key=lambda g: g.value)
    if worst.exact:
        exceeds = worst.value > alpha * (1 + EXACT_TOL)
    else:
        exceeds = worst.value > alpha + MCSE_MARGIN * worst.mcse
    return TypeOneErrorCheck(
        alpha,
        worst.value,
        worst.mcse,
        worst.exact,
        worst,
        tuple(grid),
        exceeds,
        _cause(design) if exceeds else None,
        _futility_mode(design),
    )
