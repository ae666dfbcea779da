# Reference values for tests/synergy/test_synergy_sf_paths.py: SynergyFinder 3.7.3 + drc 3.0-1.
#
# Produced with R 4.2.2 (Debian bookworm, reference BLAS 3.11), drc 3.0-1 (cran/drc
# "version 3.0-1") and the R sources of SynergyFinder 3.7.3 (github shuyuzheng/synergyfinder
# commit ea2d246, DESCRIPTION Version 3.7.3). With these, block 1 of
# mathews_screening_data reproduces shared/.../synergyfinder_mathews_synergy_scores_noise_false.csv
# to the last printed digit.
#
#   Rscript synergyfinder_reference.R <synergyfinder>/R <input.csv> <output prefix>
#
# Every block is run on its own (a block on which SynergyFinder stops with an R error
# is recorded in <prefix>_errors.csv instead of stopping the others). Outputs, numbers
# printed with 17 significant digits:
#   <prefix>_scores.csv  per cell: ZIP_fit/ref/synergy, HSA, Bliss, Loewe ref/synergy
#   <prefix>_summary.csv per block: mean synergy over combination cells, p-values
#   <prefix>_fits.csv    every drc fit SynergyFinder makes: the two single agents
#                        (FitDoseResponse on ExtractSingleDrug) and ZIP's refits (one per
#                        dose of the other drug, Emin fixed at the response at dose 0):
#                        model (LL.4 / L.4 / error) and b, c, d, e
suppressPackageStartupMessages({
  library(drc); library(dplyr); library(magrittr)
})
args <- commandArgs(trailingOnly = TRUE)
for (f in c("fit_dose_response_model.R", "Reshape_data.R", "calculate_synergy_score.R"))
  source(file.path(args[1], f))
d <- read.csv(args[2], stringsAsFactors = FALSE)
fmt <- function(df) {
  for (k in names(df)) if (is.double(df[[k]])) df[[k]] <- sprintf("%.17g", df[[k]])
  df
}
scores <- NULL; summary <- NULL; fits <- NULL; errors <- NULL
fit_row <- function(b, kind, along, other, x, emin) {
  m <- tryCatch(suppressWarnings(FitDoseResponse(x, Emin = emin, Emax = NA)),
                error = function(e) NULL)
  if (is.null(m) || !methods::is(m, "drc"))
    return(data.frame(block_id = b, kind = kind, along = along, other = other,
                      model = "error", b = NA, c = NA, d = NA, e = NA))
  p <- FindModelPar(m)
  data.frame(block_id = b, kind = kind, along = along, other = other,
             model = as.character(FindModelType(m)), b = p[[1]], c = p[[2]],
             d = p[[3]], e = p[[4]])
}
for (b in unique(d$block_id)) {
  data <- suppressWarnings(ReshapeData(d[d$block_id == b, ], data_type = "viability",
                                       impute = TRUE, noise = FALSE))
  res <- tryCatch(
    suppressMessages(suppressWarnings(CalculateSynergy(
      data, method = c("ZIP", "HSA", "Bliss", "Loewe"), Emin = NA, Emax = NA,
      correct_baseline = "non"))),
    error = function(e) e)
  if (inherits(res, "error")) {
    errors <- rbind(errors, data.frame(block_id = b, message = conditionMessage(res)))
  } else {
    scores <- rbind(scores, as.data.frame(res$synergy_scores))
    summary <- rbind(summary, as.data.frame(res$drug_pairs))
  }
  r <- data$response %>% select(conc1, conc2, response)
  single <- ExtractSingleDrug(r)
  for (k in names(single)) fits <- rbind(fits, fit_row(b, "single", k, 0, single[[k]], NA))
  for (conc in c("conc1", "conc2")) {
    other <- setdiff(c("conc1", "conc2"), conc)
    for (v in unique(r[[other]])) {
      x <- r[r[[other]] == v, ]
      x <- data.frame(dose = x[[conc]], response = x$response)
      fits <- rbind(fits, fit_row(b, "refit", conc, v, x, x$response[which(x$dose == 0)]))
    }
  }
}
write.csv(fmt(scores), paste0(args[3], "_scores.csv"), row.names = FALSE)
write.csv(fmt(summary), paste0(args[3], "_summary.csv"), row.names = FALSE)
write.csv(fmt(fits), paste0(args[3], "_fits.csv"), row.names = FALSE)
if (!is.null(errors)) write.csv(errors, paste0(args[3], "_errors.csv"), row.names = FALSE)
