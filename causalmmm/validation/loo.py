"""Leave-one-experiment-out: refit without calibrating experiment k, then predict k.

An experiment the model was calibrated on is matched almost by construction. Refitting
without it and predicting it turns every calibrating experiment into a holdout: the
out-of-sample z says whether the rest of the model (data plus the other experiments)
agrees with it. Refits are independent: :func:`causalmmm.distributed.run_tasks` runs them on an
embedded dask cluster (``jobs`` workers), on an existing scheduler (``cluster``), or serially.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from causalmmm.data import Dataset
from causalmmm.distributed import cluster_requested, run_tasks
from causalmmm.errors import ExperimentError
from causalmmm.experiments.schema import Experiment
from causalmmm.fmt import interval, num
from causalmmm.query.do import PosteriorSCM, Summary
from causalmmm.spec import ModelSpec
from causalmmm.validation.experiments import Z_THRESHOLD, finite_draws, predict_experiment, z_score

#: progress(done, total, name) after each refit
Progress = Callable[[int, int, str], None]


@dataclass
class LooCheck:
    """Calibrating experiment k predicted by the model refitted without k."""

    name: str
    measured: float
    measured_se: float
    predicted: Summary | None
    predicted_sd: float | None
    z: float | None  # None when the refit gave no finite prediction
    in_sample_z: float | None = None
    note: str | None = None

    @property
    def consistent(self) -> bool:
        return self.z is not None and abs(self.z) < Z_THRESHOLD

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "measured": self.measured,
            "measured_se": self.measured_se,
            "predicted": self.predicted.to_dict() if self.predicted is not None else None,
            "predicted_sd": self.predicted_sd,
            "z": self.z,
            "consistent": self.consistent,
            "in_sample_z": self.in_sample_z,
            "note": self.note,
        }


@dataclass
class LooResult:
    """Leave-one-experiment-out checks, one per calibrating experiment."""

    checks: list[LooCheck]

    def to_dict(self) -> dict[str, Any]:
        return {"experiments": [c.to_dict() for c in self.checks], "summary": {"n": len(self.checks), "n_consistent": sum(c.consistent for c in self.checks)}}

    def to_text(self) -> str:
        lines = [
            "leave-one-experiment-out (refit without the experiment, then predict it)",
            "experiment                     measured ± se          predicted [94% HDI]                 z   in-sample z  verdict",
        ]
        for c in self.checks:
            p = c.predicted
            ins = "-" if c.in_sample_z is None else f"{c.in_sample_z:+.2f}"
            if p is None or c.z is None:
                lines.append(f"{c.name:<29} {num(c.measured):>10} ± {num(c.measured_se):<9} no prediction: {c.note}")
                continue
            lines.append(
                f"{c.name:<29} {num(c.measured):>10} ± {num(c.measured_se):<9} {num(p.mean):>10} {interval(p.hdi_low, p.hdi_high):<24}"
                f"  {c.z:+6.2f}  {ins:>10}  {'consistent' if c.consistent else 'INCONSISTENT'}"
            )
        s = self.to_dict()["summary"]
        lines.append(f"{s['n_consistent']}/{s['n']} calibrating experiments consistent when left out")
        return "\n".join(lines)


def refit_and_predict(
    spec: ModelSpec, data: Dataset, config: Any, others: Sequence[Experiment], target: Experiment, spend_nodes: tuple[str, ...]
) -> np.ndarray:
    """Fit with ``others`` only and return the draws of ``target``'s estimand (a top-level function: it runs in worker processes)."""
    from causalmmm.model.fit import fit_model

    fit = fit_model(spec, data, config, experiments=list(others))
    return predict_experiment(PosteriorSCM(spec, data, fit.posterior_draws(), spend_nodes), target).copy()


def refit_task(args: tuple[ModelSpec, Dataset, Any, Sequence[Experiment], Experiment, tuple[str, ...]]) -> np.ndarray:
    """:func:`refit_and_predict` on one packed argument tuple (the unit :func:`run_tasks` dispatches)."""
    return refit_and_predict(*args)


def leave_one_out(
    spec: ModelSpec,
    data: Dataset,
    config: Any,
    experiments: Sequence[Experiment],
    *,
    spend_nodes: tuple[str, ...] = (),
    jobs: int = 1,
    progress: Progress | None = None,
    in_sample: dict[str, float] | None = None,
    cluster: str | None = None,
) -> LooResult:
    """For each ``use: calibrate`` experiment with a result, refit without it and predict it.

    ``jobs > 1`` runs the refits on an embedded dask cluster of that many one-thread workers (each
    refit samples with ``config``; keep ``jobs × chains`` near the cores); ``jobs = 1`` runs them here,
    one after another. ``cluster`` (or ``$CAUSALMMM_DASK_CLUSTER``): ``local`` is the embedded cluster
    (one worker per core unless ``jobs``), ``tcp://HOST:PORT`` an existing scheduler, ``none`` serial
    (see :func:`causalmmm.distributed.resolve_cluster`).
    The result is built only after every refit succeeded. ``in_sample`` maps names to the z of the full fit.
    """
    targets = [e for e in experiments if e.use == "calibrate" and e.has_result]
    if not targets:
        raise ExperimentError(
            "no calibrating experiment with a result to leave out", hint="leave-one-experiment-out needs experiments with use: calibrate and an estimate"
        )
    tasks = [(spec, data, config, [o for o in experiments if o.name != e.name], e, spend_nodes) for e in targets]
    names = [e.name for e in targets]
    workers = None if jobs <= 1 and cluster_requested(cluster) else jobs  # a named cluster without --jobs: every core
    results = run_tasks(refit_task, tasks, cluster=cluster, workers=workers, labels=names, progress=progress, what="leave-one-out refit")
    draws: dict[str, np.ndarray] = dict(zip(names, results))
    checks = []
    for e in targets:
        assert e.estimate is not None and e.se is not None  # targets all have a result
        d, dropped = finite_draws(draws[e.name])
        ins = (in_sample or {}).get(e.name)
        if d.size == 0:
            checks.append(
                LooCheck(
                    e.name,
                    float(e.estimate),
                    float(e.se),
                    None,
                    None,
                    None,
                    ins,
                    "the refit gave no finite prediction (diverged); check it with a full NUTS fit",
                )
            )
            continue
        note = f"{dropped} non-finite predicted draws ignored" if dropped else None
        checks.append(LooCheck(e.name, float(e.estimate), float(e.se), Summary.of(d), float(d.std()), z_score(float(e.estimate), float(e.se), d), ins, note))
    return LooResult(checks)
