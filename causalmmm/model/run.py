"""Run directories: everything a fit produced, written atomically, loaded back.

Layout::

    RUN_DIR/
      summary.json        diagnostics, settings, fingerprint, timings
      spec.json           the ModelSpec
      graph.dot           the graph as declared
      data.csv            the validated data the model saw
      posterior/block_00.nc ...   InferenceData per fit block (netCDF)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np

from causalmmm.data import Dataset, load_data
from causalmmm.errors import RunError
from causalmmm.fileio import atomic_directory
from causalmmm.graph.causal_graph import CausalGraph
from causalmmm.graph.io import graph_to_dot, load_graph
from causalmmm.model.fit import FitResult
from causalmmm.spec import ModelSpec

FORMAT_VERSION = 1
_REQUIRED = ("summary.json", "spec.json", "graph.dot", "data.csv")


@dataclass
class Run:
    """A fitted causal MMM: graph, spec, data, posterior per block, summary."""

    path: Path | None
    graph: CausalGraph
    spec: ModelSpec
    data: Dataset
    blocks: list[tuple[str, ...]]
    idata: list[az.InferenceData]
    summary: dict[str, Any]

    def posterior_draws(self) -> dict[str, np.ndarray]:
        """Every parameter flattened over (chain, draw)."""
        return FitResult(self.blocks, self.idata, [], None, 0.0).posterior_draws()  # type: ignore[arg-type]

    def _repr_html_(self) -> str:
        from causalmmm.report.tables import diagnostics_table

        return diagnostics_table(self.summary).to_html()

    def summary_text(self) -> str:
        s = self.summary
        lines = [f"fitted {len(s['nodes'])} submodels in {len(s['blocks'])} blocks in {s['fit_seconds']:.1f} s "
                 f"({s['settings']['sampler']}{', fast' if s['settings']['fast'] else ''}) -> {self.path}"]
        for d in s["diagnostics"]:
            rh = "-" if d["r_hat_max"] is None else f"{d['r_hat_max']:.3f}"
            ess = "-" if d["ess_bulk_min"] is None else f"{d['ess_bulk_min']:.0f}"
            lines.append(f"  {d['node']:<16} R-hat {rh:>6}  ESS {ess:>6}  divergences {d['divergences']}")
        warns = [w for d in s["diagnostics"] for w in d["warnings"]]
        lines += [f"warning: {w}" for w in dict.fromkeys(warns)]
        confounded = [n["name"] for n in s["nodes"] if n["confounded"]]
        if confounded:
            lines.append(f"warning: {', '.join(confounded)} have latent parents: their mechanisms are confounded unless calibrated by an experiment")
        return "\n".join(lines)


def make_summary(graph: CausalGraph, spec: ModelSpec, data: Dataset, fit: FitResult, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run's summary.json content (deterministic for the same inputs and seed, except timings)."""
    cfg = fit.config
    return {
        "format_version": FORMAT_VERSION,
        "outcome": spec.outcome,
        "data": {"fingerprint": data.fingerprint(), "n_periods": data.n_periods, "freq": data.freq,
                 "start": str(data.dates[0].date()), "end": str(data.dates[-1].date())},
        "settings": {"sampler": cfg.sampler, "draws": cfg.draws, "tune": cfg.tune, "chains": cfg.chains, "seed": cfg.seed, "fast": cfg.fast},
        "nodes": [{"name": n.name, "parents": list(n.parents), "confounded": n.confounded, "latent_parents": list(n.latent_parents)} for n in spec.nodes],
        "exogenous": list(spec.exogenous),
        "blocks": [list(b) for b in fit.blocks],
        "diagnostics": [d.to_dict() for d in fit.diagnostics],
        "converged": all(not d.warnings for d in fit.diagnostics),
        "fit_seconds": round(fit.seconds, 3),
        **(extra or {}),
    }


def write_run(path: str | Path, graph: CausalGraph, spec: ModelSpec, data: Dataset, fit: FitResult, *, force: bool = False,
              extra: dict[str, Any] | None = None) -> Run:
    """Write the run directory atomically; refuse to overwrite without ``force``."""
    summary = make_summary(graph, spec, data, fit, extra)
    with atomic_directory(path, force=force, error=RunError) as stage:
        (stage / "graph.dot").write_text(graph_to_dot(graph))
        (stage / "spec.json").write_text(spec.to_json())
        frame = data.frame.reset_index()
        frame["date"] = frame["date"].dt.strftime("%Y-%m-%d %H:%M:%S" if data.freq == "h" else "%Y-%m-%d")
        frame.to_csv(stage / "data.csv", index=False, float_format="%.17g")
        (stage / "posterior").mkdir()
        for i, idata in enumerate(fit.idata):
            idata.to_netcdf(str(stage / "posterior" / f"block_{i:02d}.nc"), engine="h5netcdf")
        (stage / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
    return Run(Path(path), graph, spec, data, fit.blocks, fit.idata, summary)


def load_run(path: str | Path) -> Run:
    """Load a run directory written by :func:`write_run`."""
    p = Path(path)
    if not p.is_dir():
        raise RunError("not a run directory (it does not exist or is a file)", where=str(p), hint="pass the -o directory of 'causalmmm fit'")
    missing = [f for f in _REQUIRED if not (p / f).exists()]
    if missing:
        raise RunError(f"not a run directory (missing {', '.join(missing)})", where=str(p), hint="pass the -o directory of 'causalmmm fit'")
    try:
        summary = json.loads((p / "summary.json").read_text())
        spec = ModelSpec.from_dict(json.loads((p / "spec.json").read_text()))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise RunError(f"corrupt run metadata ({exc})", where=str(p), hint="refit with 'causalmmm fit ... --force'") from None
    if summary.get("format_version") != FORMAT_VERSION:
        raise RunError(f"run format {summary.get('format_version')} is not supported (expected {FORMAT_VERSION})", where=str(p), hint="refit with this version")
    graph = load_graph(p / "graph.dot")
    data = load_data(p / "data.csv").validate_against(graph)
    if data.fingerprint() != summary["data"]["fingerprint"]:
        raise RunError("data.csv does not match the fingerprint recorded at fit time", where=str(p), hint="the run was modified; refit")
    blocks = [tuple(b) for b in summary["blocks"]]
    idata = []
    for i in range(len(blocks)):
        f = p / "posterior" / f"block_{i:02d}.nc"
        if not f.exists():
            raise RunError(f"missing posterior file {f.name}", where=str(p), hint="refit with --force")
        idata.append(az.from_netcdf(str(f), engine="h5netcdf"))
    return Run(p, graph, spec, data, blocks, idata, summary)
