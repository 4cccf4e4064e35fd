"""The planner's simulation defaults and limits, in one place (the design's [simulation] section uses them;
imported by the CLI without the design layer, to keep `planner --help` fast)."""

MIN_SIMS = 100
MAX_SIMS = 1_000_000_000
DEFAULT_N_SIMS = 100_000
DEFAULT_SEED = 20261123  # the one seed literal: every default seed of the planner is this one
MAX_SEED = 2**63 - 1
