"""Which analysis rules exist, and for which designs.

This table is the single source for rule names: design validation, the CLI's
help and the rule factories all read it. It imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RuleInfo", "RULES", "rules_for"]


@dataclass(frozen=True)
class RuleInfo:
    """What a rule needs: its endpoint kind, the arm layouts it serves, and whether it is Bayesian."""

    name: str
    endpoints: tuple[str, ...]  # subset of ("binary", "continuous", "count", "time-to-event")
    arms: tuple[str, ...]  # subset of ("single-arm", "randomized")
    bayesian: bool
    summary: str

    @property
    def sequential(self) -> bool:
        """True when the rule has a group sequential version (a z statistic with spending boundaries, or the
        exact count-scale boundaries of exact-binomial)."""
        return self.name in SEQUENTIAL_RULES


SEQUENTIAL_RULES = (
    "exact-binomial",
    "z-score",
    "z-pooled",
    "one-sample-t",
    "t-pooled",
    "nb-wald",
    "logrank",
    "cox",
    "one-sample-logrank",
)

RULES: dict[str, RuleInfo] = {
    r.name: r
    for r in (
        RuleInfo(
            "exact-binomial",
            ("binary",),
            ("single-arm",),
            False,
            "one-sided exact binomial test of the response rate against the performance goal",
        ),
        RuleInfo(
            "z-score",
            ("binary",),
            ("single-arm",),
            False,
            "one-sided one-sample score z test of the response rate against the performance goal",
        ),
        RuleInfo(
            "farrington-manning",
            ("binary",),
            ("randomized",),
            False,
            "one-sided Farrington-Manning score test of p_t - p_c > -margin (non-inferiority by "
            "analysis.margin; margin 0: superiority)",
        ),
        RuleInfo(
            "z-pooled",
            ("binary",),
            ("randomized",),
            False,
            "one-sided two-proportion z test with pooled variance",
        ),
        RuleInfo("fisher", ("binary",), ("randomized",), False, "one-sided Fisher exact (conditional) test"),
        RuleInfo(
            "boschloo",
            ("binary",),
            ("randomized",),
            False,
            "one-sided Boschloo exact unconditional test (Fisher p-value as ordering statistic)",
        ),
        RuleInfo(
            "one-sample-t",
            ("continuous",),
            ("single-arm",),
            False,
            "one-sided one-sample t test of the mean against the performance goal",
        ),
        RuleInfo(
            "t-pooled",
            ("continuous",),
            ("randomized",),
            False,
            "one-sided two-sample t test with pooled variance",
        ),
        RuleInfo(
            "welch",
            ("continuous",),
            ("randomized",),
            False,
            "one-sided Welch t test (unequal variances, Satterthwaite df)",
        ),
        RuleInfo(
            "ancova",
            ("continuous",),
            ("randomized",),
            False,
            "one-sided t test of the treatment effect adjusted for a baseline covariate",
        ),
        RuleInfo(
            "nb-wald",
            ("count",),
            ("randomized",),
            False,
            "one-sided Wald test of the log rate ratio, negative binomial with the design's dispersion",
        ),
        RuleInfo(
            "nb-exact",
            ("count",),
            ("single-arm",),
            False,
            "one-sided exact test of the event total against the goal rate (negative binomial, "
            "design dispersion; exact Poisson test when the dispersion is 0)",
        ),
        RuleInfo(
            "logrank",
            ("time-to-event",),
            ("randomized",),
            False,
            "one-sided log-rank test (benefit: fewer events on treatment, hazard ratio below 1)",
        ),
        RuleInfo(
            "cox",
            ("time-to-event",),
            ("randomized",),
            False,
            "one-sided Wald test of the Cox proportional-hazards log hazard ratio (benefit: hazard ratio below 1)",
        ),
        RuleInfo(
            "one-sample-logrank",
            ("time-to-event",),
            ("single-arm",),
            False,
            "one-sided one-sample log-rank test against a reference distribution with the performance goal as "
            "its median (fewer events than the reference predicts)",
        ),
        RuleInfo(
            "km-landmark",
            ("time-to-event",),
            ("single-arm",),
            False,
            "one-sided test of the Kaplan-Meier survival at the landmark time against the performance goal "
            "(complementary log-log scale, Greenwood variance)",
        ),
        RuleInfo(
            "exponential-posterior",
            ("time-to-event",),
            ("single-arm",),
            True,
            "Bayesian: exponential hazard with a Gamma (mixture) prior; success when P(median time to the event "
            "> performance goal | events, follow-up) exceeds the threshold",
        ),
        RuleInfo(
            "posterior-probability",
            ("binary", "continuous"),
            ("single-arm", "randomized"),
            True,
            "Bayesian: success when P(effect beyond the null | data) exceeds the threshold",
        ),
    )
}


def rules_for(endpoint: str, arms: str) -> list[str]:
    """Names of the rules available for an endpoint kind and arm layout."""
    return [name for name, info in RULES.items() if endpoint in info.endpoints and arms in info.arms]
