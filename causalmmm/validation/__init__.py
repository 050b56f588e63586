"""Validation of a fitted model: experiments (in-sample and leave-one-out), time hold-out, residual diagnostics, plots."""

from causalmmm.validation.experiments import Z_THRESHOLD, ExperimentCheck, ValidationReport, predict_experiment, validate_experiments, z_score
from causalmmm.validation.holdout import HoldoutResult, NodeHoldout, predict_holdout, time_holdout
from causalmmm.validation.loo import LooCheck, LooResult, leave_one_out
from causalmmm.validation.residuals import Diagnostics, diagnose_residuals

__all__ = [
    "Diagnostics",
    "ExperimentCheck",
    "HoldoutResult",
    "LooCheck",
    "LooResult",
    "NodeHoldout",
    "ValidationReport",
    "Z_THRESHOLD",
    "diagnose_residuals",
    "leave_one_out",
    "predict_experiment",
    "predict_holdout",
    "time_holdout",
    "validate_experiments",
    "z_score",
]
