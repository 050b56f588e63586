"""The report's first block: what to distrust, ranked by severity, each with its fix.

Sources, merged into one list of :class:`~causalmmm.model_warnings.ModelWarning`:

* the run's own warnings (``summary["warnings"]``; absent in older runs),
* convergence problems read from ``summary["diagnostics"]`` (for runs whose
  summary predates the warnings list, and for nodes it does not cover). These are
  graded from the node diagnostics alone (no ROAS draws: under 100 effective draws
  is medium); a covered node keeps the grade ``fit`` gave it from its channels'
  total-ROAS ESS (docs/concepts.md, *How convergence is graded*),
* every experiment the validation finds inconsistent with the model
  (``|z| > 2`` or ``consistent == False``), and the validation's own warnings.

:func:`conflicting_experiments` is the set the narrative must never praise.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from causalmmm.fmt import num
from causalmmm.model.checks import convergence_warnings
from causalmmm.model_warnings import ModelWarning, from_dicts, ranked

#: |z| above this is an inconsistent experiment (same threshold as causalmmm.validation.experiments).
Z_THRESHOLD = 2.0
#: Summary warning codes that already report a node's convergence (convergence is not derived again for that node).
CONVERGENCE_HINTS = ("converg", "rhat", "r_hat", "diverg", "ess")


def inconsistent(check: Mapping[str, Any]) -> bool:
    """An experiment check (``ExperimentCheck.to_dict()``) that disagrees with the model."""
    z = check.get("z")
    return check.get("consistent") is False or (z is not None and abs(float(z)) > Z_THRESHOLD)


def conflicting_experiments(validation: Mapping[str, Any] | None, warnings: Iterable[ModelWarning]) -> dict[str, str]:
    """Experiment name → a short why (its validation z, else a pointer to the warning)."""
    out: dict[str, str] = {}
    for w in warnings:
        if w.code in ("experiment_conflict", "experiment_inconsistent"):
            out.setdefault(w.where, "see What to distrust")
    for e in (validation or {}).get("experiments", []):
        if inconsistent(e):
            out[e["name"]] = f"z = {float(e['z']):+.1f}"
    return out


def _validation_warning(e: Mapping[str, Any]) -> ModelWarning:
    p = e["predicted"]
    role = "it calibrates the model, yet the fit" if e.get("calibrated") else "the model"
    message = (
        f"measured {num(e['measured'])} ± {num(e['measured_se'])}, but {role} predicts {num(p['mean'])} "
        f"[{num(p['hdi_low'])}, {num(p['hdi_high'])}] (z = {float(e['z']):+.1f})"
    )
    if e.get("calibrated"):
        fix = (
            "check that the experiment's treatment, window, measured nodes and unit match the graph; if they do, a prior or an "
            "edge around its treatment fights it: compare with 'causalmmm validate --loo' and revise the graph before trusting "
            "that channel's number"
        )
    else:
        fix = "the graph or a prior around the experiment's treatment is probably wrong: check its edges, confounders and carry-over, refit, and validate again"
    return ModelWarning("experiment_inconsistent", str(e["name"]), message, fix, "high")


def _convergence_warnings(summary: Mapping[str, Any], covered: set[str]) -> list[ModelWarning]:
    return convergence_warnings([x for x in summary.get("diagnostics", []) if x.get("node", "?") not in covered])


def _as_warning(item: Any) -> ModelWarning:
    if isinstance(item, ModelWarning):
        return item
    if isinstance(item, Mapping):
        return ModelWarning.from_dict(item)
    return ModelWarning("validation", "validation", str(item), "see the experiments section of this report", "medium")


def distrust(summary: Mapping[str, Any], validation: Mapping[str, Any] | None = None) -> list[ModelWarning]:
    """Every warning about a run (and its validation), most severe first, without duplicates."""
    run = from_dicts(summary.get("warnings"))
    covered = {w.where for w in run if any(h in w.code.lower() for h in CONVERGENCE_HINTS)}
    found: list[ModelWarning] = [*run, *_convergence_warnings(summary, covered)]
    conflict_warned = {w.where for w in run if w.code == "experiment_conflict"}
    for e in (validation or {}).get("experiments", []):
        if inconsistent(e) and e["name"] not in conflict_warned:
            found.append(_validation_warning(e))
    found += [_as_warning(w) for w in (validation or {}).get("warnings", [])]
    unique: dict[tuple[str, str, str], ModelWarning] = {}
    for w in found:
        unique.setdefault((w.code, w.where, w.message), w)
    return ranked(unique.values())


def distrust_sentence(w: ModelWarning) -> str:
    """``high · where: message. Fix: fix.``"""
    return f"{w.severity} · {w.where}: {w.message.rstrip('.')}. Fix: {w.fix.rstrip('.')}."


NOTHING_TO_DISTRUST = (
    "Nothing flagged: no convergence problem, no experiment that conflicts with the model and no other warning (the graph's assumptions still apply)."
)

#: The first block's sentence when every warning is low severity (those are listed as notes below it).
ONLY_NOTES = "Nothing flagged at high or medium severity; the notes below concern precision, not whether an estimate can be trusted."

#: Severities that put an estimate in doubt; low ones are notes.
DOUBT_SEVERITIES = ("high", "medium")

__all__ = ["DOUBT_SEVERITIES", "NOTHING_TO_DISTRUST", "ONLY_NOTES", "conflicting_experiments", "distrust", "distrust_sentence", "inconsistent"]
