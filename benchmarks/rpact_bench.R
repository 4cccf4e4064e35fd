# rpact's simulation of the designs of bench_engine.py (fixed) and bench_sequential.py (3 looks), timed warm.
# Usage: Rscript rpact_bench.R fixed|sequential|survival ITERATIONS SEED ROUNDS
# Each design is simulated once untimed (the warm-up), then ROUNDS times, each timed inside R (R's start-up is
# excluded). Prints one line per design:
#   name | elapsed seconds of each round | overall rejection per scenario | expected number of subjects
suppressPackageStartupMessages(library(rpact))
args <- commandArgs(trailingOnly = TRUE)
set <- args[1]
iterations <- as.integer(args[2])
seed <- as.integer(args[3])
rounds <- as.integer(args[4])

report <- function(name, simulate) {
  result <- simulate()  # warm-up, untimed
  elapsed <- numeric(rounds)
  for (i in seq_len(rounds)) elapsed[i] <- system.time(result <- simulate())[["elapsed"]]
  cat(name, "|", format(elapsed, digits = 6), "|", format(result$overallReject, digits = 10), "|",
      format(result$expectedNumberOfSubjects, digits = 10), "\n")
}

if (set == "fixed") {
  design <- getDesignGroupSequential(kMax = 1, alpha = 0.025, sided = 1)
  # two-arm continuous: N = 100 (1:1), sd 1; null and delta = 0.5; t test, and the normal approximation (z)
  for (approx in c(FALSE, TRUE)) {
    report(if (approx) "continuous_two_arm_z" else "continuous_two_arm_t", function()
      getSimulationMeans(design, groups = 2, alternative = c(0, 0.5), stDev = 1, plannedSubjects = 100,
                         normalApproximation = approx, maxNumberOfIterations = iterations, seed = seed))
  }
  # two-arm binary: N = 100 (1:1), Fisher's exact test; pi2 = 0.3, pi1 = 0.3 (null) and 0.6
  report("binary_two_arm", function()
    getSimulationRates(design, groups = 2, pi1 = c(0.3, 0.6), pi2 = 0.3, plannedSubjects = 100,
                       normalApproximation = FALSE, maxNumberOfIterations = iterations, seed = seed))
  # single-arm binary: N = 50, exact binomial test against 0.5; pi = 0.5 (null) and 0.75
  report("binary_single_arm", function()
    getSimulationRates(design, groups = 1, pi1 = c(0.5, 0.75), thetaH0 = 0.5, plannedSubjects = 50,
                       normalApproximation = FALSE, maxNumberOfIterations = iterations, seed = seed))
} else if (set == "survival") {
  # bench_survival.py: two arms, N = 220 (1:1) entering evenly over 12 months, control median 12 months
  # (exponential), hazard ratio 1 and 0.6, log-rank test at the 121st event; benefit is HR < 1. The last
  # column is the mean analysis time (months) instead of the expected number of subjects.
  design <- getDesignGroupSequential(kMax = 1, alpha = 0.025, sided = 1)
  result <- NULL
  simulate <- function() getSimulationSurvival(design, hazardRatio = c(1, 0.6), lambda2 = log(2) / 12,
    accrualTime = c(0, 12), plannedEvents = 121, maxNumberOfSubjects = 220, directionUpper = FALSE,
    maxNumberOfIterations = iterations, seed = seed)
  result <- simulate()
  elapsed <- numeric(rounds)
  for (i in seq_len(rounds)) elapsed[i] <- system.time(result <- simulate())[["elapsed"]]
  cat("survival_logrank", "|", format(elapsed, digits = 6), "|", format(result$overallReject, digits = 10), "|",
      format(result$analysisTime[1, ], digits = 10), "\n")
} else {
  for (td in c("asOF", "asP")) {
    design <- getDesignGroupSequential(kMax = 3, alpha = 0.025, sided = 1, typeOfDesign = td)
    # two-arm continuous: 50, 100, 150 participants (1:1) at the looks, sd 1; delta 0 and 0.5.
    # normalApproximation = FALSE: stage-wise t statistics combined with weights sqrt(n_k) (rpact's t);
    # TRUE: the z statistic with known sd.
    for (approx in c(FALSE, TRUE)) {
      report(paste0("continuous_", td, if (approx) "_z" else "_t"), function()
        getSimulationMeans(design, groups = 2, alternative = c(0, 0.5), stDev = 1, plannedSubjects = c(50, 100, 150),
                           normalApproximation = approx, maxNumberOfIterations = iterations, seed = seed))
    }
    # two-arm binary: pooled z test; pi2 = 0.3, pi1 = 0.3 and 0.6
    report(paste0("binary_", td), function()
      getSimulationRates(design, groups = 2, pi1 = c(0.3, 0.6), pi2 = 0.3, plannedSubjects = c(50, 100, 150),
                         normalApproximation = TRUE, maxNumberOfIterations = iterations, seed = seed))
  }
}
