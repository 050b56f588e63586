"""Experiment–data conflicts: does a calibrating experiment agree with the rest of the model?

A calibrated fit reproduces its experiments almost by construction, so agreement proves little.
The question that matters is whether the model *without* experiment e (the data plus the other
experiments) predicts what e measured. An exact answer refits without e (``causalmmm validate
--loo``, :mod:`causalmmm.validation.loo`); this module answers from the draws of the one fit.

Method: leave-one-out by Pareto-smoothed importance sampling (PSIS-LOO, Vehtari, Gelman &
Gabry 2017). Calibration adds one likelihood term per experiment, ``estimate ~ N(implied(θ), se)``
(or Student-t), and the fit stores ``experiment|NAME|implied`` per draw. Removing that term from
the posterior is an importance reweighting of the draws with

    log w_s = −log p(estimate | implied_s, se),

smoothed by :func:`arviz.psislw`. The weighted mean and sd of ``implied`` are the experiment-free
predictive of the contrast; ``z_loo = (measured − mean) / sqrt(se² + sd²)``. The in-sample
residual of the calibrated fit is ``z_in = (measured − mean(implied)) / sqrt(se² + var(implied))``.

Pareto k̂ says whether the reweighting can be trusted: above :data:`K_HAT_MAX` (0.7) the
experiment moved the posterior further than its draws can reach. Then ``z_loo`` is biased
toward agreement (the heaviest weights sit on the draws nearest the experiment-free posterior,
but none lies far enough), so a large ``|z_loo|`` still counts while a small one does not clear
the experiment: the in-sample z decides, and the row recommends the exact refit.

Thresholds: a conflict is ``|z_loo| > 2.5`` or ``|z_in| > 2``.
- Under a correct model ``z_loo`` is standard normal: |z| > 2.5 is a 1.2% false alarm per
  experiment (about 5% for four experiments together), and a true disagreement of 3.5 combined
  sds is caught 84% of the time. A 2.0 cut would raise a false alarm on about one fit in six with
  four experiments; 3.0 would miss half the disagreements of 3 sds.
- The calibrated fit is pulled toward the measurement, so ``z_in`` is shrunk: in the conjugate
  normal case ``z_in = z_loo · sqrt((1 − k)/(1 + k))`` with ``k`` the share of the experiment-free
  variance in the total (``k = s²/(s² + se²)``). ``|z_in| > 2`` (the consistency cut of
  :mod:`causalmmm.validation.experiments`) therefore only fires when the disagreement is larger
  still; it is the safety net when k̂ makes the LOO estimate unreliable.
"""

from __future__ import annotations

import math
import warnings as _warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
from scipy import stats

from causalmmm.experiments.schema import Experiment
from causalmmm.fmt import num, signed
from causalmmm.model.equations import experiment_implied
from causalmmm.model_warnings import ModelWarning

#: |z_loo| above this is a conflict.
Z_LOO_THRESHOLD = 2.5
#: |z_in_sample| above this is a conflict (the fit cannot even match its own calibration target).
Z_IN_SAMPLE_THRESHOLD = 2.0
#: Pareto k̂ above this: the importance-sampling LOO is unreliable (Vehtari et al. 2017).
K_HAT_MAX = 0.7
#: Student-t degrees of freedom used by the calibration likelihood (experiments/calibrate.py).
STUDENT_T_NU = 4.0

METHOD_PSIS = "psis-loo"
METHOD_UNRELIABLE = "psis-loo (k̂ > 0.7: in-sample z decides)"

LIKELY_CAUSES = (
    "check, in this order: "
    "(1) the graph: a missing confounder, edge or mediator on the tested path, or a wrong sign; "
    "(2) the experiment's window and units: its dates, per_period vs total, the measured node, spend in the data's units; "
    "(3) a confounded mechanism: a latent parent of the tested path that the data cannot separate from the channel "
    "(observe it, add a proxy, or calibrate that mechanism with another experiment); "
    "(4) the experiment itself: its analysis, its se, spill-over or a short window. "
    "`causalmmm validate --loo` refits without the experiment exactly"
)


def implied_key(name: str) -> str:
    """The posterior variable holding experiment ``name``'s model-implied contrast."""
    return experiment_implied(name)


@dataclass(frozen=True)
class ConflictRow:
    """One calibrating experiment: measured vs the model without it, and vs the calibrated fit."""

    name: str
    measured: float
    se: float
    loo_mean: float
    loo_sd: float
    z_loo: float
    k_hat: float
    implied_mean: float
    implied_sd: float
    z_in_sample: float
    method: str
    note: str | None = None

    @property
    def reliable(self) -> bool:
        return self.k_hat <= K_HAT_MAX

    @property
    def conflict(self) -> bool:
        return abs(self.z_loo) > Z_LOO_THRESHOLD or abs(self.z_in_sample) > Z_IN_SAMPLE_THRESHOLD

    @property
    def predicted_loo(self) -> dict[str, float]:
        return {"mean": self.loo_mean, "sd": self.loo_sd}

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "measured": self.measured,
            "se": self.se,
            "predicted_loo": self.predicted_loo,
            "z_loo": self.z_loo,
            "k_hat": self.k_hat,
            "implied": {"mean": self.implied_mean, "sd": self.implied_sd},
            "z_in_sample": self.z_in_sample,
            "conflict": self.conflict,
            "method": self.method,
            "note": self.note,
        }

    def warning(self) -> ModelWarning:
        parts = [
            f"calibrating experiment {self.name!r} measured {num(self.measured)} ± {num(self.se)}, "
            f"but the model without it predicts {num(self.loo_mean)} ± {num(self.loo_sd)} "
            f"(z = {signed(self.z_loo, 2)}, PSIS-LOO k̂ = {num(self.k_hat, 2)})",
            f"the calibrated fit implies {num(self.implied_mean)} ± {num(self.implied_sd)} (z = {signed(self.z_in_sample, 2)})",
        ]
        if not self.reliable:
            parts.append("the leave-one-out approximation is unreliable here, so the in-sample z decides")
        return ModelWarning(code="experiment_conflict", where=self.name, message="; ".join(parts), fix=LIKELY_CAUSES, severity="high")


@dataclass
class ConflictReport:
    """Conflict rows per calibrating experiment, plus what was skipped and why."""

    rows: list[ConflictRow]
    skipped: list[str] = field(default_factory=list)

    @property
    def conflicts(self) -> list[ConflictRow]:
        return [r for r in self.rows if r.conflict]

    def warnings(self) -> list[ModelWarning]:
        """One ``experiment_conflict`` warning (severity high) per conflicting experiment."""
        return [r.warning() for r in self.conflicts]

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiments": [r.to_dict() for r in self.rows],
            "skipped": self.skipped,
            "thresholds": {"z_loo": Z_LOO_THRESHOLD, "z_in_sample": Z_IN_SAMPLE_THRESHOLD, "k_hat": K_HAT_MAX},
            "n_conflicts": len(self.conflicts),
        }

    def to_text(self) -> str:
        lines = [
            "experiment conflicts (PSIS leave-one-out: the model without each calibrating experiment, predicting it)",
            f"{'experiment':<28} {'measured ± se':>22} {'without it ± sd':>22} {'z_loo':>7} {'k̂':>5} {'z_in':>7}  verdict",
        ]
        for r in self.rows:
            verdict = "CONFLICT" if r.conflict else "ok"
            if r.note:
                verdict += f" ({r.note})"
            lines.append(
                f"{r.name:<28} {num(r.measured) + ' ± ' + num(r.se):>22} {num(r.loo_mean) + ' ± ' + num(r.loo_sd):>22} "
                f"{signed(r.z_loo, 2):>7} {num(r.k_hat, 2):>5} {signed(r.z_in_sample, 2):>7}  {verdict}"
            )
        lines += [f"skipped: {s}" for s in self.skipped]
        return "\n".join(lines)


def _log_likelihood(e: Experiment, implied: np.ndarray) -> np.ndarray:
    """log p(estimate | implied, se) of the calibration term, per draw."""
    assert e.estimate is not None and e.se is not None  # only experiments with a result are checked
    if e.likelihood == "student_t":
        return stats.t.logpdf(float(e.estimate), df=STUDENT_T_NU, loc=implied, scale=float(e.se))
    return stats.norm.logpdf(float(e.estimate), loc=implied, scale=float(e.se))


def _psis_weights(log_ratios: np.ndarray) -> tuple[np.ndarray, float]:
    """Normalised PSIS weights and Pareto k̂ (arviz's smoothing)."""
    import arviz as az

    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")  # arviz warns on k̂ > 0.7; we report k̂ ourselves
        lw, k_hat = az.psislw(np.asarray(log_ratios, dtype=float), reff=1.0)
    lw = np.asarray(lw, dtype=float)
    w = np.exp(lw - lw.max())
    return w / w.sum(), float(np.asarray(k_hat))


def conflict_row(e: Experiment, implied: np.ndarray) -> ConflictRow:
    """The conflict check for one calibrating experiment from its implied-contrast draws (finite, 1-D)."""
    assert e.estimate is not None and e.se is not None  # only experiments with a result are checked
    measured, se = float(e.estimate), float(e.se)
    w, k_hat = _psis_weights(-_log_likelihood(e, implied))
    loo_mean = float(np.sum(w * implied))
    loo_sd = float(np.sqrt(np.sum(w * (implied - loo_mean) ** 2)))
    z_loo = (measured - loo_mean) / math.sqrt(se**2 + loo_sd**2)
    implied_mean, implied_sd = float(implied.mean()), float(implied.std())
    z_in = (measured - implied_mean) / math.sqrt(se**2 + implied_sd**2)
    reliable = k_hat <= K_HAT_MAX
    note = None if reliable else (f"k̂ = {num(k_hat, 2)} > {K_HAT_MAX}: the approximation is unreliable; run `causalmmm validate --loo` for exact refits")
    return ConflictRow(
        name=e.name,
        measured=measured,
        se=se,
        loo_mean=loo_mean,
        loo_sd=loo_sd,
        z_loo=float(z_loo),
        k_hat=k_hat,
        implied_mean=implied_mean,
        implied_sd=implied_sd,
        z_in_sample=float(z_in),
        method=METHOD_PSIS if reliable else METHOD_UNRELIABLE,
        note=note,
    )


def experiment_conflicts(draws: Mapping[str, np.ndarray], experiments: Sequence[Experiment]) -> ConflictReport:
    """Check every calibrating experiment with a result against the model without it.

    ``draws``: posterior draws by name (``FitResult.posterior_draws()`` or ``Run.posterior_draws()``);
    experiment e's contrast is read from ``experiment|NAME|implied``. Holdout experiments are not
    checked here (``validate`` compares them with the model directly).
    """
    rows: list[ConflictRow] = []
    skipped: list[str] = []
    for e in experiments:
        if e.use != "calibrate":
            continue
        if not e.has_result:
            skipped.append(f"{e.name}: no estimate yet")
            continue
        key = implied_key(e.name)
        if key not in draws:
            skipped.append(f"{e.name}: the fit has no {key!r} (was it fitted with this experiment?)")
            continue
        implied = np.asarray(draws[key], dtype=float).reshape(-1)
        finite = implied[np.isfinite(implied)]
        if finite.size < 20:
            skipped.append(f"{e.name}: only {finite.size} finite draws of its implied contrast")
            continue
        rows.append(conflict_row(e, finite))
    return ConflictReport(rows, skipped)
