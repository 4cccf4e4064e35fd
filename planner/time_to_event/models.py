"""Event-time distributions, accrual and dropout: what a time-to-event design assumes about participants.

Each distribution gives its survival function S(t), its cumulative hazard and the inverse of its
distribution function (for simulation by inversion, one uniform per participant):

* :class:`Exponential` -- constant hazard lambda (median log 2 / lambda);
* :class:`PiecewiseExponential` -- hazard ``rates[i]`` on [cuts[i], cuts[i + 1]), cuts[0] = 0, the last rate
  to infinity (rpact's ``piecewiseSurvivalTime`` / ``lambda``);
* :class:`Weibull` -- S(t) = exp(-(t / scale)^shape);
* :class:`Cured` -- a durable (cure) fraction pi that never has the event: S(t) = pi + (1 - pi) S_0(t)
  (Berkson and Gage 1952; Boag 1949).

Accrual (:class:`Accrual`) is piecewise uniform: participants enter at constant intensity within each
interval of calendar time (rpact's ``accrualTime`` / ``accrualIntensity``). Dropout is a competing
exponential censoring hazard (:func:`dropout_hazard` from a probability of dropping out by a time, as rpact's
``dropoutRate`` / ``dropoutTime``).

References: Lachin JM, Foulkes MA. Biometrics 1986;42:507-19 (accrual, follow-up and dropout in the expected
number of events); Collett D. Modelling Survival Data in Medical Research, 3rd ed., 2015, ch. 5 and 10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "unit_exponential",
    "Accrual",
    "Cured",
    "EventTime",
    "Exponential",
    "PiecewiseExponential",
    "Weibull",
    "dropout_hazard",
    "endpoint_model",
    "hazard_scale",
    "median_for_survival",
]


def unit_exponential(u: np.ndarray) -> np.ndarray:
    """-log(1 - u), in place: unit exponential draws from uniforms on [0, 1) (inversion; 1 - u is exact for
    the multiples of 2^-53 that numpy's Generator.random returns). An event time is then the t with H(t)
    equal to it (:meth:`EventTime.times_at_hazard`): S(t) = exp(-H(t)) = 1 - u."""
    np.subtract(1.0, u, out=u)
    np.log(u, out=u)
    np.subtract(0.0, u, out=u)  # 0 - x: +0.0 where u = 0 (np.negative would give -0.0)
    return u


def _into(values: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """``values``, copied into ``out`` when given."""
    if out is None:
        return np.asarray(values)
    out[...] = values
    return out


class EventTime:
    """An event-time distribution on [0, inf); may be improper (a cure fraction: S(inf) > 0)."""

    def cumulative_hazard(self, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def survival(self, t: np.ndarray | float) -> np.ndarray:
        return np.asarray(np.exp(-self.cumulative_hazard(np.asarray(t, dtype=float))))

    def quantile_of_survival(self, s: np.ndarray) -> np.ndarray:
        """The time t with S(t) = s, for s in (0, 1] (inf where the event never happens)."""
        return self.inverse_cumulative_hazard(0.0 - np.log(s))  # +0.0 at s = 1 (not -0.0)

    def inverse_cumulative_hazard(self, h: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def event_times(self, u: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Event times from uniforms u on [0, 1): the time t with S(t) = 1 - u (inf: never); written into
        ``out`` when given."""
        return self.times_at_hazard(unit_exponential(np.array(u, dtype=float)), out)

    def times_at_hazard(self, h: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The times t with H(t) = h (inf: never): event times when h are unit exponential draws
        (:func:`unit_exponential`); written into ``out`` when given."""
        return _into(self.inverse_cumulative_hazard(h), out)

    def median(self) -> float:
        return float(self.quantile_of_survival(np.array([0.5]))[0])

    def breakpoints(self) -> tuple[float, ...]:
        """Times where the hazard is not smooth (for numerical integration)."""
        return ()


@dataclass(frozen=True)
class Exponential(EventTime):
    rate: float

    def cumulative_hazard(self, t: np.ndarray) -> np.ndarray:
        return self.rate * np.asarray(t, dtype=float)

    def inverse_cumulative_hazard(self, h: np.ndarray) -> np.ndarray:
        return np.asarray(h, dtype=float) / self.rate

    def times_at_hazard(self, h: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.asarray(np.multiply(h, 1.0 / self.rate, out=out))

    @classmethod
    def from_median(cls, median: float) -> Exponential:
        return cls(math.log(2.0) / median)


@dataclass(frozen=True)
class PiecewiseExponential(EventTime):
    cuts: tuple[float, ...]  # 0 = cuts[0] < cuts[1] < ...
    rates: tuple[float, ...]  # one per interval, the last to infinity

    def __post_init__(self) -> None:
        if len(self.cuts) != len(self.rates) or self.cuts[0] != 0.0:
            raise ValueError("piecewise exponential: one rate per interval, the first interval starting at 0")
        if any(b <= a for a, b in zip(self.cuts, self.cuts[1:], strict=False)):
            raise ValueError(f"piecewise exponential: cut points must increase, got {list(self.cuts)}")

    def _table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cuts, rates = np.asarray(self.cuts), np.asarray(self.rates)
        at_cuts = np.concatenate([[0.0], np.cumsum(np.diff(cuts) * rates[:-1])])  # H(cuts[i])
        return cuts, rates, at_cuts

    def cumulative_hazard(self, t: np.ndarray) -> np.ndarray:
        cuts, rates, at_cuts = self._table()
        t = np.asarray(t, dtype=float)
        i = np.searchsorted(cuts, t, side="right") - 1
        i = np.clip(i, 0, cuts.size - 1)
        return np.asarray(at_cuts[i] + rates[i] * (t - cuts[i]))

    def inverse_cumulative_hazard(self, h: np.ndarray) -> np.ndarray:
        cuts, rates, at_cuts = self._table()
        h = np.asarray(h, dtype=float)
        i = np.clip(np.searchsorted(at_cuts, h, side="right") - 1, 0, cuts.size - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = cuts[i] + (h - at_cuts[i]) / rates[i]
        return np.where(np.isfinite(h), t, np.inf)

    def breakpoints(self) -> tuple[float, ...]:
        return self.cuts[1:]


@dataclass(frozen=True)
class Weibull(EventTime):
    shape: float
    scale: float

    def cumulative_hazard(self, t: np.ndarray) -> np.ndarray:
        return (np.asarray(t, dtype=float) / self.scale) ** self.shape

    def inverse_cumulative_hazard(self, h: np.ndarray) -> np.ndarray:
        return self.scale * np.asarray(h, dtype=float) ** (1.0 / self.shape)

    @classmethod
    def from_median(cls, median: float, shape: float) -> Weibull:
        return cls(shape, median / math.log(2.0) ** (1.0 / shape))


@dataclass(frozen=True)
class Cured(EventTime):
    """A durable fraction ``fraction`` never has the event; the others follow ``susceptible``."""

    fraction: float
    susceptible: EventTime

    def survival(self, t: np.ndarray | float) -> np.ndarray:
        return np.asarray(self.fraction + (1.0 - self.fraction) * self.susceptible.survival(t))

    def cumulative_hazard(self, t: np.ndarray) -> np.ndarray:
        return np.asarray(-np.log(self.survival(t)))

    def quantile_of_survival(self, s: np.ndarray) -> np.ndarray:
        s = np.asarray(s, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            base = (s - self.fraction) / (1.0 - self.fraction)
        out = np.full(s.shape, np.inf)
        ok = base > 0
        out[ok] = self.susceptible.quantile_of_survival(base[ok])
        return out

    def inverse_cumulative_hazard(self, h: np.ndarray) -> np.ndarray:
        return self.quantile_of_survival(np.exp(-np.asarray(h, dtype=float)))

    def breakpoints(self) -> tuple[float, ...]:
        return self.susceptible.breakpoints()


def dropout_hazard(probability: float, by_time: float) -> float:
    """The exponential dropout hazard that makes P(dropout by ``by_time``) = ``probability``."""
    return -math.log1p(-probability) / by_time if probability > 0.0 else 0.0


@dataclass(frozen=True)
class Accrual:
    """Piecewise uniform accrual: intensity ``intensities[i]`` (participants per time unit, or relative
    weights) on [times[i], times[i + 1]); times[0] = 0."""

    times: tuple[float, ...]
    intensities: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.times) != len(self.intensities) + 1 or self.times[0] != 0.0:
            raise ValueError("accrual: times start at 0 and have one more entry than intensities")
        if any(b <= a for a, b in zip(self.times, self.times[1:], strict=False)):
            raise ValueError(f"accrual: times must increase, got {list(self.times)}")

    @classmethod
    def uniform(cls, duration: float) -> Accrual:
        return cls((0.0, float(duration)), (1.0,))

    @property
    def duration(self) -> float:
        return self.times[-1]

    def weights(self) -> np.ndarray:
        """The fraction of participants entering in each interval."""
        w = np.diff(self.times) * np.asarray(self.intensities)
        return np.asarray(w / w.sum())

    def entered_by(self, t: float) -> float:
        """The fraction of participants entered by time ``t`` (the accrual distribution function)."""
        done = 0.0
        for (a, b), w in zip(zip(self.times, self.times[1:], strict=False), self.weights(), strict=True):
            done += float(w) * min(max((t - a) / (b - a), 0.0), 1.0)
        return min(done, 1.0)

    def entry_quantile(self, u: np.ndarray) -> np.ndarray:
        """Entry times by inversion of the accrual distribution function (u uniform on [0, 1))."""
        times = np.asarray(self.times)
        if len(self.intensities) == 1:
            return np.asarray(u * self.duration)
        cumulative = np.concatenate([[0.0], np.cumsum(self.weights())])
        i = np.clip(np.searchsorted(cumulative, u, side="right") - 1, 0, len(self.intensities) - 1)
        within = (u - cumulative[i]) / (cumulative[i + 1] - cumulative[i])
        return np.asarray(times[i] + within * (times[i + 1] - times[i]))


def endpoint_model(endpoint: Any, median: float, durable: float = 0.0) -> EventTime:
    """The event-time model of a time-to-event endpoint spec (model, shape, cuts, relative_hazards) with the
    given median (of the participants who can have the event) and durable fraction: exponential log 2 /
    median; Weibull with the endpoint's shape; piecewise exponential with the endpoint's relative hazards,
    scaled so that the median is the one given."""
    model: EventTime
    if endpoint.model == "exponential":
        model = Exponential.from_median(median)
    elif endpoint.model == "weibull":
        model = Weibull.from_median(median, endpoint.shape)
    else:
        unit = PiecewiseExponential(tuple(endpoint.cuts), tuple(endpoint.relative_hazards))
        scale = math.log(2.0) / float(unit.cumulative_hazard(np.array([median]))[0])
        model = PiecewiseExponential(unit.cuts, tuple(scale * r for r in unit.rates))
    return Cured(durable, model) if durable > 0.0 else model


@dataclass(frozen=True)
class HazardScale:
    """The hazard of a time-to-event endpoint as one unknown scale: H(t) = lambda H_0(t), with H_0(t) = t
    (exponential, and the median-equivalent constant hazard of a Weibull endpoint) or, for a
    piecewise-exponential endpoint, H_0 the cumulative hazard whose rates are the endpoint's relative hazards
    (lambda is the hazard where the relative hazard is 1). What the Gamma priors of time-to-event designs are
    about: the Bayesian rule's (a Gamma mixture posterior of lambda after d events with exposure
    sum H_0(t_i): the likelihood is lambda^d exp(-lambda sum H_0(t_i)) times factors free of lambda) and the
    design prior's. The median m solves lambda H_0(m) = log 2."""

    unit: PiecewiseExponential | None  # None: H_0(t) = t

    def exposure(self, t: np.ndarray) -> np.ndarray:
        """H_0(t) (t >= 0)."""
        return t if self.unit is None else self.unit.cumulative_hazard(t)

    def median(self, hazard: np.ndarray | float) -> np.ndarray:
        """The median at scale ``hazard``: H_0^-1(log 2 / hazard)."""
        h = math.log(2.0) / np.asarray(hazard, dtype=float)
        return h if self.unit is None else self.unit.inverse_cumulative_hazard(h)

    def hazard(self, median: float) -> float:
        """The scale whose median is ``median``: log 2 / H_0(median)."""
        return math.log(2.0) / float(self.exposure(np.array([median], dtype=float))[0])


def hazard_scale(endpoint: Any) -> HazardScale:
    """The endpoint's hazard as one scale (:class:`HazardScale`)."""
    if endpoint.model == "piecewise-exponential":
        return HazardScale(PiecewiseExponential(tuple(endpoint.cuts), tuple(endpoint.relative_hazards)))
    return HazardScale(None)


def median_for_survival(endpoint: Any, at: float, survival: float) -> float:
    """The median that gives survival ``survival`` at time ``at`` under the endpoint's model (no durable
    fraction): the null boundary of a landmark test on the median scale."""
    from scipy import optimize

    def gap(log_median: float) -> float:
        return float(endpoint_model(endpoint, math.exp(log_median)).survival(at)) - survival

    return math.exp(optimize.brentq(gap, math.log(at) - 40.0, math.log(at) + 40.0, xtol=1e-14, rtol=1e-14))
