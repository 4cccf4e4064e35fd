# rpact's simulation of the same fixed (one-look) designs as bench_engine.py, timed.
# Usage: Rscript rpact_fixed.R ITERATIONS SEED
# Prints one line per design: name, elapsed seconds, and the rejection probability per scenario.
suppressPackageStartupMessages(library(rpact))
args <- commandArgs(trailingOnly = TRUE)
iterations <- as.integer(args[1])
seed <- as.integer(args[2])
design <- getDesignGroupSequential(kMax = 1, alpha = 0.025, sided = 1)

report <- function(name, expr) {
  elapsed <- system.time(result <- expr)[["elapsed"]]
  cat(name, elapsed, paste(format(result$overallReject, digits = 10), collapse = " "), "\n")
}

# two-arm continuous: N = 100 (1:1), sd 1, pooled t test; null and delta = 0.5
report("continuous_two_arm", getSimulationMeans(design, groups = 2, alternative = c(0, 0.5), stDev = 1,
  plannedSubjects = 100, normalApproximation = FALSE, maxNumberOfIterations = iterations, seed = seed))
# two-arm binary: N = 100 (1:1), Fisher's exact test; pi2 = 0.3, pi1 = 0.3 (null) and 0.6
report("binary_two_arm", getSimulationRates(design, groups = 2, pi1 = c(0.3, 0.6), pi2 = 0.3,
  plannedSubjects = 100, normalApproximation = FALSE, maxNumberOfIterations = iterations, seed = seed))
# single-arm binary: N = 50, exact binomial test against 0.5; pi = 0.5 (null) and 0.75
report("binary_single_arm", getSimulationRates(design, groups = 1, pi1 = c(0.5, 0.75), thetaH0 = 0.5,
  plannedSubjects = 50, normalApproximation = FALSE, maxNumberOfIterations = iterations, seed = seed))
