"""Validate a fitted model against experiments (kept for compatibility: the code lives in :mod:`causalmmm.validation`)."""

from causalmmm.validation import (  # noqa: F401
    Z_THRESHOLD,
    Diagnostics,
    ExperimentCheck,
    HoldoutResult,
    LooResult,
    ValidationReport,
    diagnose_residuals,
    leave_one_out,
    predict_experiment,
    predict_holdout,
    time_holdout,
    validate_experiments,
    z_score,
)
from causalmmm.validation.plots import plot_experiments, plot_holdout  # noqa: F401
