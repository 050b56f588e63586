"""Predicted vs measured per experiment, with z-scores.

For each experiment the model predicts exactly its estimand (same intervention, window,
measured nodes and unit) with the calibration contrast, per posterior draw.
``z = (measured − predicted mean) / sqrt(se² + var_pred)``; ``|z| < 2`` is *consistent*.
Experiments used for calibration are labelled: agreement with them is expected and proves
little. Holdouts are the test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from causalmmm.experiments.schema import Experiment
from causalmmm.fmt import interval, num
from causalmmm.model.calibration import check_calibratable, contrast
from causalmmm.model_warnings import ranked, to_dicts
from causalmmm.query.do import PosteriorSCM, Summary

if TYPE_CHECKING:
    from causalmmm.validation.holdout import HoldoutResult
    from causalmmm.validation.loo import LooResult
    from causalmmm.validation.residuals import Diagnostics

Z_THRESHOLD = 2.0


def finite_draws(draws: np.ndarray) -> tuple[np.ndarray, int]:
    """The finite draws and how many were dropped (a diverged fit can yield NaN or inf parameters)."""
    draws = np.asarray(draws, dtype=float)
    ok = np.isfinite(draws)
    return draws[ok], int((~ok).sum())


def z_score(measured: float, se: float, draws: np.ndarray) -> float:
    """``(measured − mean) / sqrt(se² + var(draws))``: the measurement error and the model's uncertainty combined."""
    draws = np.asarray(draws, dtype=float)
    return float((measured - draws.mean()) / np.sqrt(se**2 + draws.var()))


@dataclass
class ExperimentCheck:
    """One experiment: measured ± se against the model's prediction of the same estimand."""

    name: str
    use: str
    calibrated: bool
    measured: float
    measured_se: float
    predicted: Summary
    predicted_sd: float
    z: float

    @property
    def consistent(self) -> bool:
        return abs(self.z) < Z_THRESHOLD

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "use": self.use,
            "calibrated": self.calibrated,
            "measured": self.measured,
            "measured_se": self.measured_se,
            "predicted": self.predicted.to_dict(),
            "predicted_sd": self.predicted_sd,
            "z": self.z,
            "consistent": self.consistent,
        }


@dataclass
class ValidationReport:
    """Experiment checks, plus the optional leave-one-out, time hold-out and residual diagnostics."""

    checks: list[ExperimentCheck]
    skipped: list[str]
    loo: LooResult | None = None
    holdout: HoldoutResult | None = None
    diagnostics: Diagnostics | None = None
    conflicts: Any = None  # ConflictReport: the calibrating experiments against the model without them
    refutations: Any = None  # RefutationReport (validate --refute)
    warnings: list = field(default_factory=list)  # ModelWarning items: what to distrust, most severe first

    def to_dict(self) -> dict[str, Any]:
        holdouts = [c for c in self.checks if not c.calibrated]
        out: dict[str, Any] = {
            "experiments": [c.to_dict() for c in self.checks],
            "summary": {
                "n": len(self.checks),
                "n_consistent": sum(c.consistent for c in self.checks),
                "n_holdout": len(holdouts),
                "n_holdout_consistent": sum(c.consistent for c in holdouts),
                "mean_abs_z_holdout": float(np.mean([abs(c.z) for c in holdouts])) if holdouts else None,
            },
            "skipped": self.skipped,
            "warnings": to_dicts(self.warnings),
        }
        for key in ("conflicts", "loo", "holdout", "diagnostics", "refutations"):
            part = getattr(self, key)
            if part is not None:
                out[key] = part.to_dict()
        return out

    def to_text(self) -> str:
        lines = ["experiment                    use          measured ± se          predicted [94% HDI]                 z     verdict"]
        for c in self.checks:
            label = "calibrating" if c.calibrated else c.use
            p = c.predicted
            lines.append(
                f"{c.name:<29} {label:<12} {num(c.measured):>10} ± {num(c.measured_se):<9} {num(p.mean):>10} {interval(p.hdi_low, p.hdi_high):<24}"
                f"  {c.z:+6.2f}  {'consistent' if c.consistent else 'INCONSISTENT'}"
            )
        s = self.to_dict()["summary"]
        lines.append(
            f"{s['n_consistent']}/{s['n']} consistent; holdouts {s['n_holdout_consistent']}/{s['n_holdout']} "
            "(agreement with calibrating experiments is expected and proves little)"
        )
        lines += [f"skipped: {m}" for m in self.skipped]
        for part in (self.conflicts, self.loo, self.holdout, self.diagnostics, self.refutations):
            if part is not None:
                lines += ["", part.to_text()]
        if self.warnings:
            lines += ["", f"{len(self.warnings)} warning(s):"] + [f"  {w.severity:<6} {w.to_text()}" for w in ranked(self.warnings)]
        return "\n".join(lines)


def predict_experiment(scm: PosteriorSCM, e: Experiment) -> np.ndarray:
    """The model's draws of the experiment's estimand (the calibration contrast, vectorised)."""
    check_calibratable(scm.spec, e)
    mask = scm.window(str(e.start.date()), str(e.end.date()))
    S, T = scm.n_draws, scm.spec.n_periods
    fact = {k: np.broadcast_to(v, (S, T)) for k, v in scm.series.items()}
    return np.broadcast_to(np.asarray(contrast(scm.spec, scm.node_params, fact, e, mask, scm.features, np), dtype=float), (S,))


def validate_experiments(scm: PosteriorSCM, experiments: Sequence[Experiment], calibrated: Iterable[str] = ()) -> ValidationReport:
    """Predicted vs measured for every experiment that has a result."""
    cal = set(calibrated)
    checks, skipped = [], []
    for e in experiments:
        if not e.has_result:
            skipped.append(f"{e.name}: no estimate yet (analyse its raw data first)")
            continue
        assert e.estimate is not None and e.se is not None  # has_result
        draws, dropped = finite_draws(predict_experiment(scm, e))
        if draws.size == 0:
            skipped.append(f"{e.name}: the model's prediction is not finite in any draw (check the fit's diagnostics)")
            continue
        if dropped:
            skipped.append(f"{e.name}: {dropped} non-finite predicted draws ignored")
        checks.append(
            ExperimentCheck(
                e.name,
                e.use,
                e.name in cal,
                float(e.estimate),
                float(e.se),
                Summary.of(draws),
                float(draws.std()),
                z_score(float(e.estimate), float(e.se), draws),
            )
        )
    return ValidationReport(checks, skipped)
