"""Trial designs: what a phase 3 design states, validated, and read from or written to TOML.

A :class:`Design` is immutable. It states the arms and sample size, the primary
endpoint, dropout and its intercurrent-event strategy, the analysis rule, named
scenarios (the true values per arm) and the simulation settings. Loading checks
every field and every combination of fields; a problem raises
:class:`~planner.errors.DesignError` naming the field and the value.

Conventions
-----------
* ``alpha`` is one-sided. Every test is one-sided in the direction of benefit
  (``endpoint.better``; binary endpoints count responders, so higher is better).
* Randomized designs split ``arms.n`` by ``arms.allocation = [treatment, control]``:
  ``n_treatment = round(n * r_t / (r_t + r_c))``, the control arm gets the rest.
* Dropout happens independently of outcome (missing completely at random) with
  probability ``dropout.rate`` per participant. Strategy ``"failure"`` is the
  composite estimand: a dropout counts as a non-responder (binary) or takes
  ``endpoint.failure_value`` (continuous). Strategy ``"missing"`` analyses the
  completers only.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from planner.defaults import DEFAULT_N_SIMS, DEFAULT_SEED, MAX_SEED, MAX_SIMS, MIN_SIMS
from planner.errors import DesignError, from_validation_error
from planner.rules.catalog import RULES, RuleInfo, rules_for

if TYPE_CHECKING:
    from planner.multiple_spec import MultipleEndpoints

__all__ = [
    "Arms",
    "BinaryEndpoint",
    "ContinuousEndpoint",
    "CountEndpoint",
    "Dropout",
    "Condition",
    "Decision",
    "BetaComponent",
    "BetaPrior",
    "NormalComponent",
    "NormalPrior",
    "GammaComponent",
    "GammaPrior",
    "FittedPrior",
    "PointMass",
    "DesignPrior",
    "Interim",
    "Multiple",
    "Analysis",
    "Scenario",
    "Simulation",
    "Design",
    "load_design",
    "parse_design",
    "parse_design_text",
    "design_to_toml",
    "MAX_SIMS",
    "MIN_SIMS",
]


def whole_number(name: str, value: Any, low: int, high: int) -> int:
    """``value`` as an int in [low, high], or a DesignError naming ``name`` and the value."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise DesignError(f"{name}: must be a whole number, got {value!r}")
    number = int(value)
    if not low <= number <= high:
        raise DesignError(f"{name}: must be between {low:,} and {high:,}, got {number:,}")
    return number


MAX_N = 100_000


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Scalars are strict: a TOML string "50" where a number belongs is an error, not a guess.
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Positive = Annotated[Float, Field(gt=0.0)]
Finite = Float
Text = Annotated[str, Strict()]


class Arms(_Spec):
    """Arm layout and total sample size."""

    kind: Literal["single-arm", "randomized"]
    n: Int = Field(gt=0, le=MAX_N, description="total participants enrolled")
    allocation: tuple[Positive, Positive] = Field(
        (1.0, 1.0), description="randomization ratio treatment : control (randomized designs)"
    )

    @property
    def sizes(self) -> tuple[int, ...]:
        """Participants per arm: ``(n,)`` or ``(n_treatment, n_control)``."""
        if self.kind == "single-arm":
            return (self.n,)
        r_t, r_c = self.allocation
        n_t = int(math.floor(self.n * r_t / (r_t + r_c) + 0.5))
        return (n_t, self.n - n_t)


class BinaryEndpoint(_Spec):
    """A responder endpoint; the scenario values are response probabilities."""

    kind: Literal["binary"]
    label: Text = "response"


class ContinuousEndpoint(_Spec):
    """A normally distributed endpoint; scenario values are arm means."""

    kind: Literal["continuous"]
    label: Text = "outcome"
    sd: Positive = Field(description="within-arm standard deviation")
    better: Literal["higher", "lower"] = "higher"
    baseline_correlation: Annotated[Float, Field(ge=-0.99, le=0.99)] = Field(
        0.0, description="correlation of outcome with the baseline covariate (used by 'ancova')"
    )
    failure_value: Finite | None = Field(
        None, description="value given to a dropout under the 'failure' strategy"
    )


class CountEndpoint(_Spec):
    """Event counts over a fixed exposure; scenario values are event rates per unit exposure."""

    kind: Literal["count"]
    label: Text = "events"
    exposure: Positive = Field(description="follow-up per participant, e.g. years")
    accrual_time: Positive | None = Field(
        None,
        description="variable exposure: participants enter uniformly over accrual_time and are followed until "
        "accrual_time + exposure, so each has exposure + accrual_time x (1 - U) (exposure is the least); "
        "randomized nb-wald designs with the true-rates variance, no dropout, no interim looks",
    )
    dispersion: Annotated[Float, Field(ge=0.0, le=100.0)] = Field(
        0.0, description="negative binomial dispersion: Var = mu + dispersion * mu^2 (0 = Poisson)"
    )
    better: Literal["higher", "lower"] = "lower"


class TimeToEventEndpoint(_Spec):
    """Time to an event (loss of insulin independence, graft failure, first severe hypoglycaemia); scenario
    values are each arm's median time to the event, in ``time_unit`` (of the participants who can have it
    when a scenario gives durable fractions). Longer is better: a hazard ratio below 1 is benefit.

    Event times are exponential, Weibull (``shape``) or piecewise exponential (hazards on the intervals
    starting at ``cuts`` in the ratios ``relative_hazards``, scaled to the scenario's median); participants
    enter uniformly over ``accrual_time`` (or at ``accrual_intensities`` over the intervals starting at
    ``accrual_times``); the analysis is at the ``events``-th event (event-driven) or ``follow_up`` after the
    last entry; dropout is a competing exponential hazard with ``dropout_probability`` by ``dropout_time``.
    """

    kind: Literal["time-to-event"]
    label: Text = "time to event"
    time_unit: Literal["days", "weeks", "months", "years"] = "months"
    model: Literal["exponential", "weibull", "piecewise-exponential"] = "exponential"
    shape: Positive = Field(1.0, description="Weibull shape (model = 'weibull'; 1 is exponential)")
    cuts: tuple[Float, ...] | None = Field(
        None, description="piecewise exponential: start times of the hazard intervals (0 first, increasing)"
    )
    relative_hazards: tuple[Positive, ...] | None = Field(
        None, description="piecewise exponential: the hazard of each interval relative to the first"
    )
    accrual_time: Positive | None = Field(None, description="uniform accrual over this period")
    accrual_times: tuple[Float, ...] | None = Field(
        None, description="piecewise accrual: start times of the accrual intervals (0 first), and the end"
    )
    accrual_intensities: tuple[Positive, ...] | None = Field(
        None, description="piecewise accrual: relative entry rate in each interval (one fewer than times)"
    )
    entry: Literal["random", "evenly-spaced"] = Field(
        "random",
        description="entry times: independent draws from the accrual distribution ('random'), or participant "
        "i of N at the time by which a fraction i / N has entered, the arms interleaved in the allocation "
        "ratio ('evenly-spaced', as rpact's getSimulationSurvival)",
    )
    follow_up: Float | None = Field(None, description="analysis this long after the last participant entered")
    events: Int | None = Field(None, gt=0, description="event-driven analysis at this many events")
    dropout_probability: Annotated[Float, Field(ge=0.0, lt=1.0)] = Field(
        0.0, description="probability of dropping out by dropout_time (exponential competing hazard)"
    )
    dropout_time: Positive = 12.0
    time_origin: Literal["infusion", "response"] = Field(
        "infusion",
        description="single arm: the time starts at entry (infusion), or at the onset of the response (insulin "
        "independence) onset_time later, only responders (scenario.responders of the participants) analysed",
    )
    onset_time: Annotated[Float, Field(ge=0.0)] = Field(
        0.0, description="time_origin = 'response': time from entry to the onset of the response"
    )


Endpoint = Annotated[
    BinaryEndpoint | ContinuousEndpoint | CountEndpoint | TimeToEventEndpoint, Field(discriminator="kind")
]


class Dropout(_Spec):
    """Loss to follow-up and how the analysis treats it."""

    rate: Annotated[Float, Field(ge=0.0, lt=1.0)] = 0.0
    strategy: Literal["failure", "missing"] = "failure"


class BetaComponent(_Spec):
    weight: Annotated[Float, Field(gt=0.0, le=1.0)]
    a: Positive
    b: Positive


class NormalComponent(_Spec):
    weight: Annotated[Float, Field(gt=0.0, le=1.0)]
    mean: Finite
    sd: Positive


class _Mixture(_Spec):
    """A mixture prior: its subclasses declare ``components``; the weights must sum to 1."""

    if TYPE_CHECKING:  # declared by each subclass
        components: tuple[Any, ...]

    @model_validator(mode="after")
    def _weights(self) -> _Mixture:
        total = sum(c.weight for c in self.components)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"component weights must sum to 1, got {total:g}")
        return self


class BetaPrior(_Mixture):
    """A mixture of Beta distributions for a response probability."""

    family: Literal["beta"]
    components: tuple[BetaComponent, ...] = Field(min_length=1, max_length=20)


class NormalPrior(_Mixture):
    """A mixture of Normal distributions for a mean (single arm) or a mean difference (randomized)."""

    family: Literal["normal"]
    components: tuple[NormalComponent, ...] = Field(min_length=1, max_length=20)


class GammaComponent(_Spec):
    weight: Annotated[Float, Field(gt=0.0, le=1.0)]
    shape: Positive
    rate: Positive


class GammaPrior(_Mixture):
    """A mixture of Gamma distributions for an event rate (design priors of count endpoints)."""

    family: Literal["gamma"]
    components: tuple[GammaComponent, ...] = Field(min_length=1, max_length=20)


class FittedPrior(_Spec):
    """A prior fitted to the evidence (``planner priors list``), optionally discounted.

    ``a0`` is the power-prior weight given to the evidence (1 = full, 0.5 = half its
    information); ``robust_weight`` mixes in a vague component with that weight.
    """

    family: Literal["fitted"]
    name: Text
    a0: Annotated[Float, Field(gt=0.0, le=1.0)] = 1.0
    robust_weight: Annotated[Float, Field(ge=0.0, lt=1.0)] = 0.0


class PointMass(_Spec):
    """A known value: the design prior of an arm whose truth is taken as fixed."""

    family: Literal["point"]
    value: Finite


Prior = Annotated[BetaPrior | NormalPrior | GammaPrior | FittedPrior, Field(discriminator="family")]
TruthPrior = Annotated[
    BetaPrior | NormalPrior | GammaPrior | FittedPrior | PointMass, Field(discriminator="family")
]


class DesignPrior(_Spec):
    """Distribution of the true values that generate trials: assurance averages success over it.

    Time-to-event designs state hazards per ``endpoint.time_unit`` (Gamma, a fitted hazard prior, or a point),
    each meaning the median log 2 / hazard (the exponential's; other models are scaled to that median):
    single arm, the treatment's hazard (and optionally its durable fraction and, with time_origin =
    'response', the probability of responding); randomized, the control's hazard and the log hazard ratio
    (treatment over control, proportional hazards)."""

    treatment: TruthPrior | None = None
    control: TruthPrior | None = None
    log_hazard_ratio: TruthPrior | None = Field(
        None,
        description="randomized time-to-event: the log hazard ratio, treatment over control (Normal or point)",
    )
    durable: TruthPrior | None = Field(
        None, description="single-arm time-to-event: the treatment's durable (cure) fraction (Beta or point)"
    )
    responders: TruthPrior | None = Field(
        None,
        description="single-arm time-to-event with time_origin = 'response': the probability of responding "
        "(Beta or point; e.g. the fitted insulin_independence)",
    )


class Condition(_Spec):
    """A further condition of a Bayesian rule: P(effect beyond ``value`` | data) > ``probability``, the effect on
    the scale of the performance goal (the treatment's rate or mean, the difference of two arms, the median
    time to the event), "beyond" in the endpoint's direction of benefit."""

    value: Finite
    probability: Annotated[Float, Field(gt=0.0, lt=1.0)]


MARGIN_RULES = ("farrington-manning", "t-pooled", "welch", "nb-wald")  # rules with a non-inferiority margin


class Analysis(_Spec):
    """The decision rule at the final analysis."""

    rule: Text
    alpha: Annotated[Float, Field(gt=0.0, le=0.5)] = Field(0.025, description="one-sided significance level")
    performance_goal: Finite | None = Field(
        None, description="single-arm null value (rate, mean or event rate) the treatment must beat"
    )
    threshold: Annotated[Float, Field(gt=0.0, lt=1.0)] | None = Field(
        None, description="Bayesian rules: success when the posterior probability exceeds it"
    )
    prior: Prior | None = Field(
        None, description="analysis prior (treatment arm, or the difference; a hazard per time_unit: Gamma)"
    )
    control_prior: BetaPrior | None = Field(None, description="analysis prior of the control arm (binary)")
    margin: Annotated[Float, Field(ge=0.0)] | None = Field(
        None,
        description="farrington-manning, t-pooled, welch: the non-inferiority margin on the difference "
        "(treatment - control, in the direction of benefit: success when the treatment is better than the "
        "control minus the margin; 0 or absent: superiority), a difference of response rates below 1; nb-wald: "
        "a rate ratio above 1 (lower better: success when the rate ratio is below it)",
    )
    nb_variance: Literal["true-rates", "control-rate", "restricted"] | None = Field(
        None,
        description="nb-wald: the variance of the log rate ratio (Zhu and Lakkis 2014): each arm's rate "
        "('true-rates', default), the control rate ('control-rate') or the rate restricted to H0",
    )
    landmark: Positive | None = Field(
        None, description="km-landmark: the time at which the survival is tested against the performance goal"
    )
    one_sample_variance: Literal["expected", "average"] | None = Field(
        None,
        description="one-sample-logrank: the variance of O - E, the expected events E ('expected', default: "
        "the classical test) or (O + E) / 2 ('average': the mean of the two usual null estimates E and O; "
        "validated by simulation in this planner's tests, no published source)",
    )
    variance: Literal["unknown", "plug-in"] | None = Field(
        None,
        description="Bayesian rules on a continuous endpoint: 'unknown' (default; Normal-inverse-gamma, "
        "Student-t posterior: with a flat prior the t test) or 'plug-in' (the sample sd as known)",
    )
    conditions: tuple[Condition, ...] = Field(
        (),
        max_length=10,
        description="Bayesian rules: further conditions, each P(effect beyond value | data) > probability; "
        "success when the threshold's condition and every one of these hold (a dual criterion: significance "
        "and clinical relevance, as RBesT's decision1S / decision2S). Count rules (nb-wald, nb-exact): the "
        "test's significance and each condition on the rate (ratio)'s approximate posterior (flat prior on its "
        "log, normal Wald likelihood; probability 0.5: the estimate beyond the value, Roychoudhury et al. 2018)",
    )


class Interim(_Spec):
    """Interim looks.

    Frequentist rules: alpha spending for efficacy, optional conditional-power futility.
    Bayesian rules (posterior-probability; binary single-arm, continuous): efficacy when the posterior
    probability exceeds ``efficacy_threshold`` (default: the final threshold), futility when the
    predictive probability of final success falls below ``futility_threshold``; the type I error
    is then a simulated operating characteristic, calibrated with ``planner.search.calibrate_threshold``.
    ``fractions`` are the fractions of each arm's participants with the endpoint at each look
    (cumulative, ending at 1); the information fractions follow from the planned stage sizes.

    Single-arm binary designs (``exact-binomial``, ``z-score``, ``posterior-probability``) are
    enumerated exactly (:mod:`planner.multistage`): ``exact-binomial`` spends alpha on the count
    scale, optionally with the user's ``efficacy_counts``, and stops for futility by conditional
    power, predictive probability or the user's ``futility_counts``.
    """

    fractions: tuple[Annotated[Float, Field(gt=0.0, le=1.0)], ...] = Field(min_length=2, max_length=10)
    spending: Literal["obrien-fleming", "pocock", "hsd", "custom", "wang-tsiatis"] = "obrien-fleming"
    gamma: Float | None = Field(None, description="Hwang-Shih-DeCani parameter (spending = 'hsd')")
    delta: Annotated[Float, Field(ge=0.0, le=0.5)] | None = Field(
        None,
        description="Wang-Tsiatis parameter (spending = 'wang-tsiatis'): classical boundaries "
        "c t^(delta - 1/2); 0 = O'Brien-Fleming, 0.5 = Pocock",
    )
    cumulative_alpha: tuple[Annotated[Float, Field(ge=0.0)], ...] | None = Field(
        None, description="cumulative alpha spent at each look (spending = 'custom')"
    )
    futility: Literal["none", "conditional-power", "predictive-probability", "counts", "beta-spending"] = (
        "none"
    )
    beta: Annotated[Float, Field(gt=0.0, lt=0.5)] = Field(
        0.2, description="futility = 'beta-spending': the type II error spent over the looks (power 1 - beta)"
    )
    beta_spending: Literal["obrien-fleming", "pocock", "hsd"] = Field(
        "obrien-fleming", description="futility = 'beta-spending': the spending function of beta"
    )
    gamma_beta: Float | None = Field(None, description="Hwang-Shih-DeCani parameter of beta spending")
    beta_alternative: Annotated[Float, Field(gt=0.0, lt=1.0)] | None = Field(
        None,
        description="exact-binomial with futility = 'beta-spending': the response rate (participants who "
        "stay) under which beta is spent",
    )
    futility_threshold: Annotated[Float, Field(gt=0.0, lt=1.0)] = Field(
        0.1,
        description="stop for futility when conditional power (current trend) or the predictive "
        "probability of final success is below this",
    )
    efficacy_threshold: Annotated[Float, Field(gt=0.0, lt=1.0)] | None = Field(
        None, description="Bayesian rules: posterior probability needed to stop for efficacy at an interim"
    )
    binding: bool = Field(
        False, description="futility stops are binding (efficacy bounds computed with them)"
    )
    efficacy_counts: tuple[Annotated[Int, Field(ge=0)], ...] | None = Field(
        None,
        description="exact-binomial: success at look k when the responders reach this count "
        "(replaces the spending boundaries; one per look)",
    )
    futility_counts: tuple[Annotated[Int, Field(ge=0)], ...] | None = Field(
        None,
        description="futility = 'counts': stop at interim look k when the responders are at most "
        "this count (Simon's r1; one per interim look)",
    )


class Scenario(_Spec):
    """A named truth: the value per arm under which operating characteristics are computed."""

    name: Text = Field(min_length=1)
    treatment: Finite
    control: Finite | None = None
    sd: Positive | None = Field(None, description="continuous endpoints: overrides endpoint.sd")
    control_sd: Positive | None = Field(
        None,
        description="randomized continuous endpoints: the control arm's standard deviation when it differs from "
        "the treatment arm's (sd, or endpoint.sd); fixed designs",
    )
    durable: tuple[Float, ...] | None = Field(
        None,
        description="time-to-event endpoints: the durable (cure) fraction of each arm, who never have the event",
    )
    responders: Float | None = Field(
        None,
        description="time-to-event with endpoint.time_origin = 'response': the probability that a participant "
        "responds (becomes insulin independent) and so enters the analysis",
    )
    endpoints: dict[str, tuple[Finite, ...]] | None = Field(
        None,
        description="[multiple] designs: per endpoint of the multiple section, (treatment, control) when "
        "randomized, (value,) for a single arm",
    )


class MultipleEndpointSpec(_Spec):
    name: Text = Field(min_length=1)
    kind: Literal["binary", "continuous", "count"]
    sd: Positive | None = None
    better: Literal["higher", "lower"] = "higher"
    goal: Finite | None = Field(
        None, description="single-arm designs: the endpoint's performance goal (H0: at or short of it)"
    )
    exposure: Positive | None = Field(None, description="count endpoints: exposure per participant")
    dispersion: Annotated[Float, Field(ge=0.0, le=100.0)] = Field(
        0.0, description="count endpoints: negative binomial dispersion (0: Poisson)"
    )
    baseline_correlation: Annotated[Float, Field(ge=-0.99, le=0.99)] | None = Field(
        None, description="continuous endpoints with analysis.rule = 'ancova': correlation with the baseline"
    )


class CompositeSpec(_Spec):
    name: Text = Field(min_length=1)
    all_of: tuple[Text, ...] = Field(min_length=1)


class Decision(_Spec):
    """Go / Consider / No-Go zones after the trial (Lalonde et al. 2007; Frewer et al. 2016), from the analysis
    prior's posterior of the effect (the scale of the performance goal; randomized: the difference of the arms):
    Go when every ``go`` condition holds, P(effect beyond value | data) > probability; No-Go when the trial is
    not Go and every ``no_go`` condition holds, P(effect short of value | data) > probability; Consider
    otherwise ("beyond" in the endpoint's direction of benefit)."""

    go: tuple[Condition, ...] = Field(min_length=1, max_length=10)
    no_go: tuple[Condition, ...] = Field(min_length=1, max_length=10)


class Multiple(_Spec):
    """Several endpoints tested with a multiple testing procedure (randomized designs; see planner.multiple)."""

    endpoints: tuple[MultipleEndpointSpec, ...] = Field(min_length=1, max_length=10)
    correlation: tuple[tuple[Float, ...], ...] = Field(description="latent within-patient correlation matrix")
    composites: tuple[CompositeSpec, ...] = ()
    hypotheses: tuple[Text, ...] = Field(min_length=1, max_length=10)
    procedure: Literal["none", "fixed-sequence", "holm", "graphical"] = "holm"
    weights: tuple[Float, ...] | None = None
    transitions: tuple[tuple[Float, ...], ...] | None = None
    binary_test: Literal["fisher", "z-pooled"] = "fisher"


class Reestimation(_Spec):
    """Sample-size re-estimation at one interim look (planner.adaptive): after ``fraction`` of each arm's
    planned participants, stage 2 may grow up to ``max_n`` participants in total by Mehta and Pocock's
    promising-zone rule or a conditional-power rule; the analysis is the weighted inverse-normal combination
    of the stage-wise z tests with the sd known (``endpoint.sd``), or of stage-wise t tests (``sd`` =
    'estimated', the interim sd in the rule), whose level is alpha whatever the increase.
    Randomized continuous designs with equal allocation, the t-pooled rule, no dropout and no [interim]."""

    fraction: Annotated[Float, Field(gt=0.0, lt=1.0)] = 0.5
    max_n: Int = Field(ge=2, le=MAX_N, description="the cap on the total participants (both arms)")
    rule: Literal["promising-zone", "conditional-power"] = "promising-zone"
    target_power: Annotated[Float, Field(gt=0.0, lt=1.0)] = 0.8
    cp_min: Annotated[Float, Field(gt=0.0, lt=1.0)] = 0.365
    efficacy_spending: Literal["none", "obrien-fleming", "pocock"] = Field(
        "none", description="stop for efficacy at the interim: Lan-DeMets spending ('none': never)"
    )
    futility_z: Annotated[Float, Field(gt=-10.0, lt=10.0)] | None = Field(
        None, description="stop for futility at the interim when z1 is below it (non-binding)"
    )
    sd: Literal["known", "estimated"] = Field(
        "known",
        description="'known': stage-wise z tests with endpoint.sd (operating characteristics by integration); "
        "'estimated': stage-wise t tests and the interim sd in the rule (simulated, with MCSEs)",
    )


class IntercurrentEvent(_Spec):
    """An intercurrent event (ICH E9(R1)) and its strategy. Each participant has at most one; ``probability`` is
    that of having it by the analysis. Composite: the participant counts as a non-responder. Treatment policy
    (and while on treatment): the outcome is observed anyway, a responder with probability ``response``.
    Hypothetical: what would have happened without it -- the outcome after it is not used, and is imputed
    under ``imputation`` ('mar': missing at random from the analysed participants, a Bernoulli model without
    covariates, whose multiple-imputation estimate tends to the analysed participants' proportion: the planner
    analyses those, the limit of many imputations)."""

    name: Text = Field(min_length=1)
    probability: Annotated[Float, Field(ge=0.0, le=1.0)]
    strategy: Literal["composite", "treatment-policy", "hypothetical", "while-on-treatment"]
    response: Annotated[Float, Field(ge=0.0, le=1.0)] | None = None
    imputation: Literal["mar"] | None = None


class Estimand(_Spec):
    """The estimand's attributes (ICH E9(R1)); the intercurrent events change what a binary design's analysis
    estimates (:meth:`Design.analysis_view`; randomized: the same events and strategies in both arms)."""

    population: Text = ""
    variable: Text = ""
    summary: Text = ""
    intercurrent_events: tuple[IntercurrentEvent, ...] = Field((), max_length=10)


class Simulation(_Spec):
    n_sims: Int = Field(DEFAULT_N_SIMS, ge=MIN_SIMS, le=MAX_SIMS)
    seed: Int = Field(DEFAULT_SEED, ge=0, le=MAX_SEED)
    target_mcse: Annotated[Float, Field(ge=1e-5, le=0.1)] | None = Field(
        None,
        description="simulate until every reported probability's Monte Carlo SE is at most this "
        "(planner.engine.evaluate_to_precision; n_sims is then the cap)",
    )


class Design(_Spec):
    """A complete phase 3 design. Build it from Python or with :func:`load_design`."""

    name: Text = Field(min_length=1)
    description: Text = ""
    arms: Arms
    endpoint: Endpoint
    dropout: Dropout = Dropout()
    analysis: Analysis
    scenarios: tuple[Scenario, ...] = Field(min_length=1, max_length=200)
    design_prior: DesignPrior | None = None
    interim: Interim | None = None
    multiple: Multiple | None = None
    decision: Decision | None = None
    reestimation: Reestimation | None = None
    estimand: Estimand | None = None
    simulation: Simulation = Simulation.model_validate({})

    @model_validator(mode="after")
    def _consistent(self) -> Design:
        problems = list(_cross_field_problems(self))
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # --- derived -------------------------------------------------------------------
    @property
    def randomized(self) -> bool:
        return self.arms.kind == "randomized"

    @property
    def look_sizes(self) -> tuple[tuple[int, ...], ...]:
        """Cumulative participants per arm at each look (one look, all of them, without interim)."""
        if self.interim is None:
            return (self.arms.sizes,)
        return tuple(
            tuple(int(math.floor(f * n + 0.5)) for n in self.arms.sizes) for f in self.interim.fractions
        )

    @property
    def look_events(self) -> tuple[int, ...] | None:
        """Event-driven time-to-event designs: the events at each look (the fractions of ``endpoint.events``,
        rounded; the last look at all of them); None for other designs."""
        events = getattr(self.endpoint, "events", None)
        if events is None:
            return None
        if self.interim is None:
            return (int(events),)
        return tuple(int(math.floor(f * events + 0.5)) for f in self.interim.fractions)

    @property
    def min_n(self) -> int:
        """The smallest total N this design accepts: an event-driven time-to-event design needs at least its
        events (each arm's own minimum is checked when an N is set)."""
        events = getattr(self.endpoint, "events", None)
        return int(events) if events is not None else 1

    @property
    def rule_info(self) -> RuleInfo:
        return RULES[self.analysis.rule]

    def estimand_truth(self, scenario: Scenario) -> tuple[float, ...]:
        """True value of the estimand per arm under ``scenario``.

        Scenario values describe participants who stay in the trial. Under the
        'failure' strategy (composite estimand) a dropout is a non-responder or takes
        ``failure_value``, so the estimand is (1 - d) p for a response rate and
        (1 - d) mu + d c for a mean; under 'missing' it is the scenario value itself.
        """
        values: tuple[Any, ...] = (
            (scenario.treatment,) if not self.randomized else (scenario.treatment, scenario.control)
        )
        ep = self.endpoint
        if ep.kind == "time-to-event":
            return self._time_to_event_truth(values, getattr(scenario, "durable", None))
        d = self.dropout.rate
        if d == 0.0 or self.dropout.strategy == "missing" or ep.kind == "count":
            return values
        if ep.kind == "binary":
            return tuple((1.0 - d) * v for v in values)
        assert isinstance(ep, ContinuousEndpoint) and ep.failure_value is not None  # validated
        c = ep.failure_value
        return tuple((1.0 - d) * v + d * c for v in values)

    def _time_to_event_truth(
        self, medians: tuple[Any, ...], durable: tuple[Any, ...] | None
    ) -> tuple[float, ...]:
        """Time to event: each arm's median time to the event (the durable fraction included: with one of 1/2
        or more it is infinite), or for km-landmark the survival at the landmark."""
        from planner.time_to_event.models import endpoint_model

        models = [
            endpoint_model(self.endpoint, m, 0.0 if durable is None else durable[a])
            for a, m in enumerate(medians)
        ]
        if self.analysis.rule == "km-landmark":
            landmark = self.analysis.landmark
            assert landmark is not None  # validated: km-landmark requires it
            return tuple(float(m.survival(landmark)) for m in models)
        return tuple(m.median() for m in models)

    def null_boundary(self) -> float | None:
        """The treatment value (participants who stay) at which the estimand equals the performance goal.

        Single-arm designs only (randomized designs: :meth:`null_treatment`). It inverts
        :meth:`estimand_truth`: under the 'failure' strategy goal / (1 - d) for a response rate
        (capped at 1: then every rate is in the null) and (goal - d c) / (1 - d) for a mean.
        """
        if self.randomized:
            return None
        an, ep = self.analysis, self.endpoint
        assert an.performance_goal is not None  # validated: single-arm designs have a goal
        goal = float(an.performance_goal)
        if an.rule == "km-landmark":  # the median whose survival at the landmark is the goal
            from planner.time_to_event.models import median_for_survival

            assert isinstance(ep, TimeToEventEndpoint) and an.landmark is not None
            return median_for_survival(ep, float(an.landmark), goal)
        d = self.dropout.rate
        if d == 0.0 or self.dropout.strategy == "missing" or ep.kind == "count":
            return goal
        if ep.kind == "binary":
            return min(goal / (1.0 - d), 1.0)
        assert isinstance(ep, ContinuousEndpoint) and ep.failure_value is not None  # validated
        return (goal - d * ep.failure_value) / (1.0 - d)

    @property
    def margin(self) -> float:
        """The non-inferiority margin of the analysis (0: a superiority test)."""
        return float(self.analysis.margin or 0.0)

    def null_treatment(self, control: float) -> float:
        """Randomized designs: the treatment value at the null boundary for a given control value -- equal to
        it, or worse by the non-inferiority margin (a difference; for counts a rate ratio, the treatment's rate
        ``margin`` times the control's when lower is better, 1 / ``margin`` times when higher is)."""
        sign = -1.0 if getattr(self.endpoint, "better", "higher") == "lower" else 1.0
        if self.endpoint.kind == "count":
            return float(control * (self.margin or 1.0) ** -sign)
        return control - sign * self.margin

    def null_hypothesis(self) -> str:
        """The null hypothesis in words, from the fields that define it (what a report states)."""
        an = self.analysis
        if not self.randomized:
            return f"no benefit over the performance goal {an.performance_goal}"
        if not self.margin:
            return "no difference between the arms"
        if self.endpoint.kind == "count":
            lower = getattr(self.endpoint, "better", "higher") == "lower"
            ratio = f"{self.margin:g} or more" if lower else f"1/{self.margin:g} or less"
            return f"the treatment's event rate is {ratio} times the control's (non-inferiority margin {self.margin:g})"
        return (
            f"the treatment is worse than the control by {self.margin:g} or more (non-inferiority margin "
            f"{self.margin:g} on the difference)"
        )

    def is_null(self, scenario: Scenario) -> bool:
        """True when the estimand lies in the null hypothesis (no benefit; for a non-inferiority margin, worse
        than the control by the margin or more), so success is a type I error."""
        sign = -1.0 if getattr(self.endpoint, "better", "higher") == "lower" else 1.0
        truth = self.estimand_truth(scenario)
        reference = self.null_treatment(truth[1]) if self.randomized else self.analysis.performance_goal
        assert reference is not None
        return sign * (truth[0] - reference) <= 1e-12 * max(1.0, abs(reference))

    def simulation_settings(self, n_sims: Any = None, seed: Any = None) -> tuple[int, int]:
        """The number of simulated trials and the seed of a run: those given (checked; a message names n_sims
        or seed and the value) or, where None, the design's [simulation] section. The one normalizer."""
        n = self.simulation.n_sims if n_sims is None else whole_number("n_sims", n_sims, MIN_SIMS, MAX_SIMS)
        s = self.simulation.seed if seed is None else whole_number("seed", seed, 0, MAX_SEED)
        return n, s

    def multiple_spec(self) -> MultipleEndpoints:
        """The [multiple] section as a :class:`planner.multiple_spec.MultipleEndpoints` (validated)."""
        from planner.multiple_spec import Composite, EndpointSpec, MultipleEndpoints

        m = self.multiple
        assert m is not None
        return MultipleEndpoints(
            endpoints=tuple(
                EndpointSpec(
                    e.name, e.kind, e.sd, e.better, e.goal, e.exposure, e.dispersion, e.baseline_correlation
                )
                for e in m.endpoints
            ),
            correlation=m.correlation,
            hypotheses=m.hypotheses,
            sizes=tuple(self.arms.sizes),
            procedure=m.procedure,
            weights=m.weights,
            transitions=m.transitions,
            composites=tuple(Composite(c.name, c.all_of) for c in m.composites),
            alpha=self.analysis.alpha,
            binary_test=m.binary_test,
            ancova=self.analysis.rule == "ancova" and self.randomized,
        )

    def hash(self) -> str:
        """SHA-256 of the design's canonical JSON: the same design, the same hash."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def hypothetical_share(self) -> float:
        """h: the probability of an intercurrent event whose strategy is hypothetical (its outcome set aside)."""
        e = self.estimand
        return (
            0.0
            if e is None
            else sum(ev.probability for ev in e.intercurrent_events if ev.strategy == "hypothetical")
        )

    def intercurrent_response(self, p: float) -> tuple[float, float]:
        """(theta, h): the response probability of an analysed participant when the intercurrent events take
        their strategies, and the probability h that the outcome is set aside (hypothetical strategies: imputed
        under MAR from the analysed participants, so the analysis is theirs): theta = ((1 - sum q) p +
        sum over observed strategies of q_j r_j) / (1 - h), composite events counting as non-responders."""
        e = self.estimand
        if e is None or not e.intercurrent_events:
            return p, 0.0
        events = e.intercurrent_events
        none = 1.0 - sum(ev.probability for ev in events)
        h = self.hypothetical_share
        observed = sum(
            ev.probability * (ev.response or 0.0)
            for ev in events
            if ev.strategy in ("treatment-policy", "while-on-treatment")
        )
        theta = (none * p + observed) / (1.0 - h) if h < 1.0 else p  # among the analysed participants
        return min(max(theta, 0.0), 1.0), h

    def analysis_view(self) -> Design:
        """The design the analysis sees when [estimand] has intercurrent events (binary; randomized: both arms
        alike): each scenario's response rate replaced by theta (:meth:`intercurrent_response`); dropouts counted as
        failures fold into it, (1 - d) theta, and the outcomes a hypothetical strategy sets aside join the missing
        ones (dropout 'missing': 1 - (1 - d)(1 - h)). Without events: self."""
        e = self.estimand
        if e is None or not e.intercurrent_events:
            return self
        h = self.hypothetical_share
        d, failure = self.dropout.rate, self.dropout.strategy == "failure"
        kept = 1.0 - d if failure else 1.0
        missing = 1.0 - (1.0 - h) * (1.0 if failure else 1.0 - d)
        changes: dict[str, Any] = {
            "estimand": None,
            "scenarios": [
                sc.model_dump()
                | {"treatment": kept * self.intercurrent_response(sc.treatment)[0]}
                | (
                    {"control": kept * self.intercurrent_response(sc.control)[0]}
                    if sc.control is not None
                    else {}
                )
                for sc in self.scenarios
            ],
            "dropout": {"rate": missing, "strategy": "missing"},
            "design_prior": None,  # a prior of p, not of theta: assurance is not computed with intercurrent events
        }
        return self.with_changes(changes)

    def with_n(self, n: int) -> Design:
        """A validated copy with ``n`` participants in total (a point of a sample-size search); a re-estimation
        design takes the even N at or above ``n`` (equal arms) and its cap keeps its ratio to N."""
        n = whole_number("arms.n", n, 1, MAX_N)
        if self.reestimation is not None:
            n += n % 2  # equal arms
        changes: dict[str, Any] = {"arms.n": n}
        if self.reestimation is not None:
            ratio = self.reestimation.max_n / self.arms.n
            changes["reestimation.max_n"] = min(max(int(math.ceil(n * ratio - 1e-9)), n), MAX_N)
        return self.with_changes(changes)

    @property
    def analysis_name(self) -> str:
        """The analysis in words for titles: the rule, or the combination test of a re-estimation design."""
        r = self.reestimation
        if r is None:
            return self.analysis.rule
        return f"inverse-normal combination test, {r.rule} re-estimation up to N = {r.max_n}"

    def with_changes(self, changes: dict[str, Any]) -> Design:
        """A validated copy with fields replaced, by dotted path: ``{"arms.n": 60}``."""
        data = self.model_dump(mode="python")
        for key, value in changes.items():
            *path, last = key.split(".")
            target = data
            for part in path:
                target = target[part]
            target[last] = value.model_dump() if isinstance(value, BaseModel) else value
        return parse_design(data)


def _cross_field_problems(d: Design) -> Iterator[str]:
    ep, an, arms = d.endpoint, d.analysis, d.arms
    if an.rule not in RULES:
        yield f"analysis.rule: unknown rule {an.rule!r}; choose one of {', '.join(RULES)}"
        return
    info = RULES[an.rule]
    if ep.kind not in info.endpoints or arms.kind not in info.arms:
        yield (
            f"analysis.rule: {an.rule!r} does not apply to a {arms.kind} {ep.kind} design; "
            f"choose one of {', '.join(rules_for(ep.kind, arms.kind))}"
        )
        return
    sizes = arms.sizes
    min_arm = 2 if ep.kind == "continuous" else 1
    if min(sizes) < min_arm:
        yield f"arms.n: gives arms of {sizes} participants; each arm needs at least {min_arm}"
    # null value
    if arms.kind == "single-arm":
        pg = an.performance_goal
        if pg is None:
            yield "analysis.performance_goal: required for a single-arm design"
        elif ep.kind == "binary" and not 0.0 < pg < 1.0:
            yield f"analysis.performance_goal: a response rate must lie strictly between 0 and 1, got {pg}"
        elif ep.kind == "count" and pg <= 0.0:
            yield f"analysis.performance_goal: an event rate must be positive, got {pg}"
        elif an.rule in ("one-sample-logrank", "exponential-posterior") and pg <= 0.0:
            yield f"analysis.performance_goal: the reference median time to the event must be positive, got {pg}"
        elif an.rule == "km-landmark" and not 0.0 < pg < 1.0:
            yield f"analysis.performance_goal: a survival probability must lie strictly between 0 and 1, got {pg}"
    elif an.performance_goal is not None:
        yield "analysis.performance_goal: not applicable to a randomized design (the control arm is the reference)"
    # Bayesian settings
    if info.bayesian:
        if an.threshold is None:
            yield f"analysis.threshold: required by rule {an.rule!r} (e.g. 0.975)"
        want = {"binary": "beta", "time-to-event": "gamma"}.get(ep.kind, "normal")
        if an.prior is not None:
            yield from _prior_problems("analysis.prior", an.prior, want)
        elif ep.kind == "time-to-event":
            yield (
                f"analysis.prior: required by rule {an.rule!r} (a Gamma prior on the hazard per unit of time, "
                "e.g. the fitted durability_hazard)"
            )
        if an.control_prior is not None and not (ep.kind == "binary" and arms.kind == "randomized"):
            yield "analysis.control_prior: only used by randomized binary designs"
        if an.variance is not None and ep.kind != "continuous":
            yield f"analysis.variance: only used on a continuous endpoint, got {an.variance!r} for a {ep.kind} one"
        yield from _condition_problems(d)
    else:
        if an.nb_variance is not None and an.rule != "nb-wald":
            yield f"analysis.nb_variance: only used by the nb-wald rule, got rule {an.rule!r}"
        if an.rule == "km-landmark" and an.landmark is None:
            yield "analysis.landmark: required by km-landmark (the time at which survival is tested)"
        if an.landmark is not None and an.rule != "km-landmark":
            yield f"analysis.landmark: only used by the km-landmark rule, got rule {an.rule!r}"
        if an.margin is not None and an.rule not in MARGIN_RULES:
            yield f"analysis.margin: only used by the {', '.join(MARGIN_RULES)} rules, got rule {an.rule!r}"
        elif an.margin is not None and ep.kind == "binary" and not an.margin < 1.0:
            yield f"analysis.margin: a difference of response rates must be below 1, got {an.margin}"
        elif an.margin is not None and ep.kind == "count" and not an.margin > 1.0:
            yield f"analysis.margin: a rate-ratio margin must be above 1, got {an.margin}"
        elif (
            an.margin is not None and ep.kind == "count" and (an.nb_variance or "true-rates") != "true-rates"
        ):
            yield f"analysis.nb_variance: a rate-ratio margin is tested with 'true-rates', got {an.nb_variance!r}"
        if an.one_sample_variance is not None and an.rule != "one-sample-logrank":
            yield f"analysis.one_sample_variance: only used by one-sample-logrank, got rule {an.rule!r}"
        if ep.kind == "count" and ep.accrual_time is not None:
            yield from _variable_exposure_problems(d)
        for name in ("threshold", "prior", "control_prior", "variance"):
            if getattr(an, name) is not None:
                yield f"analysis.{name}: not used by the frequentist rule {an.rule!r}; remove it"
        if an.conditions and ep.kind != "count":
            yield (
                f"analysis.conditions: only used by Bayesian rules and the count rules (nb-wald, nb-exact), got "
                f"rule {an.rule!r}"
            )
        elif an.conditions:
            yield from _condition_problems(d)
    # several endpoints
    if d.multiple is not None:
        yield from _multiple_problems(d)
    elif any(sc.endpoints for sc in d.scenarios):
        yield "scenarios: 'endpoints' values need a [multiple] section"
    # interim looks
    if d.interim is not None:
        yield from _interim_problems(d)
    if d.decision is not None:
        yield from _decision_problems(d)
    # design prior
    if d.design_prior is not None and ep.kind != "time-to-event":
        want = {"binary": "beta", "continuous": "normal", "count": "gamma"}[ep.kind]
        for name in ("log_hazard_ratio", "durable", "responders"):
            if getattr(d.design_prior, name) is not None:
                yield f"design_prior.{name}: only used by time-to-event endpoints"
        if d.design_prior.treatment is None:
            yield "design_prior.treatment: required (a distribution, or family = 'point')"
        else:
            yield from _prior_problems("design_prior.treatment", d.design_prior.treatment, want)
        if arms.kind == "randomized":
            if d.design_prior.control is None:
                yield "design_prior.control: required for a randomized design (a distribution, or family = 'point')"
            else:
                yield from _prior_problems("design_prior.control", d.design_prior.control, want)
        elif d.design_prior.control is not None:
            yield "design_prior.control: not applicable to a single-arm design"
    # dropout strategy
    if d.dropout.rate > 0:
        if ep.kind == "continuous" and d.dropout.strategy == "failure" and ep.failure_value is None:
            yield (
                "endpoint.failure_value: required when dropouts count as failures "
                "(dropout.strategy = 'failure'); or set dropout.strategy = 'missing'"
            )
        if ep.kind == "count" and d.dropout.strategy == "failure":
            yield "dropout.strategy: count endpoints support 'missing' only (dropouts leave the analysis)"
        if an.rule == "ancova" and d.dropout.strategy == "failure":
            yield "dropout.strategy: 'ancova' supports 'missing' only"
    if ep.kind == "time-to-event":
        yield from _time_to_event_problems(d)
    # scenarios
    names = [s.name for s in d.scenarios]
    for i, s in enumerate(d.scenarios):
        where = f"scenarios[{i}]"
        if names.count(s.name) > 1:
            yield f"{where}.name: {s.name!r} is used by more than one scenario"
        arm_values = [("treatment", s.treatment)]
        if arms.kind == "randomized":
            if s.control is None:
                yield f"{where}.control: required for a randomized design"
            else:
                arm_values.append(("control", s.control))
        elif s.control is not None:
            yield f"{where}.control: not applicable to a single-arm design"
        for field, value in arm_values:
            if ep.kind == "binary" and not 0.0 <= value <= 1.0:
                yield f"{where}.{field}: a probability must lie in [0, 1], got {value}"
            if ep.kind == "count" and value < 0.0:
                yield f"{where}.{field}: an event rate cannot be negative, got {value}"
            if ep.kind == "time-to-event" and value <= 0.0:
                yield f"{where}.{field}: a median time to the event must be positive, got {value}"
        if s.durable is not None:
            if ep.kind != "time-to-event":
                yield f"{where}.durable: only time-to-event endpoints have durable fractions"
            elif len(s.durable) != len(arm_values):
                yield f"{where}.durable: one fraction per arm ({len(arm_values)}), got {list(s.durable)}"
            for value in s.durable:
                if not 0.0 <= value < 1.0:
                    yield f"{where}.durable: a durable (cure) fraction must lie in [0, 1), got {value}"
        if s.responders is not None and ep.kind != "time-to-event":
            yield f"{where}.responders: only time-to-event endpoints with time_origin = 'response' use it"
        if s.sd is not None and ep.kind != "continuous":
            yield f"{where}.sd: only continuous endpoints have a standard deviation"
        if s.control_sd is not None:
            if ep.kind != "continuous" or d.arms.kind != "randomized":
                yield f"{where}.control_sd: only randomized continuous designs have a control arm's standard deviation"
            elif d.analysis.rule == "ancova":
                yield f"{where}.control_sd: the ancova rule assumes one standard deviation in both arms; remove it"
            elif d.interim is not None:
                yield f"{where}.control_sd: unequal standard deviations are simulated for fixed designs only (no [interim])"

    if d.reestimation is not None:
        yield from _reestimation_problems(d)
    if d.estimand is not None:
        yield from _estimand_problems(d)


def _estimand_problems(d: Design) -> Iterator[str]:
    """Intercurrent events: at most one per participant, each strategy with what it needs."""
    e = d.estimand
    assert e is not None
    events = e.intercurrent_events
    total = sum(ev.probability for ev in events)
    if total > 1.0 + 1e-12:
        yield (
            f"estimand.intercurrent_events: the probabilities sum to {total:g} > 1 (each participant has at most "
            "one intercurrent event)"
        )
    for i, ev in enumerate(events):
        where = f"estimand.intercurrent_events[{i}]"
        observed = ev.strategy in ("treatment-policy", "while-on-treatment")
        if observed and ev.response is None:
            yield f"{where}.response: the {ev.strategy} strategy observes the outcome; give the probability of response after {ev.name!r}"
        if not observed and ev.response is not None:
            yield f"{where}.response: only treatment-policy and while-on-treatment strategies observe an outcome; remove it"
        if ev.strategy == "hypothetical" and ev.imputation is None:
            yield f"{where}.imputation: the hypothetical strategy needs an imputation model (imputation = 'mar')"
        if ev.strategy != "hypothetical" and ev.imputation is not None:
            yield f"{where}.imputation: only the hypothetical strategy imputes; remove it"
    if events and d.endpoint.kind != "binary":
        yield (
            "estimand.intercurrent_events: their strategies are computed for binary endpoints, got "
            f"{d.endpoint.kind} (the section's texts alone are kept without events)"
        )
    if events and (d.interim is not None or d.multiple is not None or d.decision is not None):
        yield "estimand.intercurrent_events: available for fixed designs with one endpoint (no interim, multiple, decision)"


def _reestimation_problems(d: Design) -> Iterator[str]:
    """[reestimation]: the two-stage combination test of planner.adaptive, for what it covers."""
    r = d.reestimation
    assert r is not None
    if not (d.randomized and d.endpoint.kind == "continuous"):
        yield "reestimation: sample-size re-estimation is available for randomized continuous designs"
        return
    if d.analysis.rule != "t-pooled":
        yield f"reestimation: the combination test replaces the t-pooled rule; set analysis.rule = 't-pooled', got {d.analysis.rule!r}"
    if len(set(d.arms.sizes)) != 1:
        yield f"arms.allocation: sample-size re-estimation needs equal arms, got sizes {list(d.arms.sizes)}"
    if r.max_n < d.arms.n:
        yield f"reestimation.max_n: the cap must be at least the planned N = {d.arms.n}, got {r.max_n}"
    if r.rule == "promising-zone" and r.cp_min >= r.target_power:
        yield f"reestimation.cp_min: must be below target_power = {r.target_power}, got {r.cp_min}"
    for name, present in (
        ("interim", d.interim is not None),
        ("dropout.rate", d.dropout.rate > 0.0),
        ("analysis.margin", bool(d.margin)),
        ("design_prior", d.design_prior is not None),
        ("multiple", d.multiple is not None),
        ("decision", d.decision is not None),
    ):
        if present:
            yield f"{name}: not available with [reestimation] yet (the combination test of a two-stage design)"
    for i, s in enumerate(d.scenarios):
        if s.control_sd is not None or s.sd is not None:
            yield f"scenarios[{i}]: the combination test takes the sd as known (endpoint.sd); remove sd and control_sd"
    if d.arms.sizes[0] < 2:
        yield f"arms.n: at least 2 participants per arm for two stages, got {d.arms.n}"


def _variable_exposure_problems(d: Design) -> Iterator[str]:
    """endpoint.accrual_time (variable exposure) is simulated for fixed randomized nb-wald designs only."""
    an = d.analysis
    if an.rule != "nb-wald":
        yield f"endpoint.accrual_time: variable exposure is analysed by nb-wald only, got rule {an.rule!r}"
    elif (an.nb_variance or "true-rates") != "true-rates":
        yield f"analysis.nb_variance: variable exposure is tested with 'true-rates', got {an.nb_variance!r}"
    if d.dropout.rate > 0.0:
        yield f"dropout.rate: variable exposure is simulated without dropout, got {d.dropout.rate}"
    if d.interim is not None:
        yield "interim: variable exposure is simulated for fixed designs (no [interim]) only"


def _decision_problems(d: Design) -> Iterator[str]:
    """Decision zones: binary or continuous designs without interim looks or several endpoints, values on scale."""
    ep = d.endpoint
    if ep.kind == "time-to-event" and not d.randomized and d.analysis.prior is None:
        yield (
            "decision: Go / No-Go zones on a single arm's time to event are on its median, from the Gamma "
            "posterior of its hazard: give analysis.prior"
        )
        return
    if d.interim is not None or d.multiple is not None:
        yield "decision: Go / No-Go zones apply to a fixed design with one primary endpoint (no interim, no multiple)"
    if ep.kind == "continuous" and d.analysis.rule == "ancova":
        yield "decision: Go / No-Go zones on a continuous endpoint use its posterior; rule 'ancova' has none"
    assert d.decision is not None
    for part in ("go", "no_go"):
        for i, c in enumerate(getattr(d.decision, part)):
            where = f"decision.{part}[{i}].value"
            if ep.kind == "binary" and not d.randomized and not 0.0 < c.value < 1.0:
                yield f"{where}: a response rate condition needs a value in (0, 1), got {c.value}"
            elif ep.kind == "binary" and d.randomized and not -1.0 < c.value < 1.0:
                yield f"{where}: a difference of two response rates lies in (-1, 1), got {c.value}"
            elif ep.kind == "time-to-event" and c.value <= 0.0:
                what = "hazard ratio" if d.randomized else "median time to the event"
                yield f"{where}: a {what} must be positive, got {c.value}"
            elif ep.kind == "count" and c.value <= 0.0:
                what = "rate ratio" if d.randomized else "event rate"
                yield f"{where}: a {what} must be positive, got {c.value}"


def _condition_problems(d: Design) -> Iterator[str]:
    """Conditions that can never hold (or always do) on their scale, and designs that do not take them yet."""
    an, ep = d.analysis, d.endpoint
    for i, c in enumerate(an.conditions):
        where = f"analysis.conditions[{i}].value"
        if ep.kind == "binary" and not d.randomized and not 0.0 <= c.value < 1.0:
            yield f"{where}: P(response rate > {c.value}) is {0 if c.value >= 1 else 1} for every outcome; a rate condition needs a value in [0, 1)"
        elif ep.kind == "binary" and d.randomized and not -1.0 < c.value < 1.0:
            yield f"{where}: a difference of two response rates lies in (-1, 1), got {c.value}"
        elif ep.kind == "time-to-event" and c.value <= 0.0:
            yield f"{where}: a median time to the event must be positive, got {c.value}"
        elif ep.kind == "count" and c.value <= 0.0:
            what = "rate ratio" if d.randomized else "event rate"
            yield f"{where}: P({what} beyond {c.value}) does not depend on the data; a {what} condition needs a positive value"
    if an.conditions and d.interim is not None:
        yield "analysis.conditions: with interim looks are not available yet (the conditions apply at a final analysis)"


def _time_to_event_problems(d: Design) -> Iterator[str]:
    ep = d.endpoint
    assert isinstance(ep, TimeToEventEndpoint)
    if (ep.follow_up is None) == (ep.events is None):
        yield "endpoint: give exactly one of follow_up (a fixed analysis time) and events (event-driven)"
    if ep.follow_up is not None and ep.follow_up < 0.0:
        yield f"endpoint.follow_up: cannot be shorter than zero, got {ep.follow_up}"
    if ep.events is not None and ep.events > d.arms.n:
        yield f"endpoint.events: {ep.events} events cannot come from arms.n = {d.arms.n} participants"
    if (ep.accrual_time is None) == (ep.accrual_times is None):
        yield "endpoint: give exactly one of accrual_time (uniform) and accrual_times with accrual_intensities"
    if ep.accrual_times is not None:
        times = list(ep.accrual_times)
        if times[0] != 0.0 or any(b <= a for a, b in zip(times, times[1:], strict=False)):
            yield f"endpoint.accrual_times: must start at 0 and increase, got {times}"
        if ep.accrual_intensities is None or len(ep.accrual_intensities) != len(times) - 1:
            yield "endpoint.accrual_intensities: one per accrual interval (one fewer than accrual_times)"
    elif ep.accrual_intensities is not None:
        yield "endpoint.accrual_intensities: only with accrual_times"
    if ep.model == "piecewise-exponential":
        if ep.cuts is None or ep.relative_hazards is None:
            yield "endpoint.cuts and endpoint.relative_hazards: required by the piecewise-exponential model"
        else:
            cuts = list(ep.cuts)
            if cuts[0] != 0.0 or any(b <= a for a, b in zip(cuts, cuts[1:], strict=False)):
                yield f"endpoint.cuts: must start at 0 and increase, got {cuts}"
            if len(ep.relative_hazards) != len(cuts):
                yield (
                    f"endpoint.relative_hazards: one per interval ({len(cuts)}), got {list(ep.relative_hazards)}"
                )
    elif ep.cuts is not None or ep.relative_hazards is not None:
        yield "endpoint.cuts, endpoint.relative_hazards: only used by model = 'piecewise-exponential'"
    if ep.model != "weibull" and ep.shape != 1.0:
        yield "endpoint.shape: only used by model = 'weibull'"
    if d.dropout.rate > 0.0:
        yield "dropout.rate: a time-to-event endpoint censors dropouts; set endpoint.dropout_probability"
    if d.interim is not None and ep.events is None:
        yield "interim: looks of a time-to-event design are at event counts; give endpoint.events (event-driven)"
    if d.design_prior is not None:
        yield from _survival_design_prior_problems(d)
    if ep.time_origin == "response":
        if d.randomized:
            yield "endpoint.time_origin: 'response' (responders only) applies to single-arm designs"
        for i, sc in enumerate(d.scenarios):
            if sc.responders is None:
                yield f"scenarios[{i}].responders: required with endpoint.time_origin = 'response' (a probability)"
            elif not 0.0 < sc.responders <= 1.0:
                yield f"scenarios[{i}].responders: a probability must lie in (0, 1], got {sc.responders}"
    else:
        if ep.onset_time != 0.0:
            yield "endpoint.onset_time: only used with endpoint.time_origin = 'response'"
        for i, sc in enumerate(d.scenarios):
            if sc.responders is not None:
                yield f"scenarios[{i}].responders: only used with endpoint.time_origin = 'response'"


def _survival_design_prior_problems(d: Design) -> Iterator[str]:
    """Which design-prior parts a time-to-event design needs, and their families and ranges."""
    dp, ep = d.design_prior, d.endpoint
    assert dp is not None and isinstance(ep, TimeToEventEndpoint)
    needed = {"control", "log_hazard_ratio"} if d.randomized else {"treatment"}
    allowed = needed if d.randomized else needed | {"durable", "responders"}
    if ep.time_origin == "response":
        needed = needed | {"responders"}
    families = {
        "treatment": "gamma",
        "control": "gamma",
        "log_hazard_ratio": "normal",
        "durable": "beta",
        "responders": "beta",
    }
    for name, want in families.items():
        prior = getattr(dp, name)
        where = f"design_prior.{name}"
        if prior is None:
            if name in needed:
                yield f"{where}: required for assurance of this {d.arms.kind} time-to-event design"
            continue
        if name not in allowed:
            yield f"{where}: not used by a {d.arms.kind} time-to-event design"
            continue
        if name == "responders" and ep.time_origin != "response":
            yield f"{where}: only used with endpoint.time_origin = 'response'"
            continue
        yield from _prior_problems(where, prior, want)
        if prior.family == "point":
            v = prior.value
            if want == "gamma" and v <= 0.0:
                yield f"{where}.value: a hazard must be positive, got {v}"
            if name == "durable" and not 0.0 <= v < 1.0:
                yield f"{where}.value: a durable fraction must lie in [0, 1), got {v}"
            if name == "responders" and not 0.0 < v <= 1.0:
                yield f"{where}.value: a probability must lie in (0, 1], got {v}"


def _multiple_problems(d: Design) -> Iterator[str]:
    m = d.multiple
    assert m is not None
    single = d.arms.kind == "single-arm"
    for i, e in enumerate(m.endpoints):
        where = f"multiple.endpoints[{i}]"
        if single and e.goal is None:
            yield f"{where}.goal: a single-arm design tests each endpoint against its own goal; give one"
        elif not single and e.goal is not None:
            yield f"{where}.goal: only single-arm designs test endpoints against goals; remove it"
        if e.kind == "count":
            if not single:
                yield f"{where}.kind: count endpoints in [multiple] are available for single-arm designs"
            if e.exposure is None:
                yield f"{where}.exposure: a count endpoint needs the exposure per participant"
            if e.goal is not None and e.goal <= 0.0:
                yield f"{where}.goal: an event rate goal must be positive, got {e.goal}"
        elif e.exposure is not None or e.dispersion:
            yield f"{where}.exposure: only count endpoints have an exposure and a dispersion"
        if e.kind == "binary" and e.goal is not None and not 0.0 < e.goal < 1.0:
            yield f"{where}.goal: a response rate goal in (0, 1), got {e.goal}"
    if single and m.composites:
        yield "multiple.composites: composites are available for randomized designs (single arm: one endpoint each)"
    arms = 1 if single else 2
    for i, sc in enumerate(d.scenarios):
        for name, values in (sc.endpoints or {}).items():
            if len(values) != arms:
                want = "(value,)" if single else "(treatment, control)"
                yield f"scenarios[{i}].endpoints.{name}: {want} for a {d.arms.kind} design, got {list(values)}"
    for i, e in enumerate(m.endpoints):
        if e.baseline_correlation is not None and (e.kind != "continuous" or d.analysis.rule != "ancova"):
            yield (
                f"multiple.endpoints[{i}].baseline_correlation: only continuous endpoints of an 'ancova' design "
                "have one"
            )
    try:
        d.multiple_spec()
    except DesignError as err:
        for problem in err.problems:
            yield f"multiple.{problem}"
        return
    assert d.multiple is not None
    names = {e.name for e in d.multiple.endpoints}
    for i, sc in enumerate(d.scenarios):
        if sc.endpoints is None:
            continue
        missing = sorted(names - set(sc.endpoints))
        extra = sorted(set(sc.endpoints) - names)
        if missing or extra:
            yield f"scenarios[{i}].endpoints: need exactly {sorted(names)}; missing {missing}, unknown {extra}"


def _interim_problems(d: Design) -> Iterator[str]:
    it = d.interim
    assert it is not None
    f = it.fractions
    if any(b <= a for a, b in zip(f, f[1:], strict=False)) or abs(f[-1] - 1.0) > 1e-12:
        yield f"interim.fractions: must increase strictly and end at 1, got {list(f)}"
    else:
        yield from _look_problems(d)
    bayesian = RULES[d.analysis.rule].bayesian
    if bayesian and d.endpoint.kind == "time-to-event":
        yield "interim: Bayesian interim looks on a time-to-event endpoint are not available yet"
        return
    if bayesian:
        if d.endpoint.kind == "binary" and d.arms.kind != "single-arm":
            yield "interim: Bayesian interim looks for binary endpoints are available for single-arm designs"
        if d.dropout.rate > 0 and d.endpoint.kind == "continuous" and d.dropout.strategy == "failure":
            yield "dropout.strategy: Bayesian interim looks on a continuous endpoint need 'missing'"
        if it.futility == "conditional-power":
            yield "interim.futility: a Bayesian rule uses 'predictive-probability' (or 'none')"
        if (
            it.spending != "obrien-fleming"
            or it.gamma is not None
            or it.cumulative_alpha is not None
            or it.binding
            or it.delta is not None
        ):
            yield "interim: spending, gamma, delta, cumulative_alpha and binding apply to frequentist rules only"
        return
    if it.efficacy_threshold is not None:
        yield "interim.efficacy_threshold: only used by Bayesian rules"
    exact_binomial = d.analysis.rule == "exact-binomial"
    if it.futility == "predictive-probability" and not exact_binomial:
        yield "interim.futility: 'predictive-probability' needs a Bayesian or exact-binomial rule; use 'conditional-power'"
    if it.futility == "counts" and not exact_binomial:
        yield "interim.futility: 'counts' is available with the exact-binomial rule"
    if it.futility == "counts":
        r = it.futility_counts
        if r is None or len(r) != len(f) - 1:
            yield (
                f"interim.futility_counts: needs one count per interim look ({len(f) - 1}), "
                f"got {None if r is None else list(r)}"
            )
        elif not any(_look_problems(d)):
            for k, (count, look) in enumerate(zip(r, d.look_sizes, strict=False)):
                if count >= look[0]:
                    yield (
                        f"interim.futility_counts[{k}]: {count} responders of the {look[0]} at look {k + 1} "
                        "would stop every trial"
                    )
    elif it.futility_counts is not None:
        yield "interim.futility_counts: only used with futility = 'counts'"
    if it.efficacy_counts is not None:
        e = it.efficacy_counts
        if not exact_binomial:
            yield "interim.efficacy_counts: only used by the exact-binomial rule"
        elif len(e) != len(f):
            yield f"interim.efficacy_counts: needs one count per look ({len(f)}), got {list(e)}"
        elif (
            it.futility == "counts"
            and it.futility_counts is not None
            and len(it.futility_counts) == len(f) - 1
        ):
            for k, (r_k, e_k) in enumerate(zip(it.futility_counts, e, strict=False)):
                if r_k + 1 > e_k:
                    yield (
                        f"interim.futility_counts[{k}]: {r_k} (stop at {r_k} or fewer responders) is not below "
                        f"efficacy_counts[{k}] = {e_k}"
                    )
    if not RULES[d.analysis.rule].sequential:
        from planner.rules.catalog import SEQUENTIAL_RULES

        yield (
            f"analysis.rule: {d.analysis.rule!r} has no group sequential version; "
            f"with interim looks use one of {', '.join(SEQUENTIAL_RULES)} or posterior-probability"
        )
    if it.spending == "wang-tsiatis" and it.delta is None:
        yield "interim.delta: required for Wang-Tsiatis boundaries (0 = O'Brien-Fleming, 0.5 = Pocock)"
    if it.spending != "wang-tsiatis" and it.delta is not None:
        yield f"interim.delta: only used with spending = 'wang-tsiatis', got spending = {it.spending!r}"
    if it.futility == "beta-spending":
        if exact_binomial and it.beta_alternative is None:
            yield "interim.beta_alternative: required for beta-spending futility counts (the response rate it spends beta under)"
        if exact_binomial and it.beta_alternative is not None and d.analysis.performance_goal is not None:
            boundary = d.null_boundary()
            if boundary is not None and it.beta_alternative <= boundary:
                yield (
                    f"interim.beta_alternative: must lie above the null boundary {boundary:.4g} "
                    f"(the goal on the estimand scale), got {it.beta_alternative}"
                )
        if not exact_binomial and it.spending not in ("obrien-fleming", "pocock", "hsd"):
            yield f"interim.spending: beta spending goes with alpha spending functions, got {it.spending!r}"
        if it.beta_spending == "hsd" and it.gamma_beta is None:
            yield "interim.gamma_beta: required for Hwang-Shih-DeCani beta spending (e.g. -2)"
    if it.beta_alternative is not None and not (it.futility == "beta-spending" and exact_binomial):
        yield "interim.beta_alternative: only used by exact-binomial designs with futility = 'beta-spending'"
    if it.gamma_beta is not None and not (it.futility == "beta-spending" and it.beta_spending == "hsd"):
        yield "interim.gamma_beta: only used with futility = 'beta-spending' and beta_spending = 'hsd'"
    if it.spending == "hsd" and it.gamma is None:
        yield "interim.gamma: required for Hwang-Shih-DeCani spending (e.g. -4)"
    if it.spending != "hsd" and it.gamma is not None:
        yield f"interim.gamma: only used with spending = 'hsd', got spending = {it.spending!r}"
    if it.spending == "custom":
        c = it.cumulative_alpha
        if c is None or len(c) != len(f):
            yield f"interim.cumulative_alpha: needs one value per look ({len(f)})"
        elif any(b < a for a, b in zip(c, c[1:], strict=False)) or abs(c[-1] - d.analysis.alpha) > 1e-12:
            yield f"interim.cumulative_alpha: must not decrease and must end at alpha = {d.analysis.alpha}, got {list(c)}"
    elif it.cumulative_alpha is not None:
        yield "interim.cumulative_alpha: only used with spending = 'custom'"
    if it.binding and it.futility == "none":
        yield "interim.binding: there is no futility rule to bind (interim.futility = 'none')"


def _look_problems(d: Design) -> Iterator[str]:
    assert d.interim is not None
    f = d.interim.fractions
    if any(b <= a for a, b in zip(f, f[1:], strict=False)) or abs(f[-1] - 1.0) > 1e-12:
        return
    if isinstance(d.endpoint, TimeToEventEndpoint):
        events = d.look_events
        if events is not None and (
            events[0] < 1 or any(b <= a for a, b in zip(events, events[1:], strict=False))
        ):
            yield (
                f"interim.fractions: {list(f)} of {d.endpoint.events} events give looks at {list(events)} events; "
                "each look needs new events and at least 1 at the first"
            )
        return
    looks = d.look_sizes
    smallest = 2 if d.endpoint.kind == "continuous" else 1
    for arm in range(len(d.arms.sizes)):
        per_arm = [look[arm] for look in looks]
        if per_arm[0] < smallest or any(b <= a for a, b in zip(per_arm, per_arm[1:], strict=False)):
            yield (
                f"interim.fractions: {list(f)} of {d.arms.sizes[arm]} participants give looks at {per_arm}; "
                f"each look needs new participants and at least {smallest} at the first"
            )
            return


def _prior_problems(where: str, prior: Any, want: str) -> Iterator[str]:
    """A prior's family must fit the endpoint; a fitted prior must exist and be of that family."""
    family = prior.family
    if family == "fitted":
        from planner.artifacts import fitted_prior_family, fitted_prior_names

        family = fitted_prior_family(prior.name)
        if family is None:
            yield f"{where}.name: no fitted prior {prior.name!r}; choose one of {', '.join(fitted_prior_names())}"
            return
    if family not in (want, "point"):
        yield f"{where}: a {want!r} prior is needed here, got a {family!r} prior"
    if family == "point" and want == "beta" and not 0.0 <= prior.value <= 1.0:
        yield f"{where}.value: a probability must lie in [0, 1], got {prior.value}"


# --- reading and writing -------------------------------------------------------------


def parse_design(data: dict[str, Any]) -> Design:
    """Validate a dict (e.g. parsed TOML) into a :class:`Design`; raise DesignError on problems."""
    if not isinstance(data, dict):
        raise DesignError(f"design: expected a table of fields, got {type(data).__name__}")
    try:
        return Design.model_validate(data)
    except ValidationError as err:
        raise from_validation_error(err) from None


def load_design(source: str | Path) -> Design:
    """Read and validate a TOML design file."""
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (some editors write one) is accepted
    except FileNotFoundError:
        raise DesignError(f"{path}: no such design file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise DesignError(f"{path}: cannot read the design file ({err})") from None
    return parse_design_text(text, origin=str(path))


MAX_DESIGN_CHARS = 1_000_000  # a design file is a few kB; more is a mistake or an attack
MAX_DESIGN_DEPTH = 12  # tables and arrays nested deeper than any design needs
MAX_DESIGN_VALUES = 200_000  # values in the whole file


def _check_shape(data: Any, origin: str) -> None:
    """Refuse parsed data nested deeper or holding more values than a design can, naming where."""
    count = 0
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        value, depth, where = stack.pop()
        count += 1
        if count > MAX_DESIGN_VALUES:
            raise DesignError(f"{origin}: more than {MAX_DESIGN_VALUES:,} values; a design holds far fewer")
        if depth > MAX_DESIGN_DEPTH:
            raise DesignError(
                f"{where or origin}: nested {depth} levels deep; a design needs at most {MAX_DESIGN_DEPTH}"
            )
        if isinstance(value, dict):
            stack.extend((v, depth + 1, f"{where}.{k}" if where else str(k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, depth + 1, f"{where}[{i}]") for i, v in enumerate(value))


def parse_design_text(text: str, *, origin: str = "design") -> Design:
    """Validate TOML text into a :class:`Design` (used for uploads and the CLI). Text longer than
    MAX_DESIGN_CHARS, nesting deeper than MAX_DESIGN_DEPTH or more than MAX_DESIGN_VALUES values are refused
    with a message (never a traceback or a hang)."""
    return parse_design(read_toml(text, origin))


def read_toml(text: str, origin: str) -> dict[str, Any]:
    """TOML text to data, within the limits of a design (MAX_DESIGN_CHARS, MAX_DESIGN_DEPTH, MAX_DESIGN_VALUES):
    the one reader of the planner's input files (designs, sweeps, historical studies); a DesignError names
    ``origin`` and the problem, never a traceback or a hang."""
    if not isinstance(text, str):
        raise DesignError(f"{origin}: expected TOML text, got {type(text).__name__}")
    if len(text) > MAX_DESIGN_CHARS:
        raise DesignError(
            f"{origin}: {len(text):,} characters; a design file has at most {MAX_DESIGN_CHARS:,} (a few kB is usual)"
        )
    text = text.removeprefix("\ufeff")  # a byte-order mark, as some editors save UTF-8
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise DesignError(f"{origin}: not valid TOML ({err})") from None
    except RecursionError:
        raise DesignError(
            f"{origin}: arrays or tables nested too deeply to read (a design needs a few levels)"
        ) from None
    _check_shape(data, origin)
    return data


def design_to_toml(design: Design) -> str:
    """The design as TOML text; :func:`parse_design_text` reads it back to an equal design."""
    return tomli_w.dumps(design.model_dump(mode="json", exclude_none=True))
