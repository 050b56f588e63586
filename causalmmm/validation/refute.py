"""Refutations of a fitted model (DoWhy-style), run through our own fit and query engine.

Each refutation changes the data or the model in a way that should (or should not)
change a channel's total ROAS, refits, and compares:

* **placebo treatment**: the channel's spend is replaced by a block-permuted (or
  circularly shifted) copy of itself; the refitted ROAS of the placebo should be ~0.
* **random common cause**: an independent random observed root with an edge into
  every modelled node; the ROAS should not move.
* **data subset**: refits on contiguous blocks of time; each block's ROAS should
  agree with the reference model's ROAS over the same block.

Refits default to the fast Laplace fit (``SamplerConfig(fast=True)``), block by
block (``strategy="separate"``: the joint Laplace optimisation diverged on the
``linear`` preset). Pass ``config=SamplerConfig(draws=300, tune=300)`` for NUTS.
The reference is, by default, a refit of the unchanged data with the same
config, so a verdict measures the refutation and not a sampler difference.
Rules and thresholds: docs/concepts-robustness.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from causalmmm.data import Dataset
from causalmmm.errors import DataError, QueryError
from causalmmm.fmt import num, pct
from causalmmm.model_warnings import ModelWarning
from causalmmm.query.do import PosteriorSCM, Summary
from causalmmm.query.effects import roas_draws
from causalmmm.spec import EdgeSpec, ModelSpec, series_scale

TESTS = ("placebo", "random_common_cause", "subset")
PLACEBO_METHODS = ("permute", "shift")
#: placebo passes if its 94% HDI (or its mean) reaches within this share of |real ROAS mean| of zero
PLACEBO_SHARE = 0.1
#: random common cause passes if |ROAS mean shift| < this share of the reference ROAS posterior sd
COMMON_CAUSE_SHARE = 0.5
#: a data subset passes if |block mean - reference mean| / sqrt(sd_block² + sd_reference²) < this
SUBSET_Z = 2.0
MIN_BLOCK_PERIODS = 26
RANDOM_CAUSE = "random_common_cause"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Estimate:
    """Posterior mean, sd and 94% HDI of a ROAS (non-finite draws dropped)."""

    mean: float
    sd: float
    hdi_low: float
    hdi_high: float

    @classmethod
    def of(cls, draws: np.ndarray) -> Estimate:
        x = np.asarray(draws, dtype=float).ravel()
        x = x[np.isfinite(x)]
        if x.size == 0:
            nan = float("nan")
            return cls(nan, nan, nan, nan)
        s = Summary.of(x)
        return cls(s.mean, float(x.std(ddof=1)) if x.size > 1 else 0.0, s.hdi_low, s.hdi_high)

    @property
    def finite(self) -> bool:
        return bool(np.isfinite(self.mean))

    def to_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "hdi_low": self.hdi_low, "hdi_high": self.hdi_high, "sd": self.sd}


@dataclass(frozen=True)
class Refutation:
    """One refutation of one channel's ROAS."""

    name: str
    channel: str
    estimate: Estimate
    reference: Estimate
    verdict: str  # pass | fail
    rule: str
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "channel": self.channel,
            "estimate": self.estimate.to_dict(),
            "reference": self.reference.to_dict(),
            "verdict": self.verdict,
            "rule": self.rule,
            "detail": self.detail,
        }


# ---------------------------------------------------------------- verdicts (pure)
def placebo_verdict(estimate: Estimate, reference: Estimate, share: float = PLACEBO_SHARE) -> tuple[str, str]:
    """Pass if the placebo's 94% HDI reaches the band ±``share``·|real ROAS| around 0, or |placebo mean| is inside it.

    The band, not 0 itself: a sign-constrained edge (``positive`` by default on spend) has a placebo
    posterior piled up just above 0, whose HDI never contains 0 exactly.
    """
    tol = share * abs(reference.mean)
    rule = f"pass if the placebo ROAS's 94% HDI reaches within {pct(share)} of |real ROAS| of zero (|value| <= {num(tol)}), or its |mean| does"
    if not estimate.finite or not reference.finite:
        return "fail", rule + "; a fit gave no finite draws"
    ok = (estimate.hdi_low <= tol and estimate.hdi_high >= -tol) or abs(estimate.mean) <= tol
    return ("pass" if ok else "fail"), rule


def common_cause_verdict(estimate: Estimate, reference: Estimate, share: float = COMMON_CAUSE_SHARE) -> tuple[str, str]:
    """Pass if the ROAS mean moves by less than ``share`` reference posterior sds."""
    rule = f"pass if |ROAS mean shift| < {num(share)} reference posterior sd (< {num(share * reference.sd)})"
    if not estimate.finite or not reference.finite:
        return "fail", rule + "; a fit gave no finite draws"
    return ("pass" if abs(estimate.mean - reference.mean) < share * reference.sd else "fail"), rule


def subset_verdict(estimate: Estimate, reference: Estimate, z_max: float = SUBSET_Z) -> tuple[str, str]:
    """Pass if |block mean − reference mean| / sqrt(sd_block² + sd_ref²) < ``z_max`` (same window)."""
    rule = f"pass if |block ROAS - reference ROAS over the block| < {num(z_max)} · sqrt(sd_block² + sd_reference²)"
    if not estimate.finite or not reference.finite:
        return "fail", rule + "; a fit gave no finite draws"
    spread = float(np.hypot(estimate.sd, reference.sd))
    diff = abs(estimate.mean - reference.mean)
    ok = diff < z_max * spread if spread > 0 else diff == 0.0
    return ("pass" if ok else "fail"), rule


# ---------------------------------------------------------------- report
_FIXES = {
    "placebo_treatment": (
        "a permuted copy of the spend still shows an effect: the fit credits the channel with what the timing of "
        "other drivers explains; add the missing drivers (trend, seasonality, demand) or calibrate with an experiment"
    ),
    "random_common_cause": (
        "the estimate moves when an irrelevant variable is added: it hangs on the specification; check convergence "
        "(refit with NUTS) and the priors of this channel's edges"
    ),
    "data_subset": (
        "the estimate differs between periods: the effect changed over time or the model misses a driver; look for a "
        "structural break, add trend or seasonality, or fit a shorter window"
    ),
}


@dataclass
class RefutationReport:
    """All refutations, with the settings that produced them."""

    refutations: list[Refutation]
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.verdict == "pass" for r in self.refutations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "refutations": [r.to_dict() for r in self.refutations],
            "settings": dict(self.settings),
            "notes": list(self.notes),
            "summary": {"n": len(self.refutations), "n_pass": sum(r.verdict == "pass" for r in self.refutations)},
        }

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "refutation": r.name,
                    "channel": r.channel,
                    "detail": r.detail,
                    "ROAS": num(r.estimate.mean),
                    "94% HDI": f"[{num(r.estimate.hdi_low)}, {num(r.estimate.hdi_high)}]",
                    "reference": num(r.reference.mean),
                    "verdict": r.verdict,
                }
                for r in self.refutations
            ]
        )

    def _repr_html_(self) -> str:
        return self.table().to_html(index=False)

    def to_text(self) -> str:
        lines = ["refutations (refit, then compare each channel's total ROAS)"]
        for r in self.refutations:
            e = r.estimate
            lines.append(
                f"{r.name:<20} {r.channel:<16} ROAS {num(e.mean):>8} [{num(e.hdi_low)}, {num(e.hdi_high)}]  "
                f"reference {num(r.reference.mean):>8}  {r.verdict.upper():<4}  {r.detail}"
            )
        s = self.to_dict()["summary"]
        lines.append(f"{s['n_pass']}/{s['n']} refutations passed")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def warnings(self) -> list[ModelWarning]:
        """``refutation_failed`` (high) for every failed refutation; ``where`` is the channel."""
        return [
            ModelWarning(
                "refutation_failed",
                r.channel,
                f"{r.name.replace('_', ' ')} refutation failed for {r.channel} ({r.detail}): ROAS {num(r.estimate.mean)} "
                f"[{num(r.estimate.hdi_low)}, {num(r.estimate.hdi_high)}] vs reference {num(r.reference.mean)}; {r.rule}",
                _FIXES[r.name],
                "high",
            )
            for r in self.refutations
            if r.verdict == "fail"
        ]


# ---------------------------------------------------------------- pieces
def placebo_series(x: np.ndarray, rng: np.random.Generator, method: str = "permute", block: int = 8) -> np.ndarray:
    """A copy of ``x`` with the same values and a broken timing.

    ``permute``: blocks of ``block`` periods in a random order (never the original one), which keeps
    most of the autocorrelation; ``shift``: circular shift by half the series.
    """
    x = np.asarray(x, dtype=float)
    if method == "shift":
        return np.roll(x, len(x) // 2)
    if method != "permute":
        raise QueryError(f"unknown placebo method {method!r}", hint=f"use {' or '.join(PLACEBO_METHODS)}")
    chunks = [x[i : i + block] for i in range(0, len(x), max(1, block))]
    if len(chunks) < 2:
        return np.roll(x, len(x) // 2)
    order = np.arange(len(chunks))
    while np.array_equal(order, np.arange(len(chunks))):
        order = rng.permutation(len(chunks))
    return np.concatenate([chunks[i] for i in order])


def _with_column(data: Dataset, name: str, values: np.ndarray) -> Dataset:
    frame = data.frame.copy()
    frame[name] = np.asarray(values, dtype=float)
    return Dataset(frame, data.freq, data.source, data.warnings)


def _subset(data: Dataset, a: int, b: int) -> Dataset:
    return Dataset(data.frame.iloc[a:b].copy(), data.freq, data.source, data.warnings)


def _blocks(spec: ModelSpec, experiments: Sequence[Any]) -> list[tuple[str, ...]]:
    from causalmmm.model.calibration import calibration_ties
    from causalmmm.model.fit import fit_blocks

    return fit_blocks(spec, calibration_ties(spec, list(experiments)) + [spec.latent_children(v) for v in spec.latents])


def restrict_spec(spec: ModelSpec, keep: set[str]) -> ModelSpec:
    """The spec with only the modelled nodes in ``keep`` (whole fit blocks), for a partial refit."""
    nodes = tuple(n for n in spec.nodes if n.name in keep)
    latents = tuple(v for v in spec.latents if any(v in n.causes for n in nodes))
    return replace(spec, nodes=nodes, latents=latents)


def refit_draws(spec: ModelSpec, data: Dataset, config: Any, experiments: Sequence[Any] = ()) -> dict[str, np.ndarray]:
    """Fit ``spec`` on ``data`` with ``config``; the flat posterior draws."""
    from causalmmm.model.fit import fit_model

    calibrating = [e for e in experiments if e.use == "calibrate" and e.has_result]
    fit = fit_model(spec, data, config, experiments=calibrating, strategy="separate" if config.fast else "joint")
    return fit.posterior_draws()


def merge_draws(reference: Mapping[str, np.ndarray], new: Mapping[str, np.ndarray], seed: int = 0) -> dict[str, np.ndarray]:
    """Reference draws (resampled to the new draw count, one index for all) overwritten by the refitted nodes' draws."""
    n_ref = len(next(iter(reference.values())))
    n_new = len(next(iter(new.values())))
    idx = np.arange(n_ref) if n_ref == n_new else np.sort(np.random.default_rng(seed).choice(n_ref, n_new, replace=n_ref < n_new))
    out = {k: np.asarray(v)[idx] for k, v in reference.items()}
    out.update(new)
    return out


def _inside(e: Any, data: Dataset) -> bool:
    return bool(e.start >= data.dates[0] and e.end <= data.dates[-1])


# ---------------------------------------------------------------- refutations
def free_sign(spec: ModelSpec, source: str) -> ModelSpec:
    """``spec`` with every edge out of ``source`` sign-free (its prior then is ``beta_free``)."""
    nodes = tuple(replace(n, edges=tuple(replace(e, sign="free") if e.source == source else e for e in n.edges)) for n in spec.nodes)
    return replace(spec, nodes=nodes)


def _dropped(draws: np.ndarray) -> str:
    bad = int(np.sum(~np.isfinite(draws)))
    return f"; {bad} of {draws.size} draws non-finite, dropped" if bad else ""


def _placebo(
    ref: PosteriorSCM, channel: str, config: Any, experiments: Sequence[Any], rng: np.random.Generator, method: str, block: int, seed: int
) -> Refutation:
    spec, data = ref.spec, ref.data
    if config.fast:  # Laplace cannot represent a coefficient piled up at a sign boundary (inf draws): free the placebo's sign
        spec = free_sign(spec, channel)
    exps = [e for e in experiments if e.treatment != channel]
    affected = {n.name for n in spec.nodes if channel in n.parents or n.name == channel}  # every equation that reads the column
    keep = {n for b in _blocks(spec, exps) if affected & set(b) for n in b}
    sub = restrict_spec(spec, keep)
    placebo = _with_column(data, channel, placebo_series(data.column(channel), rng, method, block))
    exps = [e for e in exps if set(_involved(spec, e)) <= keep]
    draws = merge_draws(ref.draws, refit_draws(sub, placebo, config, exps), seed)
    roas = roas_draws(PosteriorSCM(spec, placebo, draws, ref.spend_nodes), channel)
    est = Estimate.of(roas)
    real = Estimate.of(roas_draws(ref, channel))
    verdict, rule = placebo_verdict(est, real)
    what = f"blocks of {block} periods permuted" if method == "permute" else "shifted by half the data"
    freed = ", sign freed" if config.fast else ""
    return Refutation("placebo_treatment", channel, est, real, verdict, rule, f"{channel} {what}; refit {', '.join(sub.node_names)}{freed}{_dropped(roas)}")


def _involved(spec: ModelSpec, e: Any) -> tuple[str, ...]:
    from causalmmm.model.calibration import involved_nodes

    return involved_nodes(spec, e)


def common_cause_spec(spec: ModelSpec, name: str, scale: float) -> ModelSpec:
    """``spec`` with an extra observed root ``name`` entering every modelled node linearly (free sign)."""
    nodes = tuple(
        replace(n, edges=n.edges + (EdgeSpec(source=name, target=n.name, adstock="none", saturation="none", l_max=1, lag=0, sign="free"),)) for n in spec.nodes
    )
    return replace(spec, nodes=nodes, exogenous=spec.exogenous + (name,), scales={**spec.scales, name: scale})


def _common_cause(ref: PosteriorSCM, channels: Sequence[str], config: Any, experiments: Sequence[Any], rng: np.random.Generator) -> list[Refutation]:
    z = rng.standard_normal(ref.spec.n_periods)
    data = _with_column(ref.data, RANDOM_CAUSE, z)
    spec = common_cause_spec(ref.spec, RANDOM_CAUSE, series_scale(z))
    scm = PosteriorSCM(spec, data, refit_draws(spec, data, config, experiments), ref.spend_nodes)
    out = []
    for c in channels:
        roas = roas_draws(scm, c)
        est, real = Estimate.of(roas), Estimate.of(roas_draws(ref, c))
        verdict, rule = common_cause_verdict(est, real)
        out.append(Refutation("random_common_cause", c, est, real, verdict, rule, f"N(0, 1) root -> all {len(spec.nodes)} modelled nodes{_dropped(roas)}"))
    return out


def _data_subsets(
    ref: PosteriorSCM, channels: Sequence[str], config: Any, experiments: Sequence[Any], n_subsets: int, notes: list[str], progress: Progress | None
) -> list[Refutation]:
    T = ref.spec.n_periods
    bounds = np.linspace(0, T, n_subsets + 1).astype(int)
    if n_subsets < 2 or int(np.min(np.diff(bounds))) < MIN_BLOCK_PERIODS:
        raise DataError(
            f"{n_subsets} time blocks of {T} periods leave fewer than {MIN_BLOCK_PERIODS} periods per block",
            where="refute --subsets",
            hint=f"use 2 to {max(2, T // MIN_BLOCK_PERIODS)} blocks",
        )
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        data = _subset(ref.data, int(a), int(b))
        start, end = str(data.dates[0].date()), str(data.dates[-1].date())
        if progress:
            progress(f"refute: refitting on {start}..{end}")
        spec = replace(ref.spec, n_periods=data.n_periods)  # same equations, priors and scales
        exps = [e for e in experiments if _inside(e, data)]
        scm = PosteriorSCM(spec, data, refit_draws(spec, data, config, exps), ref.spend_nodes)
        for c in channels:
            if data.column(c).sum() <= 0:
                notes.append(f"{c} has no spend in {start}..{end}: no data-subset check there")
                continue
            roas = roas_draws(scm, c)
            est, real = Estimate.of(roas), Estimate.of(roas_draws(ref, c, start, end))
            verdict, rule = subset_verdict(est, real)
            out.append(Refutation("data_subset", c, est, real, verdict, rule, f"refit on {start}..{end} only{_dropped(roas)}"))
    return out


def refute(
    source: Any,
    graph: Any = None,
    *,
    channels: Sequence[str] | None = None,
    tests: Sequence[str] = TESTS,
    config: Any = None,
    experiments: Sequence[Any] = (),
    placebo: str = "permute",
    block_length: int = 8,
    n_subsets: int = 2,
    reference: str = "refit",
    seed: int = 0,
    progress: Progress | None = None,
) -> RefutationReport:
    """Run the refutations on a fitted model (a ``Run`` or a ``PosteriorSCM``).

    ``graph``: the causal graph (default ``run.graph``); it only supplies the spend channels when the
    model does not name them. ``config``: the refits' ``SamplerConfig`` (default fast Laplace,
    500 draws, ``seed``). ``experiments``: the calibrating experiments of the fit, reused in the refits
    (a placebo refit drops those on the placebo channel, a subset refit those outside its block).
    ``reference``: ``"refit"`` (default) compares with a refit of the unchanged data under ``config``;
    ``"run"`` with the given posterior (right when it was fitted with the same config).
    """
    from causalmmm.model.fit import SamplerConfig

    unknown = [t for t in tests if t not in TESTS]
    if unknown:
        raise QueryError(f"unknown refutation {unknown[0]!r}", hint=f"choose from {', '.join(TESTS)}")
    if reference not in ("refit", "run"):
        raise QueryError(f"unknown reference {reference!r}", hint="use refit or run")
    if placebo not in PLACEBO_METHODS:
        raise QueryError(f"unknown placebo method {placebo!r}", hint=f"use {' or '.join(PLACEBO_METHODS)}")
    scm = source if isinstance(source, PosteriorSCM) else PosteriorSCM.from_run(source)
    graph = graph if graph is not None else getattr(source, "graph", None)
    cfg = config or SamplerConfig(fast=True, draws=500, seed=seed)
    if channels is not None:
        chans = list(channels)
    else:
        chans = list(scm.spend_nodes) or (list(graph.spend_nodes) if graph is not None else [])
    chans = [c for c in chans if any(c in n.causes for n in scm.spec.nodes)]
    if not chans:
        raise QueryError("no spend channel with an edge into a modelled node to refute", hint="pass channels=[...] or a graph with spend nodes")
    rng = np.random.default_rng(seed)
    if reference == "refit":
        if progress:
            progress("refute: reference refit on the unchanged data")
        scm = PosteriorSCM(scm.spec, scm.data, refit_draws(scm.spec, scm.data, cfg, experiments), scm.spend_nodes or tuple(chans))
    results: list[Refutation] = []
    notes: list[str] = []
    if "placebo" in tests:
        for c in chans:
            if progress:
                progress(f"refute: placebo refit for {c}")
            results.append(_placebo(scm, c, cfg, experiments, rng, placebo, block_length, seed))
    if "random_common_cause" in tests:
        if progress:
            progress("refute: refit with a random common cause")
        results += _common_cause(scm, chans, cfg, experiments, rng)
    if "subset" in tests:
        results += _data_subsets(scm, chans, cfg, experiments, n_subsets, notes, progress)
    settings = {
        "tests": list(tests),
        "channels": chans,
        "sampler": "laplace" if cfg.fast else cfg.sampler,
        "draws": cfg.draws,
        "seed": seed,
        "reference": reference,
        "placebo": placebo,
        "block_length": block_length,
        "n_subsets": n_subsets,
        "thresholds": {"placebo_share": PLACEBO_SHARE, "common_cause_share": COMMON_CAUSE_SHARE, "subset_z": SUBSET_Z},
    }
    return RefutationReport(results, settings, notes)
