"""Run directories: everything a fit produced, written atomically, loaded back.

Layout::

    RUN_DIR/
      summary.json        settings, data fingerprint, blocks, diagnostics: deterministic
                          (the same inputs and seed give a byte-identical file)
      provenance.json     what varies between identical fits: fit time, when, library versions
      spec.json           the ModelSpec
      graph.dot           the graph as declared
      data.csv            the validated data the model saw
      posterior/block_00.nc ...   InferenceData per fit block (netCDF)
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
from dataclasses import dataclass, field
from importlib import metadata
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
from causalmmm.model_warnings import ModelWarning, from_dicts, ranked, to_dicts
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
    provenance: dict[str, Any] = field(default_factory=dict)

    def posterior_draws(self) -> dict[str, np.ndarray]:
        """Every parameter flattened over (chain, draw)."""
        return FitResult(self.blocks, self.idata, [], None, 0.0).posterior_draws()  # type: ignore[arg-type]

    @property
    def calibrated_experiments(self) -> frozenset[str]:
        """Names of the experiments this run was calibrated by (``summary.json["experiments"]``)."""
        return frozenset(e["name"] for e in self.summary.get("experiments", []) if e.get("calibrated"))

    @property
    def warnings(self) -> list[ModelWarning]:
        """What to distrust about this fit, most severe first (``summary.json["warnings"]``)."""
        return ranked(from_dicts(self.summary.get("warnings")))

    def _repr_html_(self) -> str:
        from causalmmm.tables import diagnostics_table

        return diagnostics_table(self.summary).to_html()

    def summary_text(self) -> str:
        s = self.summary
        secs = self.provenance.get("fit_seconds")
        took = f" in {secs:.1f} s" if isinstance(secs, (int, float)) else ""
        lines = [f"fitted {len(s['nodes'])} submodels in {len(s['blocks'])} blocks{took} ({sampler_label(s)}) -> {self.path}"]
        for d in s["diagnostics"]:
            rh = "-" if d["r_hat_max"] is None else f"{d['r_hat_max']:.3f}"
            ess = "-" if d["ess_bulk_min"] is None else f"{d['ess_bulk_min']:.0f}"
            lines.append(f"  {d['node']:<16} R-hat {rh:>6}  ESS {ess:>6}  divergences {d['divergences']}")
        lines += [f"warning: {w.to_text()}" for w in self.warnings]
        factors = set(self.spec.latents)
        via_factor = [n["name"] for n in s["nodes"] if n["confounded"] and set(n["latent_parents"]) <= factors]
        confounded = [n["name"] for n in s["nodes"] if n["confounded"] and n["name"] not in via_factor]
        if via_factor:
            lines.append(
                f"note: {', '.join(via_factor)} share the latent factor(s) {', '.join(sorted(factors))}: identified under the "
                "factor model's assumptions (one common cause, linear loadings), or by the experiments that calibrate them"
            )
        if confounded:
            lines.append(f"warning: {', '.join(confounded)} have latent parents: their mechanisms are confounded unless calibrated by an experiment")
        return "\n".join(lines)


def make_summary(graph: CausalGraph, spec: ModelSpec, data: Dataset, fit: FitResult, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run's summary.json content: deterministic for the same inputs and seed.

    Anything that varies between two identical fits (timings, dates, versions) goes to
    :func:`make_provenance` instead.
    """
    cfg = fit.config
    return {
        "format_version": FORMAT_VERSION,
        "outcome": spec.outcome,
        "data": {
            "fingerprint": data.fingerprint(),
            "n_periods": data.n_periods,
            "freq": data.freq,
            "start": str(data.dates[0].date()),
            "end": str(data.dates[-1].date()),
        },
        "settings": {"sampler": cfg.sampler, "draws": cfg.draws, "tune": cfg.tune, "chains": cfg.chains, "seed": cfg.seed, "fast": cfg.fast},
        "sampled_with": list(dict.fromkeys(fit.samplers)),  # what ran, per sampled model (auto resolves per model)
        "nodes": [
            {
                "name": n.name,
                "parents": list(n.parents),
                "causes": list(n.causes),
                "adjustment": list(n.adjustment),
                "trend": n.trend,
                "seasonality": n.seasonality,
                "confounded": n.confounded,
                "latent_parents": list(n.latent_parents),
            }
            for n in spec.nodes
        ],
        "exogenous": list(spec.exogenous),
        "blocks": [list(b) for b in fit.blocks],
        "diagnostics": [d.to_dict() for d in fit.diagnostics],
        "converged": all(not d.warnings for d in fit.diagnostics),
        "warnings": to_dicts(fit.warnings),
        **(extra or {}),
    }


def sampler_label(summary: dict[str, Any]) -> str:
    """How a run was sampled, for one line of text: ``nutpie``, ``auto: pymc``, ``auto: nutpie+pymc``, ``..., fast``."""
    settings = summary["settings"]
    used = "+".join(summary.get("sampled_with") or [])
    label = f"{settings['sampler']}: {used}" if used and used != settings["sampler"] else settings["sampler"]
    return label + (", fast" if settings.get("fast") else "")


_VERSIONED = ("causalmmm", "pymc", "pytensor", "nutpie", "arviz", "numpy", "scipy", "pandas", "pymc-extras")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def make_provenance(fit: FitResult, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run's provenance.json: what legitimately differs between two identical fits."""
    return {
        "format_version": FORMAT_VERSION,
        "created_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "fit_seconds": round(fit.seconds, 3),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {p: _version(p) for p in _VERSIONED},
        **(extra or {}),
    }


def make_run(
    graph: CausalGraph, spec: ModelSpec, data: Dataset, fit: FitResult, *, extra: dict[str, Any] | None = None, provenance: dict[str, Any] | None = None
) -> Run:
    """The fitted run in memory (not yet written): what :func:`save_run` writes and :func:`load_run` reads."""
    return Run(None, graph, spec, data, fit.blocks, fit.idata, make_summary(graph, spec, data, fit, extra), make_provenance(fit, provenance))


def save_run(run: Run, path: str | Path, *, force: bool = False) -> Run:
    """Write the run directory atomically (never half-written); refuse to overwrite without ``force``."""
    with atomic_directory(path, force=force, error=RunError) as stage:
        (stage / "graph.dot").write_text(graph_to_dot(run.graph))
        (stage / "spec.json").write_text(run.spec.to_json())
        frame = run.data.frame.reset_index()
        frame["date"] = frame["date"].dt.strftime("%Y-%m-%d %H:%M:%S" if run.data.freq == "h" else "%Y-%m-%d")
        frame.to_csv(stage / "data.csv", index=False, float_format="%.17g")
        (stage / "posterior").mkdir()
        for i, idata in enumerate(run.idata):
            idata.to_netcdf(str(stage / "posterior" / f"block_{i:02d}.nc"), engine="h5netcdf")
        (stage / "provenance.json").write_text(json.dumps(run.provenance, indent=2, sort_keys=True) + "\n")
        (stage / "summary.json").write_text(json.dumps(run.summary, indent=2, sort_keys=True) + "\n")
    return Run(Path(path), run.graph, run.spec, run.data, run.blocks, run.idata, run.summary, run.provenance)


def write_run(
    path: str | Path,
    graph: CausalGraph,
    spec: ModelSpec,
    data: Dataset,
    fit: FitResult,
    *,
    force: bool = False,
    extra: dict[str, Any] | None = None,
    provenance: dict[str, Any] | None = None,
) -> Run:
    """Write the run directory atomically; refuse to overwrite without ``force``.

    ``extra`` is added to summary.json (it must be deterministic); ``provenance`` to
    provenance.json (timings, paths and anything else that varies).
    """
    return save_run(make_run(graph, spec, data, fit, extra=extra, provenance=provenance), path, force=force)


def _read_json(p: Path, name: str) -> Any:
    try:
        return json.loads((p / name).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunError(
            f"corrupt {name} ({' '.join(str(exc).split())})", where=str(p / name), hint="the run was damaged; refit with 'causalmmm fit ... -o RUN_DIR --force'"
        ) from None
    except OSError as exc:
        raise RunError(f"cannot read {name} ({exc.strerror})", where=str(p / name), hint="check the permissions, or refit") from None


def load_run(path: str | Path) -> Run:
    """Load a run directory written by :func:`write_run`; a damaged one is a one-line :class:`RunError`."""
    p = Path(path)
    if not p.is_dir():
        raise RunError("not a run directory (it does not exist or is a file)", where=str(p), hint="pass the -o directory of 'causalmmm fit'")
    missing = [f for f in _REQUIRED if not (p / f).exists()]
    if missing:
        raise RunError(f"not a run directory (missing {', '.join(missing)})", where=str(p), hint="pass the -o directory of 'causalmmm fit'")
    refit = "the run was damaged; refit with 'causalmmm fit ... -o RUN_DIR --force'"
    summary = _read_json(p, "summary.json")
    if not isinstance(summary, dict):
        raise RunError("corrupt summary.json (not a JSON object)", where=str(p / "summary.json"), hint=refit)
    if summary.get("format_version") != FORMAT_VERSION:
        raise RunError(
            f"run format {summary.get('format_version')} is not supported (expected {FORMAT_VERSION})",
            where=str(p / "summary.json"),
            hint="refit with this version of causalmmm",
        )
    try:
        fingerprint = str(summary["data"]["fingerprint"])
        blocks = [tuple(str(n) for n in b) for b in summary["blocks"]]
        for key in ("nodes", "settings", "diagnostics"):
            summary[key]  # noqa: B018 - presence check
    except (KeyError, TypeError) as exc:
        raise RunError(f"corrupt summary.json (bad or missing field {exc})", where=str(p / "summary.json"), hint=refit) from None
    try:
        spec = ModelSpec.from_dict(_read_json(p, "spec.json"))
    except RunError:
        raise
    except Exception as exc:  # any malformed content: the file is not what write_run wrote
        raise RunError(f"corrupt spec.json ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})", where=str(p / "spec.json"), hint=refit) from None
    provenance = {}
    if (p / "provenance.json").exists():  # informational only: a damaged one does not stop queries
        try:
            provenance = _read_json(p, "provenance.json")
        except RunError:
            provenance = {}
        provenance = provenance if isinstance(provenance, dict) else {}
    graph = load_graph(p / "graph.dot")
    data = load_data(p / "data.csv").validate_against(graph)
    if data.fingerprint() != fingerprint:
        raise RunError("data.csv does not match the fingerprint recorded at fit time", where=str(p / "data.csv"), hint="the run was modified; refit")
    if {n.name for n in spec.nodes} != {n for b in blocks for n in b}:
        raise RunError("spec.json and summary.json disagree about the modelled nodes", where=str(p), hint=refit)
    idata = []
    for i in range(len(blocks)):
        f = p / "posterior" / f"block_{i:02d}.nc"
        if not f.exists():
            raise RunError(f"missing posterior file {f.name}", where=str(p / "posterior"), hint=refit)
        try:
            idata.append(az.from_netcdf(str(f), engine="h5netcdf"))
        except Exception as exc:  # h5py/netCDF raise OSError, ValueError, KeyError...
            raise RunError(f"cannot read posterior file ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})", where=str(f), hint=refit) from None
        if "posterior" not in idata[-1].groups():
            raise RunError("posterior file has no posterior group", where=str(f), hint=refit)
    return Run(p, graph, spec, data, blocks, idata, summary, provenance)
