"""Time-to-event endpoints: participant-level times, censored at the analysis, and the log-rank statistic.

Per trial and participant (one uniform each, in trial order, so the values do not depend on the chunking):
calendar entry E from the accrual distribution, event time X from the arm's event-time model (inversion of
its survival function), dropout time C from an exponential censoring hazard. The analysis happens at a
calendar time tau: fixed (accrual + minimal follow-up) or event-driven (the calendar time of the D-th observed
event, E + X with X <= C; all the trial's events if it never reaches D). At tau a participant who has entered
is followed for min(X, C, tau - E) and has an event when X <= C and E + X <= tau.

The log-rank statistic (Mantel 1966; Collett 2015, section 2.6) from the sorted follow-up times:
U = sum over events of (1[treatment] - n_1 / n), V = sum of n_1 n_0 / n^2 (n, n_1 at risk just before the
event; no ties, times being continuous), Z = -U / sqrt(V) (positive when the treatment arm has fewer events
than expected: benefit). Trials are simulated in sub-chunks of at most :data:`CELLS` trial x participant
cells.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from planner.randomness import BlockStreams
from planner.time_to_event.models import (
    Accrual,
    EventTime,
    Exponential,
    HazardScale,
    dropout_hazard,
    endpoint_model,
    hazard_scale,
    unit_exponential,
)

__all__ = [
    "CELLS",
    "PerTrialModel",
    "cox_log_hazard_ratio",
    "cox_wald_z",
    "SurvivalSample",
    "accrual_of",
    "even_entry",
    "exponential_posterior_z",
    "zone_statistic",
    "arm_models",
    "landmark_z",
    "logrank_z",
    "one_sample_logrank_z",
    "simulate_survival_design",
    "simulate_survival_trials",
    "statistic_for",
]

Statistic = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
# trial x participant cells per sub-chunk: 256 KiB per float array (larger ones cost page faults)
CELLS = 1 << 16


@dataclass(frozen=True)
class SurvivalSample:
    """The analysis of each simulated trial: log-rank z, events, calendar time and participants entered."""

    z: np.ndarray
    events: np.ndarray
    time: np.ndarray
    enrolled: np.ndarray


def logrank_z(follow_up: np.ndarray, event: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """The log-rank z per row (trial): ``follow_up`` and ``event`` are trials x participants (a negative
    follow-up: not in the analysis, and then no event), ``treated`` flags the participant columns of the
    treatment arm; benefit (fewer treatment events than expected) is positive; a trial without events: 0.

    Each row is sorted once, in decreasing follow-up, with the two flags carried in the two lowest bits of the
    times: a change of at most 3 units in the last place, which reorders only times equal within 3 ulp
    (probability about 1e-15 per pair of participants). At sorted position i the participants at risk are
    those at positions 0..i (n = i + 1, of them n_1 treated: a running sum); those not in the analysis sort
    last and are never at risk. O_1 - E_1 = sum over events of (1[treated] - n_1 / n), V = sum of
    (n_1 / n)(1 - n_1 / n).
    """
    return _logrank_z(np.array(follow_up, dtype=np.float64), event, treated)


def _sort_decreasing(follow_up: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """Each row of ``follow_up`` (float64, overwritten) in decreasing order with ``flags`` (integers below 4,
    broadcast to it) carried in the two lowest bits: returns int64 sort keys, ``keys & 3`` the flags in
    sorted order and :func:`_times_of` the times (moved by at most 3 units in the last place).

    For a float f >= +0.0 the int64 bit pattern b increases with f, so ~b = -b - 1 decreases with it and is
    negative; a negative follow-up (not in the analysis) has b < 0 and ~b >= 0, and sorts after every
    follow-up >= 0. Integer keys sort faster than floats."""
    keys = follow_up.view(np.int64)
    np.invert(keys, out=keys)
    keys &= ~np.int64(3)
    keys |= flags
    keys.sort(axis=1)  # in place (np.sort would copy)
    return keys


def _times_of(keys: np.ndarray) -> np.ndarray:
    """The follow-up times of :func:`_sort_decreasing`'s keys (within 3 units in the last place)."""
    return np.invert(keys).view(np.float64)


def _logrank_z(follow_up: np.ndarray, event: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """:func:`logrank_z` overwriting ``follow_up`` (float64). With p = n_1 / n at each sorted position and e
    its event flag: E_1 = sum e p and V = sum e p (1 - p) = E_1 - sum (e p)^2 (e is 0 or 1)."""
    keys = _sort_decreasing(follow_up, event.view(np.int8) | np.where(treated, 2, 0).astype(np.int8))
    at_risk = np.bitwise_and(keys, 2)  # 2 x [treated], in sorted order
    np.cumsum(at_risk, axis=1, out=at_risk)  # 2 n_1 at each position (integers: exact and fast)
    keys &= 1  # the event flags in sorted order
    at_risk *= keys  # 2 n_1 at events, 0 elsewhere
    share = at_risk.astype(np.float64)
    np.divide(share, _twice_at_risk(keys.shape[1]), out=share)  # e p: n_1 / n at events, exactly
    expected = np.einsum("ij->i", share)
    v = expected - np.einsum("ij,ij->i", share, share)
    n_treated = int(np.count_nonzero(treated))
    leading = bool(treated[:n_treated].all())  # the treatment arm's columns come first (as simulated)
    observed = _count_rows(event[:, :n_treated] if leading else event & treated)  # treatment-arm events
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (expected - observed) / np.sqrt(v)
    return np.where(v > 0, z, 0.0)


@lru_cache(maxsize=64)
def _twice_at_risk(n: int) -> np.ndarray:
    """2, 4, ..., 2n: twice the number at risk at each position of a row sorted in decreasing follow-up."""
    out = np.arange(2, 2 * n + 1, 2, dtype=np.float64)
    out.flags.writeable = False
    return out


def cox_log_hazard_ratio(
    follow_up: np.ndarray, event: np.ndarray, treated: np.ndarray, tol: float = 1e-10, max_steps: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """Per row (trial): the Cox partial-likelihood estimate of the log hazard ratio, treatment over control,
    and its standard error 1 / sqrt(I(beta)) (Cox 1972; no ties, times being continuous; Collett 2015,
    section 3.3). Rows are sorted once as in :func:`logrank_z`; at an event at sorted position i the risk
    set holds n_1 treated and n_0 control participants, and with r = exp(beta)
    U(beta) = sum over events of (1[treated] - n_1 r / (n_1 r + n_0)), I(beta) = sum of n_1 n_0 r / (n_1 r + n_0)^2.
    Newton's method from beta = 0 (whose first step is the log-rank one-step estimate) until the step is below
    ``tol``. Where every event is in one arm the estimate is infinite (monotone likelihood): -inf without
    treated events, +inf without control events, standard error inf; a trial without events: nan."""
    keys = _sort_decreasing(
        np.array(follow_up, dtype=np.float64), event.view(np.int8) | np.where(treated, 2, 0).astype(np.int8)
    )
    at_event = (keys & 1).astype(bool)
    is_treated = ((keys >> 1) & 1).astype(np.float64)
    n1 = np.cumsum(is_treated, axis=1)
    n0 = np.arange(1, keys.shape[1] + 1, dtype=np.float64) - n1
    weight = at_event.astype(np.float64)
    observed = np.einsum("ij,ij->i", weight, is_treated)  # treated events
    total = weight.sum(axis=1)
    finite = (observed > 0) & (observed < total)
    beta = np.zeros(keys.shape[0])
    rows = np.flatnonzero(finite)
    for _ in range(max_steps):
        if rows.size == 0:
            break
        r = np.exp(beta[rows])[:, None]
        a, c, w = n1[rows] * r, n0[rows], weight[rows]
        share = a / (a + c)
        score = observed[rows] - np.einsum("ij,ij->i", w, share)
        info = np.einsum("ij,ij->i", w, share * (1.0 - share))
        step = score / info
        beta[rows] += step
        rows = rows[np.abs(step) > tol]
    r = np.exp(beta)[:, None]
    share = n1 * r / (n1 * r + n0)
    with np.errstate(invalid="ignore"):
        share = np.where(np.isfinite(share), share, 0.0)
    info = np.einsum("ij,ij->i", weight, share * (1.0 - share))
    with np.errstate(divide="ignore"):
        se = np.where(finite, 1.0 / np.sqrt(info), np.inf)
    beta = np.where(finite, beta, np.where(observed == 0, -np.inf, np.inf))
    return np.where(total > 0, beta, np.nan), np.where(total > 0, se, np.nan)


def cox_wald_z(follow_up: np.ndarray, event: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """The Wald z of the Cox log hazard ratio, -beta / se(beta): positive when the treatment arm has the lower
    hazard (benefit); +inf or -inf where every event is in one arm (monotone likelihood); 0 without events."""
    beta, se = cox_log_hazard_ratio(follow_up, event, treated)
    with np.errstate(invalid="ignore"):
        z = np.where(np.isinf(beta), -np.sign(beta) * np.inf, -beta / se)
    return np.where(np.isnan(beta), 0.0, z)


def one_sample_logrank_z(reference: EventTime, variance: str = "expected") -> Statistic:
    """The one-sample log-rank statistic against a reference distribution (Breslow 1975; Finkelstein,
    Muzikansky and Schoenfeld 2003): O events observed, E = sum over participants of the reference cumulative
    hazard at their follow-up; z = (E - O) / sqrt(V), positive when fewer events than the reference predicts
    (benefit). V = E ('expected', the classical test) or (O + E) / 2 ('average': the mean of the two usual null
    estimates of Var(O - E); no published source found, validated here by simulation only). Closed-form
    sizing: :func:`planner.time_to_event.sizing.size_one_sample_logrank` (Wu 2015)."""

    def z(follow_up: np.ndarray, event: np.ndarray, treated: np.ndarray) -> np.ndarray:
        observed = np.count_nonzero(event, axis=1)
        expected = reference.cumulative_hazard(np.maximum(follow_up, 0.0)).sum(axis=1)
        v = expected if variance == "expected" else (observed + expected) / 2.0
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (expected - observed) / np.sqrt(v)
        return np.where(v > 0, out, 0.0)

    return z


def landmark_z(landmark: float, goal: float) -> Statistic:
    """The Kaplan-Meier survival at ``landmark`` against the performance goal S0 on the complementary log-log
    scale (Klein, Logan, Harhoff and Andersen 2007): z = (log(-log S0) - log(-log S_KM)) / se, with
    se^2 = Greenwood's sum of d / (n (n - d)) over event times up to the landmark, divided by (log S_KM)^2;
    positive when the survival is above the goal. A trial with no participant followed to the landmark has
    no estimate (z = -inf); S_KM = 1 (no event by then) is success (z = +inf)."""
    target = math.log(-math.log(goal))

    def z(follow_up: np.ndarray, event: np.ndarray, treated: np.ndarray) -> np.ndarray:
        keys = _sort_decreasing(follow_up, event.view(np.int8))
        events = (keys & 1).astype(bool)
        times = _times_of(keys)
        n = np.arange(1, times.shape[1] + 1, dtype=np.float64)  # at risk at each position (decreasing order)
        counted = events & (times <= landmark)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_s = np.sum(np.broadcast_to(np.log1p(-1.0 / n), times.shape), axis=1, where=counted)
            greenwood = np.sum(np.broadcast_to(1.0 / (n * (n - 1.0)), times.shape), axis=1, where=counted)
            out = (target - np.log(-log_s)) / (np.sqrt(greenwood) / np.abs(log_s))
        followed = times[:, 0] >= landmark  # someone is still followed at the landmark
        out = np.where(log_s == 0.0, np.inf, out)  # no event by the landmark
        out = np.where(np.isfinite(log_s), out, -np.inf)  # the last at risk had the event: S_KM = 0
        return np.where(followed, np.nan_to_num(out, nan=-np.inf), -np.inf)

    return z


def exponential_posterior_z(
    prior: Any,
    hazard: float,
    scale: HazardScale | None = None,
    conditions: tuple[tuple[float, float], ...] = (),
    threshold: float = 0.5,
) -> Statistic:
    """The probit of the posterior probability that the hazard is below ``hazard`` under an exponential model
    with a Gamma mixture prior: with d events in total follow-up T the posterior is the mixture of
    Gamma(a_k + d, b_k + T) (:meth:`planner.mixtures.GammaMixture.posterior_cdf`), so z = Phi^-1(P(lambda <
    hazard | d, T)), at or above Phi^-1(threshold) exactly when the probability is. With ``scale`` (a
    piecewise-exponential endpoint: :class:`~planner.time_to_event.models.HazardScale`) lambda is the scale of
    the hazard and T the sum of H_0 over the follow-up times (the same conjugate update). Further
    ``conditions`` (hazard h_i, probability q_i), each P(lambda < h_i | d, T) > q_i, join the first one with
    ``threshold``: z = Phi^-1(threshold) + min_i (Phi^-1(P_i) - Phi^-1(q_i)), at or above Phi^-1(threshold)
    exactly when every condition holds."""
    from scipy import special

    def z(follow_up: np.ndarray, event: np.ndarray, treated: np.ndarray) -> np.ndarray:
        events = np.count_nonzero(event, axis=1)
        followed = np.maximum(follow_up, 0.0)
        exposure = np.sum(followed if scale is None else scale.exposure(followed), axis=1)
        first = np.asarray(special.ndtri(prior.posterior_cdf(hazard, events, exposure)))
        if not conditions:
            return first
        margin = first - special.ndtri(threshold)
        for h, q in conditions:
            margin = np.minimum(
                margin, special.ndtri(prior.posterior_cdf(h, events, exposure)) - special.ndtri(q)
            )
        return np.asarray(special.ndtri(threshold) + margin)

    return z


def _analysis_times(
    calendar_event: np.ndarray, events: tuple[int, ...] | None, fixed_time: float | None, scratch: np.ndarray
) -> np.ndarray:
    """The calendar time of each trial's analyses (trials x looks): fixed, or those of its looks' events-th
    events (a trial that never has that many: its last event, all its data). ``scratch``: a buffer of the
    shape of ``calendar_event`` (each row sorted there)."""
    if events is None:
        return np.full((calendar_event.shape[0], 1), float(fixed_time))
    ks = [min(e, calendar_event.shape[1]) - 1 for e in events]
    np.copyto(scratch, calendar_event)
    # calendar times are >= +0.0 (entry >= 0, event times >= +0.0) or inf, whose int64 bit patterns sort as
    # the floats do, and faster; a full sort of these short rows is also faster than np.partition
    scratch.view(np.int64).sort(axis=1)
    tau = scratch[:, ks]
    short = np.flatnonzero(~np.isfinite(tau[:, -1]))
    if short.size:
        rows = calendar_event[short]
        last = np.where(np.isfinite(rows), rows, -np.inf).max(axis=1)
        tau[short] = np.where(np.isfinite(tau[short]), tau[short], last[:, None])
    return tau


def simulate_survival_trials(
    streams: BlockStreams,
    size: int,
    sizes: tuple[int, ...],
    models: tuple[EventTime, ...],
    accrual: Accrual,
    dropout_hazards: tuple[float, ...],
    events: int | tuple[int, ...] | None = None,
    analysis_time: float | None = None,
    entry: str = "random",
    statistic: Statistic | None = None,
    responders: float | None = None,
    onset: float = 0.0,
) -> SurvivalSample:
    """``size`` trials with arms of ``sizes`` participants (treatment first), analysed at the ``events``-th
    event (a tuple: at each of these event counts, one look each) or at calendar time ``analysis_time``.
    ``entry``: 'random' (independent entry times) or
    'evenly-spaced' (:func:`even_entry`). With a tuple of event counts every field is trials x looks.
    ``statistic(follow_up, event, treated) -> z`` is the analysis' test statistic on the participant arrays
    (follow-up, which it may overwrite, negative for those not entered); default: the log-rank z.
    ``responders``: the time starts at a response (insulin independence) ``onset`` after entry, and only
    responders, each participant one with this probability, are in the analysis (the others never are).
    ``models`` may be :class:`PerTrialModel` and ``responders`` an array: one truth per trial."""
    statistic = statistic or _logrank_z
    looks = (events,) if isinstance(events, int) else events
    total = int(sum(sizes))
    even = even_entry(accrual, sizes) if entry == "evenly-spaced" else None
    treated_row = np.arange(total) < sizes[0]  # the treatment arm's participants come first
    entry_order = None if even is None else np.sort(even)
    exponential = [model for model in models if isinstance(model, Exponential)]
    mean_times = (  # every arm exponential: the mean event time of each participant's arm
        np.repeat([1.0 / model.rate for model in exponential], sizes)
        if len(exponential) == len(models)
        else None
    )
    step = max(1, CELLS // max(total, 1))
    work = _Workspace(min(step, size), total)
    parts = []
    for start in range(0, size, step):
        m = min(step, size - start)
        u, x, calendar, follow, scratch, event = work.rows(m)
        entered_at = (
            accrual.entry_quantile(streams("tte.entry").random((m, total)))
            if even is None
            else np.broadcast_to(even, (m, total))
        )
        hazard = unit_exponential(streams("tte.event").random(out=u))  # H(event time), in place
        if mean_times is not None:  # every arm exponential: t = H / rate, one pass
            np.multiply(hazard, mean_times, out=x)
        else:
            for a, (lo, hi) in enumerate(_arm_slices(sizes)):
                _rows(models[a], start, start + m).times_at_hazard(hazard[:, lo:hi], out=x[:, lo:hi])
        origin = entered_at if onset == 0.0 else entered_at + onset  # where each participant's time starts
        np.add(origin, x, out=calendar)
        outside = (
            None
            if responders is None
            else streams("tte.response").random((m, total)) >= _rows(responders, start, start + m)
        )
        if outside is not None:
            np.putmask(calendar, outside, np.inf)  # a non-responder never has the event in the analysis
        if any(eta > 0 for eta in dropout_hazards):
            c = np.empty_like(u)
            w = streams("tte.dropout").random((m, total))
            for a, (lo, hi) in enumerate(_arm_slices(sizes)):
                eta = dropout_hazards[a]
                c[:, lo:hi] = -np.log1p(-w[:, lo:hi]) / eta if eta > 0 else np.inf
            np.putmask(calendar, x > c, np.inf)  # dropped out first: no observed event
            np.minimum(x, c, out=x)  # followed until the event or dropout, whichever is first
        taus = _analysis_times(calendar, looks, analysis_time, scratch)
        out = np.empty((4, m, taus.shape[1]))
        for k in range(taus.shape[1]):
            tau = taus[:, k : k + 1]
            np.less_equal(calendar, tau, out=event)
            # follow-up: to the event, dropout or the analysis (negative for those not entered by tau)
            np.subtract(tau, origin, out=follow)
            np.minimum(x, follow, out=follow)
            if outside is not None:
                np.putmask(follow, outside, -1.0)  # not in the analysis
            out[1, :, k] = _count_rows(event)
            out[2, :, k] = tau[:, 0]
            out[3, :, k] = (
                _count_rows(entered_at <= tau)
                if even is None
                else np.searchsorted(entry_order, tau[:, 0], "right")
            )
            out[0, :, k] = statistic(follow, event, treated_row)
        parts.append(out)
    joined = np.concatenate(parts, axis=1)
    z, n_events, time, enrolled = joined if isinstance(events, tuple) else joined[..., 0]
    return SurvivalSample(z, n_events.astype(np.int64), time, enrolled.astype(np.int64))


class _Workspace:
    """The trials x participants arrays of one sub-chunk, allocated once per simulation and reused (a fresh
    array of this size for every sub-chunk costs page faults): uniforms, event times, calendar event times,
    follow-up, a scratch array and the event flags."""

    def __init__(self, trials: int, participants: int):
        shape = (trials, participants)
        self.floats = np.empty((5, *shape))
        self.event = np.empty(shape, dtype=bool)

    def rows(self, m: int) -> tuple[np.ndarray, ...]:
        """Views of the first ``m`` rows of each array (contiguous)."""
        return (*(a[:m] for a in self.floats), self.event[:m])


def _count_rows(flags: np.ndarray) -> np.ndarray:
    """The number of true flags in each row of a boolean trials x participants array."""
    return np.add.reduce(flags.view(np.uint8), axis=1, dtype=np.int64)


def even_entry(accrual: Accrual, sizes: tuple[int, ...]) -> np.ndarray:
    """Entry times of participants entering evenly (rpact's getSimulationSurvival): the k-th of N enters when a
    fraction k / N has entered; slot k goes to the treatment arm when ceil(k n_1 / N) steps up (1:1 alternates
    treatment, control; 2:1 gives treatment, treatment, control). Returned in column order (treatment first)."""
    total = int(sum(sizes))
    k = np.arange(1, total + 1)
    times = accrual.entry_quantile(k / total)
    if len(sizes) == 1:
        return np.asarray(times)
    treated = np.ceil(k * sizes[0] / total) > np.ceil((k - 1) * sizes[0] / total)
    return np.concatenate([times[treated], times[~treated]])


class PerTrialModel(EventTime):
    """One event-time model per simulated trial (truths drawn from a design prior): trial i's cumulative
    hazard is factor_i H_1(t), H_1 the endpoint's model with median 1 (exponential, Weibull and piecewise
    exponential stay in their family), and a durable fraction durable_i never has the event."""

    def __init__(self, unit: EventTime, factor: np.ndarray, durable: np.ndarray):
        self.unit, self.factor, self.durable = unit, factor, durable  # factor, durable: trials x 1

    @classmethod
    def with_medians(cls, endpoint: Any, medians: np.ndarray, durable: Any) -> PerTrialModel:
        """Trial i's model has median medians[i] (of the participants who can have the event)."""
        unit = endpoint_model(endpoint, 1.0)
        m = np.asarray(medians, dtype=float).reshape(-1, 1)
        factor = math.log(2.0) / unit.cumulative_hazard(m)
        return cls(unit, factor, np.broadcast_to(np.asarray(durable, dtype=float).reshape(-1, 1), m.shape))

    def rows(self, lo: int, hi: int) -> PerTrialModel:
        return PerTrialModel(self.unit, self.factor[lo:hi], self.durable[lo:hi])

    def inverse_cumulative_hazard(self, h: np.ndarray) -> np.ndarray:
        return self.quantile_of_survival(np.exp(-np.asarray(h, dtype=float)))

    def quantile_of_survival(self, s: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            base = (s - self.durable) / (1.0 - self.durable)  # the susceptible's survival
        ok = base > 0.0
        h = (0.0 - np.log(np.where(ok, base, 1.0))) / self.factor  # +0.0 at base = 1
        return np.where(ok, self.unit.inverse_cumulative_hazard(h), np.inf)


def _rows(value: Any, lo: int, hi: int) -> Any:
    """A per-trial model or value restricted to trials lo..hi-1 (trials x 1); shared ones unchanged."""
    if isinstance(value, PerTrialModel):
        return value.rows(lo, hi)
    if isinstance(value, np.ndarray) and value.ndim:
        return value.reshape(-1, 1)[lo:hi]
    return value


def _arm_slices(sizes: tuple[int, ...]) -> list[tuple[int, int]]:
    edges = np.concatenate([[0], np.cumsum(sizes)])
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def arm_models(
    endpoint: Any, medians: tuple[float, ...], durable: tuple[float, ...] | None
) -> tuple[EventTime, ...]:
    """Each arm's event-time model from the endpoint's model and the scenario's medians (and durable
    fractions): :func:`planner.time_to_event.models.endpoint_model`."""
    fractions = [0.0 if durable is None else durable[a] for a in range(len(medians))]
    if any(np.ndim(v) for v in (*medians, *fractions)):  # one truth per trial (a design prior)
        return tuple(
            PerTrialModel.with_medians(endpoint, m, f) for m, f in zip(medians, fractions, strict=True)
        )
    return tuple(endpoint_model(endpoint, median, fractions[a]) for a, median in enumerate(medians))


def accrual_of(endpoint: Any) -> Accrual:
    """The endpoint's accrual: uniform over accrual_time, or piecewise at accrual_intensities."""
    if endpoint.accrual_times is not None:
        return Accrual(tuple(endpoint.accrual_times), tuple(endpoint.accrual_intensities))
    return Accrual.uniform(endpoint.accrual_time)


def dropout_hazards_of(endpoint: Any, arms: int) -> tuple[float, ...]:
    return (dropout_hazard(endpoint.dropout_probability, endpoint.dropout_time),) * arms


def simulate_survival_design(
    design: Any,
    scenario: Any,
    streams: BlockStreams,
    size: int,
    looks: bool = False,
    statistic: Statistic | None = None,
) -> SurvivalSample:
    """``size`` trials of a time-to-event ``design`` under ``scenario`` (medians per arm); with ``looks``, the
    analyses at every look's events (trials x looks). ``statistic``: what each analysis computes (default:
    the design's rule's statistic, :func:`statistic_for`)."""
    ep = design.endpoint
    medians = (scenario.treatment,) if scenario.control is None else (scenario.treatment, scenario.control)
    sizes = design.arms.sizes
    fixed = None if ep.follow_up is None else accrual_of(ep).duration + ep.follow_up
    return simulate_survival_trials(
        streams,
        size,
        sizes,
        arm_models(ep, medians, getattr(scenario, "durable", None)),
        accrual_of(ep),
        dropout_hazards_of(ep, len(sizes)),
        events=design.look_events if looks else ep.events,
        analysis_time=fixed,
        entry=ep.entry,
        statistic=statistic or statistic_for(design),
        responders=scenario.responders if ep.time_origin == "response" else None,
        onset=ep.onset_time if ep.time_origin == "response" else 0.0,
    )


def zone_statistic(design: Any) -> Statistic:
    """Go (1), Consider (0) or No-Go (-1) per simulated trial of a single-arm time-to-event design with a
    ``[decision]`` section: the analysis prior's Gamma posterior of the hazard (scale) after d events with
    exposure T, as :func:`exponential_posterior_z`; a median beyond v (longer) is a hazard below h(v), so a
    ``go`` condition holds when P(hazard < h(v) | d, T) > probability and a ``no_go`` one when
    P(hazard > h(v) | d, T) > probability."""
    if design.randomized:
        return _hazard_ratio_zone(design)
    from planner.priors import hazard_prior

    prior = hazard_prior(design.analysis.prior, design.endpoint.time_unit)
    scale = hazard_scale(design.endpoint)
    go = [(scale.hazard(c.value), c.probability) for c in design.decision.go]
    no_go = [(scale.hazard(c.value), c.probability) for c in design.decision.no_go]

    def zone(follow_up: np.ndarray, event: np.ndarray, treated: np.ndarray) -> np.ndarray:
        events = np.count_nonzero(event, axis=1)
        exposure = np.sum(scale.exposure(np.maximum(follow_up, 0.0)), axis=1)
        is_go = np.ones(events.shape, dtype=bool)
        for h, q in go:
            is_go &= prior.posterior_cdf(h, events, exposure) > q
        is_no = ~is_go
        for h, q in no_go:
            is_no &= 1.0 - prior.posterior_cdf(h, events, exposure) > q
        return np.where(is_go, 1.0, np.where(is_no, -1.0, 0.0))

    return zone


def _hazard_ratio_zone(design: Any) -> Statistic:
    """Go / Consider / No-Go per simulated trial of a randomized time-to-event design: the conditions are on the
    hazard ratio (treatment over control; below a value is benefit) under an approximate posterior, a flat prior
    on the log hazard ratio and the normal likelihood of its Cox estimate, log HR ~ N(beta, se^2)
    (:func:`cox_log_hazard_ratio`): P(HR < v | data) = Phi((log v - beta) / se). Every event in one arm gives
    beta = -inf or +inf (probability 1 or 0); a trial without events is Consider."""
    from scipy import special

    go = [(math.log(c.value), c.probability) for c in design.decision.go]
    no_go = [(math.log(c.value), c.probability) for c in design.decision.no_go]

    def zone(follow_up: np.ndarray, event: np.ndarray, treated: np.ndarray) -> np.ndarray:
        beta, se = cox_log_hazard_ratio(follow_up, event, treated)
        with np.errstate(divide="ignore", invalid="ignore"):

            def below(log_value: float) -> np.ndarray:
                z = (log_value - beta) / se
                return np.where(np.isinf(beta), np.where(beta < 0, 1.0, 0.0), special.ndtr(z))

            is_go = np.ones(beta.shape, dtype=bool)
            for v, q in go:
                is_go &= below(v) > q
            is_no = ~is_go
            for v, q in no_go:
                is_no &= 1.0 - below(v) > q
        known = np.isfinite(beta) | np.isinf(beta)  # no events (nan): Consider
        return np.where(known & is_go, 1.0, np.where(known & is_no, -1.0, 0.0))

    return zone


def statistic_for(design: Any) -> Statistic:
    """The participant-level statistic of a time-to-event design's rule: the log-rank z (logrank), the
    one-sample log-rank z against the endpoint's model with the performance goal as median
    (one-sample-logrank), the landmark z (km-landmark), or the probit of the posterior probability that the
    hazard is below that of an exponential with the goal as median (exponential-posterior)."""
    an = design.analysis
    if an.rule == "exponential-posterior":
        from planner.priors import hazard_prior

        prior = hazard_prior(an.prior, design.endpoint.time_unit)
        scale = hazard_scale(design.endpoint)
        conditions = tuple((scale.hazard(c.value), c.probability) for c in an.conditions)
        return exponential_posterior_z(
            prior, scale.hazard(float(an.performance_goal)), scale, conditions, float(an.threshold)
        )
    if an.rule == "one-sample-logrank":
        reference = endpoint_model(design.endpoint, float(an.performance_goal))
        return one_sample_logrank_z(reference, an.one_sample_variance or "expected")
    if an.rule == "km-landmark":
        return landmark_z(float(an.landmark), float(an.performance_goal))
    if an.rule == "cox":
        return cox_wald_z
    return _logrank_z  # may overwrite the follow-up: simulate_survival_trials makes it afresh for each look
