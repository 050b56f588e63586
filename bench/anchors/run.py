"""Driver side (our venv): write a job, run an anchor's runner in its own venv, parse the result.

    from bench.anchors.run import AnchorJob, run_anchor
    res = run_anchor("pymc-marketing", AnchorJob(csv="world/data.csv", channels=["ppc_spend"], controls=["demand"]))
    res.roas_draws["ppc_spend"]  # numpy array of total-ROAS draws

The runner imports only the anchor's packages; this module never imports them.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from bench.anchors.envs import AnchorEnvError, anchor, require

HERE = Path(__file__).resolve().parent


@dataclass
class AnchorJob:
    """What a runner reads: the data, the columns, optional lift tests and the sampler settings."""

    csv: str
    channels: Sequence[str]
    controls: Sequence[str] = ()
    date_column: str = "date"
    target: str = "sales"
    lift_tests: list[dict[str, Any]] | None = None  # rows channel, x, delta_x, delta_y, sigma (original units, per period)
    draws: int = 500
    tune: int = 500
    chains: int = 2
    seed: int = 0
    nutpie: bool = True
    model: dict[str, Any] = field(default_factory=dict)  # runner-specific: l_max, yearly_seasonality, scale_controls

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["channels"], d["controls"] = list(self.channels), list(self.controls)
        d["sampler"] = {k: d.pop(k) for k in ("draws", "tune", "chains", "seed", "nutpie")}
        return d


@dataclass
class AnchorResult:
    """One anchor fit: total-ROAS draws per channel (original units), timings, diagnostics, versions."""

    anchor: str
    roas_draws: dict[str, np.ndarray]
    fit_seconds: float  # the runner's fit (build + lift terms + compile + sample + the library's post-fit step)
    process_seconds: float  # the whole subprocess, seen from here (imports, fit, ROAS computation)
    sampling_seconds: float | None
    ess_per_second: float
    raw: dict[str, Any]

    @property
    def versions(self) -> dict[str, str]:
        return self.raw.get("versions", {})


def run_anchor(name: str, job: AnchorJob, *, workdir: str | Path | None = None, timeout: float | None = None) -> AnchorResult:
    """Run ``name``'s runner on ``job`` in the anchor's venv; raise AnchorEnvError when it is missing or fails."""
    python = require(name)
    runner = HERE / anchor(name).runner
    with tempfile.TemporaryDirectory(dir=workdir) as d:
        job_path, out_path = Path(d) / "job.json", Path(d) / "result.json"
        job_path.write_text(json.dumps(job.to_json()))
        t0 = time.perf_counter()
        proc = subprocess.run([str(python), str(runner), str(job_path), str(out_path)], capture_output=True, text=True, timeout=timeout)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0 or not out_path.is_file():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise AnchorEnvError(
                f"{name} runner failed (exit {proc.returncode}): {last}",
                where=str(runner),
                hint="rerun the runner by hand on the job file to see the full traceback",
            )
        raw = json.loads(out_path.read_text())
    draws = {c: np.asarray(v, dtype=float) if v is not None else np.array([np.nan]) for c, v in raw["roas_draws"].items()}
    return AnchorResult(name, draws, float(raw["fit_seconds"]), seconds, raw.get("sampling_seconds"), float(raw["ess_per_second"]), raw)
