"""Closed-form sizing of log-rank designs: events from the hazard ratio, subjects and analysis time from
accrual, follow-up and dropout.

Events (one-sided level alpha, power 1 - beta, allocation r = treatment : control):

* Schoenfeld (1981): D = (z_{1-alpha} + z_{1-beta})^2 (1 + r)^2 / (r log(HR)^2);
* Freedman (1982): D = (z_{1-alpha} + z_{1-beta})^2 (1 + r HR)^2 / (r (1 - HR)^2).

The power of a log-rank test with D events (Schoenfeld): Phi(sqrt(D r / (1 + r)^2) |log HR| - z_{1-alpha}).

Subjects and time (Lachin and Foulkes 1986): a participant entering at calendar time e has an observed event
by calendar time T with probability F_obs(T - e), F_obs(t) = int_0^t f(u) exp(-eta u) du (eta the dropout
hazard); averaged over the accrual distribution this is the expected fraction P(T) of participants with an
event by T, and the expected number of events of N participants is N (r P_1(T) + P_2(T)) / (1 + r). The
number of subjects for D events at T = accrual + follow-up is D over that fraction; the analysis time for N
subjects is the T where the expected events reach D. These are the quantities of rpact's
``getSampleSizeSurvival`` (tested against it).

References: Schoenfeld D. Biometrika 1981;68:316-9. Freedman LS. Statistics in Medicine 1982;1:121-9.
Lachin JM, Foulkes MA. Biometrics 1986;42:507-19.

Single arm: the one-sample log-rank test (:func:`one_sample_logrank_power`, :func:`size_one_sample_logrank`)
with Wu's sample size from the exact variance of O - E under the alternative (Wu J. Sample size calculation
for the one-sample log-rank test. Pharmaceutical Statistics 2015;14:26-33).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import integrate, optimize, special

from planner.sequential import Boundaries, crossing_probabilities, inflation_factor
from planner.time_to_event.models import Accrual, EventTime, Exponential, PiecewiseExponential

__all__ = [
    "OneSampleLogrankSize",
    "one_sample_logrank_power",
    "size_one_sample_logrank",
    "SequentialSurvivalSize",
    "SurvivalSize",
    "events_freedman",
    "events_schoenfeld",
    "expected_event_fraction",
    "observed_event_probability",
    "power_schoenfeld",
    "size_survival",
    "size_survival_sequential",
    "time_for_events",
]


def _z(q: float) -> float:
    return float(special.ndtri(q))


def events_schoenfeld(hazard_ratio: float, alpha: float, beta: float, allocation: float = 1.0) -> float:
    """Events for power 1 - beta of the one-sided level-alpha log-rank test (Schoenfeld), unrounded."""
    r = allocation
    return (_z(1 - alpha) + _z(1 - beta)) ** 2 * (1 + r) ** 2 / (r * math.log(hazard_ratio) ** 2)


def events_freedman(hazard_ratio: float, alpha: float, beta: float, allocation: float = 1.0) -> float:
    """Events for power 1 - beta of the one-sided level-alpha log-rank test (Freedman), unrounded."""
    r = allocation
    return (_z(1 - alpha) + _z(1 - beta)) ** 2 * (1 + r * hazard_ratio) ** 2 / (r * (1 - hazard_ratio) ** 2)


def power_schoenfeld(events: float, hazard_ratio: float, alpha: float, allocation: float = 1.0) -> float:
    """Power of the one-sided log-rank test with ``events`` events, benefit meaning HR < 1 (Schoenfeld)."""
    r = allocation
    drift = math.sqrt(events * r / (1 + r) ** 2) * -math.log(hazard_ratio)
    return float(special.ndtr(drift - _z(1 - alpha)))


def observed_event_probability(model: EventTime, t: float, dropout: float = 0.0) -> float:
    """F_obs(t): the probability that the event happens by time t after entry and before dropout (an
    exponential censoring hazard ``dropout``); closed form for (piecewise) exponential models, one integral of
    the survival function otherwise."""
    if t <= 0.0:
        return 0.0
    if isinstance(model, Exponential | PiecewiseExponential):
        cuts, rates = ((0.0,), (model.rate,)) if isinstance(model, Exponential) else (model.cuts, model.rates)
        total, start_hazard = 0.0, 0.0
        for j, (c, lam) in enumerate(zip(cuts, rates, strict=True)):
            if c >= t:
                break
            end = min(cuts[j + 1], t) if j + 1 < len(cuts) else t
            width, k = end - c, lam + dropout
            if k > 0.0:
                total += lam / k * math.exp(-start_hazard - dropout * c) * -math.expm1(-k * width)
            start_hazard += lam * width
        return total

    # integration by parts: int_0^t f(u) e^{-eta u} du = 1 - S(t) e^{-eta t} - eta int_0^t S(u) e^{-eta u} du
    # (no derivative of S needed; the integral vanishes without dropout)
    value = 1.0 - float(model.survival(t)) * math.exp(-dropout * t)
    if dropout > 0.0:
        points = [p for p in model.breakpoints() if 0.0 < p < t]
        integral, _ = integrate.quad(
            lambda u: float(model.survival(u)) * math.exp(-dropout * u),
            0.0,
            t,
            points=points or None,
            limit=200,
            epsabs=1e-13,
            epsrel=1e-11,
        )
        value -= dropout * integral
    return value


def expected_event_fraction(
    model: EventTime, accrual: Accrual, calendar_time: float, dropout: float = 0.0
) -> float:
    """P(T): the expected fraction of all participants (as accrued by ``accrual``) with an observed event by
    ``calendar_time``; participants not yet entered count as without an event."""
    total = 0.0
    for (a, b), w in zip(zip(accrual.times, accrual.times[1:], strict=False), accrual.weights(), strict=True):
        end = min(b, calendar_time)
        if end <= a:
            continue
        if isinstance(model, Exponential) or (
            isinstance(model, PiecewiseExponential) and len(model.rates) == 1
        ):
            lam = model.rate if isinstance(model, Exponential) else model.rates[0]
            k = lam + dropout
            # int_a^end F_obs(T - e) de, F_obs(t) = lam / k (1 - exp(-k t))
            inner = (end - a) - (
                math.exp(-k * (calendar_time - end)) - math.exp(-k * (calendar_time - a))
            ) / k
            integral = lam / k * inner
        else:
            pts = [calendar_time - p for p in model.breakpoints() if a < calendar_time - p < end]
            integral, _ = integrate.quad(
                lambda e: observed_event_probability(model, calendar_time - e, dropout),
                a,
                end,
                points=pts or None,
                limit=200,
                epsabs=1e-13,
                epsrel=1e-11,
            )
        total += w / (b - a) * integral
    return total


def _mean_fraction(
    models: Sequence[EventTime],
    weights: Sequence[float],
    accrual: Accrual,
    t: float,
    dropouts: Sequence[float],
) -> float:
    return sum(
        w * expected_event_fraction(m, accrual, t, d)
        for m, w, d in zip(models, weights, dropouts, strict=True)
    )


def time_for_events(
    events: float,
    subjects: float,
    models: Sequence[EventTime],
    accrual: Accrual,
    allocation: float = 1.0,
    dropouts: Sequence[float] = (0.0, 0.0),
) -> float:
    """The calendar time at which ``subjects`` participants (treatment : control = allocation) are expected to
    have had ``events`` events (inf if never)."""
    weights = (allocation / (1 + allocation), 1 / (1 + allocation))

    def gap(t: float) -> float:
        return subjects * _mean_fraction(models, weights, accrual, t, dropouts) - events

    hi = max(accrual.duration, 1.0)
    for _ in range(200):
        if gap(hi) >= 0:
            break
        hi *= 2.0
    else:
        return math.inf
    return float(optimize.brentq(gap, 0.0, hi, xtol=1e-12, rtol=1e-14, maxiter=500))


@dataclass(frozen=True)
class SurvivalSize:
    """A log-rank design's size: events, subjects and the expected calendar time of the analysis."""

    events: float
    subjects: float
    analysis_time: float
    expected_event_fraction: tuple[float, float]  # per arm, by the analysis time


def size_survival(
    hazard_ratio: float,
    control: EventTime,
    treatment: EventTime,
    accrual: Accrual,
    follow_up: float,
    alpha: float = 0.025,
    beta: float = 0.2,
    allocation: float = 1.0,
    dropouts: Sequence[float] = (0.0, 0.0),
    method: str = "schoenfeld",
) -> SurvivalSize:
    """Events for power 1 - beta (Schoenfeld or Freedman) and the subjects accrued over ``accrual`` that are
    expected to give them by the end of the minimal ``follow_up`` (analysis at accrual end + follow_up)."""
    sizing = {"schoenfeld": events_schoenfeld, "freedman": events_freedman}[method]
    events = sizing(hazard_ratio, alpha, beta, allocation)
    t = accrual.duration + follow_up
    fractions = tuple(
        expected_event_fraction(m, accrual, t, d) for m, d in zip((treatment, control), dropouts, strict=True)
    )
    mean = (allocation * fractions[0] + fractions[1]) / (1 + allocation)
    return SurvivalSize(events, events / mean, t, (fractions[0], fractions[1]))


@dataclass(frozen=True)
class SequentialSurvivalSize:
    """An event-driven group sequential log-rank design: events per look (the last the maximum), the expected
    events under H1 and H0, the subjects, the expected calendar time of each look, and the probability of
    stopping for efficacy at each look under H1."""

    events: tuple[float, ...]
    expected_events_h1: float
    expected_events_h0: float
    subjects: float
    analysis_times: tuple[float, ...]
    efficacy_stops_h1: tuple[float, ...]


def size_survival_sequential(
    boundaries: Boundaries,
    hazard_ratio: float,
    control: EventTime,
    treatment: EventTime,
    accrual: Accrual,
    follow_up: float,
    beta: float = 0.2,
    allocation: float = 1.0,
    dropouts: Sequence[float] = (0.0, 0.0),
) -> SequentialSurvivalSize:
    """Maximum events = Schoenfeld's fixed-design events times the boundaries' inflation factor; looks at the
    boundaries' information fractions of it; expected events from the stopping probabilities (numerical
    integration, :func:`planner.sequential.crossing_probabilities`) at the drift of the alternative (H1) and
    at 0 (H0); subjects for the maximum events at accrual end + follow-up, and each look's expected time for
    those subjects (Lachin-Foulkes) -- rpact's getSampleSizeSurvival with a group sequential design."""
    alpha = boundaries.alpha_spent[-1]
    fixed = events_schoenfeld(hazard_ratio, alpha, beta, allocation)
    maximum = fixed * inflation_factor(boundaries, 1.0 - beta)
    t = np.asarray(boundaries.fractions)
    events = tuple(float(maximum * f) for f in t)
    r = allocation

    def expected(drift: float) -> tuple[float, np.ndarray]:
        up, down = crossing_probabilities(boundaries, drift)
        stop = up + down
        stop[-1] = 1.0 - stop[:-1].sum()
        return float(np.dot(stop, events)), up

    drift = math.sqrt(maximum * r / (1 + r) ** 2) * -math.log(hazard_ratio)
    h1, up = expected(drift)
    h0, _ = expected(0.0)
    size = size_survival(
        hazard_ratio, control, treatment, accrual, follow_up, alpha, beta, allocation, dropouts
    )
    subjects = size.subjects * maximum / fixed
    times = tuple(
        time_for_events(e, subjects, (treatment, control), accrual, allocation, dropouts) for e in events[:-1]
    ) + (size.analysis_time,)
    return SequentialSurvivalSize(events, h1, h0, subjects, times, tuple(float(u) for u in up))


@dataclass(frozen=True)
class OneSampleLogrankSize:
    """Per-participant moments of the one-sample log-rank test under the alternative (Wu 2015's notation):
    ``p0`` = E[Lambda_0(X)] (expected events E per participant), ``p1`` = P(event observed) (O per
    participant), ``p00`` = E[Lambda_0(X)^2] / 2, ``p01`` = E[Delta Lambda_0(X)]; ``n`` the sample size
    (unrounded) for the requested power and ``power`` at ``ceil(n)``."""

    p0: float
    p1: float
    p00: float
    p01: float
    n: float
    power: float

    @property
    def variance(self) -> float:
        """Var(Delta - Lambda_0(X)) per participant under the alternative (Wu 2015, section 2)."""
        return _wu_variance(self.p0, self.p1, self.p00, self.p01)


def _wu_variance(p0: float, p1: float, p00: float, p01: float) -> float:
    """Var(Delta - Lambda_0(X)) = p1 - p1^2 + 2 p00 - p0^2 - 2 p01 + 2 p0 p1 (Wu 2015, section 2)."""
    return p1 - p1**2 + 2.0 * p00 - p0**2 - 2.0 * p01 + 2.0 * p0 * p1


def _wu_power(n: float, moments: tuple[float, float, float, float], alpha: float, variance: str) -> float:
    """Phi((sqrt(n) (p0 - p1) - z_{1-alpha} null sd) / sigma): :func:`one_sample_logrank_power` from moments."""
    p0, p1 = moments[0], moments[1]
    sigma = math.sqrt(_wu_variance(*moments))
    return float(
        special.ndtr((math.sqrt(n) * (p0 - p1) - _z(1 - alpha) * _null_sd(p0, p1, variance)) / sigma)
    )


def _one_sample_moments(
    reference: EventTime, truth: EventTime, accrual: Accrual, follow_up: float, dropout: float
) -> tuple[float, float, float, float]:
    """p0, p1, p00, p01 of :class:`OneSampleLogrankSize`. A participant is observed for x after entry with
    probability G(x) = P(entered by accrual + follow_up - x) exp(-dropout x). Stieltjes integrals in the
    reference cumulative hazard u = Lambda_0(x) (x = Lambda_0^-1(u)) and in the true distribution function
    v = F(x) (x = F^-1(v)), so no density is needed: p0 = int G S dLambda_0, p00 = int G S Lambda_0
    dLambda_0, p1 = int G dF, p01 = int G Lambda_0 dF, over x in [0, accrual + follow_up]."""
    end = accrual.duration + follow_up

    def observed(x: float) -> float:
        return accrual.entered_by(end - x) * math.exp(-dropout * x) if x <= end else 0.0

    kinks_x = sorted({end - t for t in accrual.times if 0.0 < end - t < end})
    options = {"limit": 400, "epsabs": 1e-13, "epsrel": 1e-11}

    def in_u(x: float) -> float:
        return float(reference.cumulative_hazard(np.array([x]))[0])

    def x_of_u(u: float) -> float:
        return float(np.asarray(reference.inverse_cumulative_hazard(np.array([u])))[0])

    def x_of_v(v: float) -> float:
        return float(np.asarray(truth.quantile_of_survival(np.array([1.0 - v])))[0])

    def integral(f: Callable[[float], float], upper: float, points: list[float]) -> float:
        return float(integrate.quad(f, 0.0, upper, points=points or None, **options)[0])

    breaks = [x for x in (*kinks_x, *reference.breakpoints(), *truth.breakpoints()) if 0.0 < x < end]
    u_end, u_points = in_u(end), [in_u(x) for x in breaks]
    p0 = integral(lambda u: observed(x_of_u(u)) * float(truth.survival(x_of_u(u))), u_end, u_points)
    p00 = integral(lambda u: u * observed(x_of_u(u)) * float(truth.survival(x_of_u(u))), u_end, u_points)
    v_end, v_points = 1.0 - float(truth.survival(end)), [1.0 - float(truth.survival(x)) for x in breaks]
    p1 = integral(lambda v: observed(x_of_v(v)), v_end, v_points)
    p01 = integral(lambda v: observed(x_of_v(v)) * in_u(x_of_v(v)), v_end, v_points)
    return p0, p1, p00, p01


def _null_sd(p0: float, p1: float, variance: str) -> float:
    """The limit of sqrt(V / n) under the alternative for the test's variance estimate V: E ('expected') or
    (O + E) / 2 ('average')."""
    return math.sqrt(p0 if variance == "expected" else (p0 + p1) / 2.0)


def one_sample_logrank_power(
    n: float,
    reference: EventTime,
    truth: EventTime,
    accrual: Accrual,
    follow_up: float,
    alpha: float = 0.025,
    dropout: float = 0.0,
    variance: str = "expected",
) -> float:
    """Power of the one-sided one-sample log-rank test z = (E - O) / sqrt(V) > z_{1-alpha} (benefit: fewer events
    than the reference predicts) with n participants accrued by ``accrual`` and analysed ``follow_up`` after
    accrual ends: O - E is approximately normal with mean n (p1 - p0) and variance n sigma^2 (the exact
    per-participant variance, Wu 2015), and V / n tends to p0, so power = Phi((sqrt(n) (p0 - p1) - z_{1-alpha}
    sqrt(p0)) / sigma). With ``variance='average'`` (V = (O + E) / 2) sqrt(p0) becomes sqrt((p0 + p1) / 2),
    by the same argument."""
    return _wu_power(n, _one_sample_moments(reference, truth, accrual, follow_up, dropout), alpha, variance)


def size_one_sample_logrank(
    reference: EventTime,
    truth: EventTime,
    accrual: Accrual,
    follow_up: float,
    alpha: float = 0.025,
    beta: float = 0.2,
    dropout: float = 0.0,
    variance: str = "expected",
) -> OneSampleLogrankSize:
    """Wu's (2015) sample size for the one-sample log-rank test: n = (z_{1-alpha} sqrt(p0) + z_{1-beta}
    sigma)^2 / (p1 - p0)^2 (:func:`one_sample_logrank_power` for the notation); ``truth`` must have fewer
    events than the reference predicts (p1 < p0)."""
    moments = _one_sample_moments(reference, truth, accrual, follow_up, dropout)
    p0, p1, p00, p01 = moments
    if p1 >= p0:
        raise ValueError("the true distribution has no fewer events than the reference: no power to gain")
    sigma = math.sqrt(_wu_variance(*moments))
    n = (_z(1 - alpha) * _null_sd(p0, p1, variance) + _z(1 - beta) * sigma) ** 2 / (p1 - p0) ** 2
    return OneSampleLogrankSize(p0, p1, p00, p01, n, _wu_power(math.ceil(n), moments, alpha, variance))
