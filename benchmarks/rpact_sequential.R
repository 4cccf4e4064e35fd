# rpact's simulation of the 3-look group sequential designs of bench_sequential.py, timed.
# Usage: Rscript rpact_sequential.R ITERATIONS SEED
# Prints per design: name, elapsed seconds, overall rejection per scenario, expected N per scenario.
suppressPackageStartupMessages(library(rpact))
args <- commandArgs(trailingOnly = TRUE)
iterations <- as.integer(args[1])
seed <- as.integer(args[2])
report <- function(name, expr) {
  elapsed <- system.time(result <- expr)[["elapsed"]]
  cat(name, elapsed, "|", format(result$overallReject, digits = 10), "|",
      format(result$expectedNumberOfSubjects, digits = 10), "\n")
}
for (td in c("asOF", "asP")) {
  design <- getDesignGroupSequential(kMax = 3, alpha = 0.025, sided = 1, typeOfDesign = td)
  # two-arm continuous: 50, 100, 150 participants (1:1) at the looks, sd 1, t test; delta 0 and 0.5
  report(paste0("continuous_", td), getSimulationMeans(design, groups = 2, alternative = c(0, 0.5), stDev = 1,
    plannedSubjects = c(50, 100, 150), normalApproximation = FALSE, maxNumberOfIterations = iterations,
    seed = seed))
  # two-arm binary: pooled z test; pi2 = 0.3, pi1 = 0.3 and 0.6
  report(paste0("binary_", td), getSimulationRates(design, groups = 2, pi1 = c(0.3, 0.6), pi2 = 0.3,
    plannedSubjects = c(50, 100, 150), normalApproximation = TRUE, maxNumberOfIterations = iterations,
    seed = seed))
}
