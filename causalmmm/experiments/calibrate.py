"""Calibration lives in the model layer (:mod:`causalmmm.model.calibration`); re-exported here."""

from causalmmm.model.calibration import add_calibration_terms, calibration_ties, check_calibratable, contrast, intervention_of, involved_nodes

__all__ = ["add_calibration_terms", "calibration_ties", "check_calibratable", "contrast", "intervention_of", "involved_nodes"]
