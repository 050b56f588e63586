"""Leave-one-experiment-out: refit without calibrating experiment k, then predict k.

An experiment the model was calibrated on is matched almost by construction. Refitting
without it and predicting it turns every calibrating experiment into a holdout: the
out-of-sample z says whether the rest of the model (data plus the other experiments)
agrees with it. Refits are independent, so they can run in parallel processes.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from causalmmm.data import Dataset
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


@contextmanager
def _patient_compile_lock(seconds: int = 3600) -> Iterator[None]:
    """Let spawned workers wait longer for PyTensor's compile-directory lock (default 120 s).

    Parallel refits compile at the same time; on a busy machine the default wait runs out.
    Workers read ``PYTENSOR_FLAGS`` when they start, so it is set around the pool only.
    """
    old = os.environ.get("PYTENSOR_FLAGS")
    if old is not None and "compile__timeout" in old:
        yield
        return
    os.environ["PYTENSOR_FLAGS"] = ",".join(f for f in (old, f"compile__timeout={seconds}") if f)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PYTENSOR_FLAGS", None)
        else:
            os.environ["PYTENSOR_FLAGS"] = old


def refit_and_predict(
    spec: ModelSpec, data: Dataset, config: Any, others: Sequence[Experiment], target: Experiment, spend_nodes: tuple[str, ...]
) -> np.ndarray:
    """Fit with ``others`` only and return the draws of ``target``'s estimand (a top-level function: it runs in worker processes)."""
    from causalmmm.model.fit import fit_model

    fit = fit_model(spec, data, config, experiments=list(others))
    return predict_experiment(PosteriorSCM(spec, data, fit.posterior_draws(), spend_nodes), target).copy()


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
) -> LooResult:
    """For each ``use: calibrate`` experiment with a result, refit without it and predict it.

    ``jobs > 1`` runs the refits in that many processes (each refit samples with ``config``;
    keep ``jobs × chains`` at or below the cores). ``in_sample`` maps names to the z of the full fit.
    """
    targets = [e for e in experiments if e.use == "calibrate" and e.has_result]
    if not targets:
        raise ExperimentError(
            "no calibrating experiment with a result to leave out", hint="leave-one-experiment-out needs experiments with use: calibrate and an estimate"
        )
    tasks = {e.name: (spec, data, config, [o for o in experiments if o.name != e.name], e, spend_nodes) for e in targets}
    draws: dict[str, np.ndarray] = {}
    if jobs <= 1:
        for i, e in enumerate(targets):
            draws[e.name] = refit_and_predict(*tasks[e.name])
            if progress:
                progress(i + 1, len(targets), e.name)
    else:
        ctx = multiprocessing.get_context("spawn")  # the samplers' threads do not survive fork
        with _patient_compile_lock(), ProcessPoolExecutor(max_workers=min(jobs, len(targets)), mp_context=ctx) as pool:
            futures = {pool.submit(refit_and_predict, *tasks[name]): name for name in tasks}
            for i, fut in enumerate(as_completed(futures)):
                draws[futures[fut]] = fut.result()
                if progress:
                    progress(i + 1, len(targets), futures[fut])
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
