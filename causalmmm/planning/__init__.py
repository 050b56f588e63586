"""Planning the next experiment: candidates, their noise, a preposterior analysis over the posterior draws,
and spend-jitter schedules. ``FittedModel.plan`` and ``causalmmm plan`` call :func:`plan`."""

from causalmmm.planning.candidates import Candidate, default_candidates, load_candidates
from causalmmm.planning.jitter import jitter_frame, write_jitter
from causalmmm.planning.plan import SCORE_RULE, Evaluation, PlanReport, plan
from causalmmm.planning.preposterior import Preposterior, closed_form_sd, importance_weights

__all__ = [
    "SCORE_RULE",
    "Candidate",
    "Evaluation",
    "PlanReport",
    "Preposterior",
    "closed_form_sd",
    "default_candidates",
    "importance_weights",
    "jitter_frame",
    "load_candidates",
    "plan",
    "write_jitter",
]
