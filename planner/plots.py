"""Charts shared by the app and the report (Altair). Data in, chart out: no statistics here."""

from __future__ import annotations

import functools

import altair as alt
import numpy as np
import pandas as pd

from planner.mixtures import BetaMixture, GammaMixture, NormalMixture
from planner.search import CurvePoint

__all__ = [
    "curve_frame",
    "curve_chart",
    "prior_frame",
    "prior_chart",
    "overlay_chart",
    "survival_chart",
    "survival_over_chart",
    "svg",
    "zone_chart",
    "drift_chart",
    "precision_chart",
    "stage_chart",
]


def curve_frame(points: tuple[CurvePoint, ...], metric: str) -> pd.DataFrame:
    """A curve over N with a 95% Monte Carlo band (zero width where exact)."""
    n = np.array([p.n for p in points])
    v = np.array([p.value for p in points])
    se = np.array([p.mcse for p in points])
    return pd.DataFrame(
        {
            "N": n,
            metric: v,
            "low": np.clip(v - 1.96 * se, 0, 1),
            "high": np.clip(v + 1.96 * se, 0, 1),
            "MCSE": se,
            "exact": [p.exact for p in points],
        }
    )


def curve_chart(frame: pd.DataFrame, metric: str, target: float | None = None, current_n: int | None = None):
    base = alt.Chart(frame).encode(x=alt.X("N:Q", title="total participants (N)"))
    band = base.mark_area(opacity=0.25).encode(
        y=alt.Y("low:Q", title=metric, scale=alt.Scale(domain=[0, 1])), y2="high:Q"
    )
    line = base.mark_line(point=True).encode(
        y=f"{metric}:Q",
        tooltip=["N", alt.Tooltip(f"{metric}:Q", format=".4f"), alt.Tooltip("MCSE:Q", format=".4f")],
    )
    layers = [band, line]
    if target is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"y": [target]}))
            .mark_rule(strokeDash=[6, 4], color="gray")
            .encode(y="y:Q")
        )
    if current_n is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"x": [current_n]})).mark_rule(color="firebrick").encode(x="x:Q")
        )
    return alt.layer(*layers).properties(height=320)


def prior_frame(priors: dict[str, object], n_points: int = 400) -> pd.DataFrame:
    """Densities of several priors on a common grid, long format (role, value, density)."""
    rows = []
    for role, mix in priors.items():
        if isinstance(mix, BetaMixture):
            grid = np.linspace(0.001, 0.999, n_points)
        elif isinstance(mix, GammaMixture):  # up to its 99th percentile (a heavy tail would flatten the rest)
            probe = np.geomspace(1e-9, 1e9, 4001) * mix.mean()
            top = float(np.interp(0.99, mix.cdf(probe), probe))
            grid = np.linspace(top / n_points, top, n_points)
        elif isinstance(mix, NormalMixture):
            mean, sd = mix.mean(), np.sqrt(mix.var())
            grid = np.linspace(mean - 5 * sd, mean + 5 * sd, n_points)
        else:
            continue
        rows.append(pd.DataFrame({"prior": role, "value": grid, "density": mix.pdf(grid)}))
    return pd.concat(rows) if rows else pd.DataFrame(columns=["prior", "value", "density"])


def prior_chart(frame: pd.DataFrame, x_title: str):
    return (
        alt.Chart(frame)
        .mark_line()
        .encode(
            x=alt.X("value:Q", title=x_title),
            y=alt.Y("density:Q", title="density"),
            color="prior:N",
            tooltip=["prior", alt.Tooltip("value:Q", format=".3f"), alt.Tooltip("density:Q", format=".3f")],
        )
        .properties(height=300)
    )


def survival_chart(frame: pd.DataFrame, time_unit: str):
    """The scenarios' survival curves (colour: scenario; dashes: the control arm)."""
    return (
        alt.Chart(frame)
        .mark_line()
        .encode(
            x=alt.X("time:Q", title=f"time ({time_unit})"),
            y=alt.Y("survival:Q", title="probability of no event yet", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("scenario:N"),
            strokeDash=alt.StrokeDash("arm:N"),
            tooltip=[
                "scenario",
                "arm",
                alt.Tooltip("time:Q", format=".1f"),
                alt.Tooltip("survival:Q", format=".3f"),
            ],
        )
        .properties(height=300)
    )


def survival_over_chart(frame: pd.DataFrame, x: str, y: str, y_title: str):
    """A time-to-event quantity (power, expected analysis time) over events or N, with its 95% MC band."""
    base = alt.Chart(frame).encode(x=alt.X(f"{x}:Q", title=x))
    band = base.mark_area(opacity=0.25).encode(y=alt.Y("low:Q", title=y_title), y2="high:Q")
    line = base.mark_line(point=True).encode(
        y=f"{y}:Q", tooltip=[x, alt.Tooltip(f"{y}:Q", format=".4g"), alt.Tooltip("MCSE:Q", format=".3g")]
    )
    return alt.layer(band, line).properties(height=280)


def overlay_chart(frames: dict[str, pd.DataFrame], metric: str):
    """Several designs' curves over N on one chart (one colour per design), each with its 95% MCSE band."""
    data = (
        pd.concat([f.assign(design=name) for name, f in frames.items()])
        if frames
        else pd.DataFrame(columns=["N", metric, "low", "high", "MCSE", "design"])
    )
    base = alt.Chart(data).encode(x=alt.X("N:Q", title="total participants (N)"), color=alt.Color("design:N"))
    band = base.mark_area(opacity=0.15).encode(
        y=alt.Y("low:Q", title=metric, scale=alt.Scale(domain=[0, 1])), y2="high:Q"
    )
    line = base.mark_line(point=True).encode(
        y=f"{metric}:Q",
        tooltip=[
            "design",
            "N",
            alt.Tooltip(f"{metric}:Q", format=".4f"),
            alt.Tooltip("MCSE:Q", format=".4f"),
        ],
    )
    return alt.layer(band, line).properties(height=320)


ZONE_COLOURS = {"Go": "#2e7d32", "Consider": "#f9a825", "No-Go": "#c62828"}


def zone_chart(frame: pd.DataFrame):
    """Stacked bars: P(Go), P(Consider), P(No-Go) per scenario (planner.tables.zone_table)."""
    long = frame.melt(
        id_vars=["scenario"], value_vars=["P(Go)", "P(Consider)", "P(No-Go)"], var_name="zone", value_name="p"
    )
    long["zone"] = long["zone"].str.slice(2, -1)
    order = list(ZONE_COLOURS)
    long["order"] = long["zone"].map(order.index)
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("scenario:N", sort=list(frame["scenario"]), title=None),
            x=alt.X("p:Q", title="probability of the decision", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "zone:N",
                scale=alt.Scale(domain=order, range=list(ZONE_COLOURS.values())),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            order=alt.Order("order:Q"),
            tooltip=["scenario", "zone", alt.Tooltip("p:Q", format=".4f")],
        )
        .properties(height=max(80, 36 * len(frame)))
    )


def drift_chart(frame: pd.DataFrame, alpha: float, prior_mean: float):
    """Type I error and power over the true control rate (planner.tables.drift_frame, exact), with alpha as a
    dashed rule and the control prior's mean as a dotted one."""
    long = frame.melt(
        id_vars=["true control rate"],
        value_vars=["type I error", "power"],
        var_name="quantity",
        value_name="p",
    ).dropna()
    lines = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("true control rate:Q", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("p:Q", title="probability of success", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("quantity:N", legend=alt.Legend(title=None, orient="bottom")),
            tooltip=["true control rate", "quantity", alt.Tooltip("p:Q", format=".4f")],
        )
    )
    rule = alt.Chart(pd.DataFrame({"alpha": [alpha]})).mark_rule(strokeDash=[6, 3], color="#c62828")
    mean = alt.Chart(pd.DataFrame({"prior mean": [prior_mean]})).mark_rule(strokeDash=[2, 2], color="grey")
    return alt.layer(
        lines, rule.encode(y="alpha:Q"), mean.encode(x="prior mean:Q", tooltip=["prior mean"])
    ).properties(height=280)


def precision_chart(frame: pd.DataFrame, target: float, current_n: int):
    """P(lower limit > threshold) and the expected width over N (planner.precision), the target dashed and the
    design's N in red."""
    long = frame.melt(
        id_vars=["N"],
        value_vars=["P(lower limit > threshold)", "expected width"],
        var_name="quantity",
        value_name="p",
    )
    lines = (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=alt.X("N:Q", title="participants (N)"),
            y=alt.Y("p:Q", title=None, scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("quantity:N", legend=alt.Legend(title=None, orient="bottom")),
        )
    )
    rule = alt.Chart(pd.DataFrame({"target": [target]})).mark_rule(strokeDash=[6, 3]).encode(y="target:Q")
    now = alt.Chart(pd.DataFrame({"N": [current_n]})).mark_rule(color="#c62828").encode(x="N:Q")
    return alt.layer(lines, rule, now).properties(height=280)


def stage_chart(frame: pd.DataFrame):
    """Stacked bars: how the trial ends per scenario (planner.tables.stage_outcome_table), each way in order."""
    ways = [c for c in frame.columns if c.startswith(("efficacy stop, look", "futility stop, look"))]
    ways += ["final success", "final failure"]
    long = frame.melt(id_vars=["scenario"], value_vars=ways, var_name="outcome", value_name="p")
    long["order"] = long["outcome"].map(ways.index)
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("scenario:N", sort=list(frame["scenario"]), title=None),
            x=alt.X("p:Q", title="probability", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "outcome:N", sort=ways, legend=alt.Legend(title=None, orient="bottom", columns=2)
            ),
            order=alt.Order("order:Q"),
            tooltip=["scenario", "outcome", alt.Tooltip("p:Q", format=".4f")],
        )
        .properties(height=max(80, 36 * len(frame)))
    )


def svg(chart, width: int | None = None) -> str:
    """The chart drawn as SVG text (vl-convert, no browser): the report's figures and the app's charts, which
    are images so that the app's first view needs no charting code in the browser. ``width`` in pixels
    (Vega-Lite's default of 300 otherwise)."""
    if width is not None:
        chart = chart.properties(width=width)
    return _svg_of_spec(chart.to_json())


@functools.lru_cache(maxsize=64)
def _svg_of_spec(spec: str) -> str:
    import vl_convert

    return vl_convert.vegalite_to_svg(spec)
