"""Fit blocks and samplers.

Each modelled node has its own parameters and likelihood, so the posterior
factorises over nodes. Nodes are tied only when an experiment's contrast
involves several mechanisms; the *fit blocks* are the connected components of
that "tied" relation. Blocks are independent posteriors; they are sampled in
one compiled model per *fit group* (to pay compilation once) or separately.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import arviz as az
import numpy as np
import pymc as pm
import xarray as xr

from causalmmm.data import Dataset
from causalmmm.errors import FitError
from causalmmm.fileio import raise_if_interrupted
from causalmmm.model.build import build_model
from causalmmm.model.calibration import calibration_ties, involved_nodes
from causalmmm.model.checks import posterior_warnings
from causalmmm.model.equations import ParamName, media_groups, param_name
from causalmmm.model.laplace import laplace_posterior
from causalmmm.model_warnings import ModelWarning
from causalmmm.spec import ModelSpec

SAMPLERS = ("auto", "nutpie", "pymc", "numpyro")


def resolve_sampler(requested: str) -> str:
    """The NUTS implementation for a sampled model: ``auto`` is PyMC's NUTS (its C backend).

    Measured on the search world (docs/benchmarks.md, "Speed and memory" and "Sampler choice"), the
    C backend wins every case that PyMC 5 allows. numba, which nutpie compiles with, recompiles
    almost the whole logp and gradient in every new process under PyTensor 2.38: the uncalibrated
    fit spent over 300 s compiling with a warm cache as with a cold one, where PyMC's NUTS compiled
    and sampled it in about 110 s cold, less warm, and reached a higher ESS. A calibrating experiment's
    contrast adds a wide fused gradient kernel that numba compiles in time quadratic in its width
    (pytensor#2354, fixed after PyTensor 2.38): nutpie had not compiled the calibrated search world
    after 20 minutes. PyMC's compiled C modules are cached on disk and shared by later fits.
    ``nutpie`` stays available by name; revisit when PyMC allows a PyTensor with both fixes.
    """
    return "pymc" if requested == "auto" else requested


#: Bulk ESS below this per chain is a convergence warning (Vehtari et al. 2021: at least 100 per chain, so that
#: R-hat and the ESS estimates themselves are reliable); 400 for 4 chains, 200 for the default 2.
MIN_ESS_PER_CHAIN = 100
#: A fast fit cannot report convergence; the report must not read its silence as "no problem".
FAST_WARNING = ModelWarning(
    "fast_approximation",
    "the whole fit",
    "the posterior is a Laplace approximation around the mode (--fast): no convergence diagnostics, and skewed or "
    "bounded posteriors (saturation, sign-constrained effects) are treated as Gaussian",
    "refit without --fast (NUTS) before acting on the numbers",
    "low",
)


def fit_blocks(spec: ModelSpec, ties: Iterable[Iterable[str]] = ()) -> list[tuple[str, ...]]:
    """Connected components of "nodes tied by an experiment", in topological order.

    ``ties``: groups of nodes whose mechanisms one experiment's likelihood term
    involves. Nodes without a submodel are ignored. Without ties every modelled
    node is its own block.
    """
    order = list(spec.node_names)
    parent = {n: n for n in order}

    def find(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for group in ties:
        members = [n for n in group if n in parent]
        for a, b in zip(members, members[1:]):
            ra, rb = find(a), find(b)
            if ra != rb:
                # keep the root that comes first topologically, for stable output
                first, second = sorted((ra, rb), key=order.index)
                parent[second] = first
    blocks: dict[str, list[str]] = {}
    for n in order:
        blocks.setdefault(find(n), []).append(n)
    return sorted((tuple(v) for v in blocks.values()), key=lambda b: order.index(b[0]))


@dataclass
class SamplerConfig:
    """How to sample: NUTS settings or the fast approximation."""

    sampler: str = "auto"
    draws: int = 500
    tune: int = 500
    chains: int = 2
    seed: int = 0
    fast: bool = False
    target_accept: float = 0.9
    low_rank: bool = False

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise FitError(f"unknown sampler {self.sampler!r}", hint=f"choose one of: {', '.join(SAMPLERS)}")


@dataclass
class NodeDiagnostics:
    """Convergence per node: worst R-hat, smallest ESS, divergences."""

    node: str
    block: int
    r_hat_max: float | None
    ess_bulk_min: float | None
    ess_tail_min: float | None
    divergences: int
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "block": self.block,
            "r_hat_max": self.r_hat_max,
            "ess_bulk_min": self.ess_bulk_min,
            "ess_tail_min": self.ess_tail_min,
            "divergences": self.divergences,
            "warnings": list(self.warnings),
        }


@dataclass
class FitResult:
    """Posterior per block plus diagnostics."""

    blocks: list[tuple[str, ...]]
    idata: list[az.InferenceData]
    diagnostics: list[NodeDiagnostics]
    config: SamplerConfig
    seconds: float
    warnings: list = field(default_factory=list)  # ModelWarning items from the posterior checks
    samplers: list[str] = field(default_factory=list)  # what sampled each model: nutpie, pymc, numpyro or laplace

    def posterior_draws(self) -> dict[str, np.ndarray]:
        """Every parameter flattened over (chain, draw): ``name -> array (draws, ...)``."""
        out: dict[str, np.ndarray] = {}
        for idata in self.idata:
            post = idata["posterior"]
            for name, da in post.data_vars.items():
                arr = da.to_numpy()
                out[str(name)] = arr.reshape((-1,) + arr.shape[2:])
        return out


def _sample_nuts(model: pm.Model, cfg: SamplerConfig, seed: int, sampler: str) -> az.InferenceData:
    if sampler == "nutpie":
        import nutpie

        compiled = nutpie.compile_pymc_model(model)
        # low_rank: nutpie's low-rank mass-matrix update. It cut gradient evaluations ~10x on the
        # search world but its adaptation was erratic (min ESS 15-95 vs 129 with the diagonal one),
        # so it is opt-in.
        return nutpie.sample(
            compiled,
            draws=cfg.draws,
            tune=cfg.tune,
            chains=cfg.chains,
            seed=seed,
            progress_bar=False,
            target_accept=cfg.target_accept,
            save_warmup=False,
            low_rank_modified_mass_matrix=cfg.low_rank,
        )
    kwargs: dict[str, Any] = {}
    if sampler == "numpyro":
        try:
            import numpyro  # noqa: F401
        except ImportError:
            raise FitError("the numpyro sampler needs numpyro and jax", hint="pip install numpyro jax, or use --sampler nutpie") from None
        kwargs["nuts_sampler"] = "numpyro"
    pymc_log = logging.getLogger("pymc")  # its INFO lines (initialising, chains, timing) are not ours to print
    level = pymc_log.level
    pymc_log.setLevel(logging.WARNING)
    try:
        with model:
            return pm.sample(
                draws=cfg.draws,
                tune=cfg.tune,
                chains=cfg.chains,
                cores=min(cfg.chains, 2),
                random_seed=seed,
                target_accept=cfg.target_accept,
                progressbar=False,
                compute_convergence_checks=False,
                **kwargs,
            )
    finally:
        pymc_log.setLevel(level)


def sampler_warnings(cfg: SamplerConfig) -> list[ModelWarning]:
    """Warnings about how the posterior was computed: ``fast_approximation`` on a fast (Laplace) fit."""
    return [FAST_WARNING] if cfg.fast else []


def count_divergences(idata: az.InferenceData) -> int:
    if "sample_stats" in idata.groups() and "diverging" in idata["sample_stats"]:
        return int(idata["sample_stats"]["diverging"].sum())
    return 0


def _diagnose(
    idata: az.InferenceData, nodes: Sequence[str], block: int, cfg: SamplerConfig, divergences: int, divergence_scope: str | None
) -> list[NodeDiagnostics]:
    """Per-node convergence. ``divergence_scope`` names where divergences are reported (once per sampled model)."""
    post = idata["posterior"]
    out = []
    for node in nodes:
        names = [v for v in post.data_vars if ParamName.parse(str(v)).owner == node]
        if cfg.fast or cfg.chains < 2:
            rhat = ess_b = ess_t = None
        else:
            sub = post[names]
            rhat = float(max(float(az.rhat(sub)[v].max()) for v in names))
            ess_b = float(min(float(az.ess(sub, method="bulk")[v].min()) for v in names))
            ess_t = float(min(float(az.ess(sub, method="tail")[v].min()) for v in names))
        warns = []
        if rhat is not None and rhat > 1.01:
            warns.append(f"{node}: R-hat {rhat:.3f} > 1.01; run more --tune/--draws, or tighten this node's priors")
        if ess_b is not None and ess_b < MIN_ESS_PER_CHAIN * cfg.chains:
            warns.append(f"{node}: bulk ESS {ess_b:.0f} < {MIN_ESS_PER_CHAIN * cfg.chains} ({MIN_ESS_PER_CHAIN} per chain); increase --draws or --chains")
        if divergences and divergence_scope and node == nodes[0]:
            warns.append(
                f"{divergences} divergent transitions in {divergence_scope}; check the nodes with the worst R-hat/ESS, "
                "give their saturation parameters tighter priors, or refit with --sampler pymc"
            )
        out.append(NodeDiagnostics(node, block, rhat, ess_b, ess_t, divergences, warns))
    return out


def _block_owner(blocks: Sequence[tuple[str, ...]], exp_block: dict[str, int], latent_owner: dict[str, str] | None = None) -> Callable[[str], int | None]:
    """Which block a posterior variable belongs to (by its node, experiment or latent factor)."""
    latent_owner = latent_owner or {}

    def owner(name: str) -> int | None:
        if name.endswith("__"):  # unconstrained copies some samplers store
            return None
        pname = ParamName.parse(name)
        if pname.experiment is not None:
            return exp_block.get(pname.experiment)
        node = latent_owner.get(pname.owner, pname.owner)
        return next((i for i, b in enumerate(blocks) if node in b), None)

    return owner


def _split_by_block(
    idata: az.InferenceData, blocks: Sequence[tuple[str, ...]], exp_block: dict[str, int], latent_owner: dict[str, str] | None = None
) -> list[az.InferenceData]:
    """Split a jointly sampled posterior into one InferenceData per block (variables by node prefix)."""
    owner = _block_owner(blocks, exp_block, latent_owner)
    out = []
    for i in range(len(blocks)):
        names = [v for v in idata["posterior"].data_vars if owner(str(v)) == i]
        groups: dict[str, Any] = {"posterior": idata["posterior"][names]}  # group name -> xarray Dataset
        if "sample_stats" in idata.groups():
            groups["sample_stats"] = idata["sample_stats"]
        out.append(az.InferenceData(**groups))
    return out


def expand_media_groups(idata: az.InferenceData, spec: ModelSpec) -> az.InferenceData:
    """Name the draws of each media group's vectors (``node|*mediaN|key``) per edge (``node|source|key``),
    the names every query, check and saved run use; the vectors are dropped."""
    post = idata["posterior"]
    for node in spec.nodes:
        for g in media_groups(node):
            for key in (*g.first.param_names, "beta_ref"):
                vec = g.param(key)
                if vec not in post:
                    continue
                dim = next(d for d in post[vec].dims if d not in ("chain", "draw"))
                for i, e in enumerate(g.edges):
                    name = param_name(node.name, key, e.source)
                    if name not in post:  # a shared parameter already has its own Deterministic
                        post[name] = post[vec].isel({dim: i}, drop=True)
                post = post.drop_vars([vec] + ([dim] if dim in post.coords else []))
    idata["posterior"] = post
    return idata


def align_factor_signs(idata: az.InferenceData, spec: ModelSpec) -> az.InferenceData:
    """Give every chain the same orientation of each latent factor.

    When all of a factor's loadings are free, the model is symmetric under
    ``(z, loadings) -> (-z, -loadings)``: the posterior has two mirror-image
    modes with identical predictions, queries and experiment contrasts, and each
    chain settles in one of them. (Constraining one loading to be positive
    instead leaves a trap: a chain that starts in the mirror mode pins that
    loading at zero and stays there — measured on search_latent seed 1, R-hat
    1.83.) Each chain whose mean factor path anticorrelates with chain 0's is
    mirrored; then all chains are mirrored if needed so the first child's
    pooled loading is positive. Factors with a sign-constrained loading are
    left alone (the constraint already orients them).
    """
    post = idata["posterior"]
    for latent in spec.latents:
        children = spec.latent_children(latent)
        if any(spec.node(c).edge(latent).sign != "free" for c in children):
            continue
        zname = param_name(latent, "z")
        if zname not in post or post.sizes.get("chain", 1) < 1:
            continue
        flip_vars = [v for v in (zname, param_name(latent, "u")) if v in post]
        flip_vars += [param_name(c, "beta", latent) for c in children if param_name(c, "beta", latent) in post]
        zmean = post[zname].mean("draw").to_numpy()  # (chain, T)
        signs = np.array([1.0 if float(np.dot(zmean[c], zmean[0])) >= 0 else -1.0 for c in range(zmean.shape[0])])
        first = param_name(children[0], "beta", latent)
        if first in post:
            pooled = float((post[first].mean("draw").to_numpy() * signs).mean())
            signs = signs * (1.0 if pooled >= 0 else -1.0)
        if np.all(signs > 0):
            continue
        factor = xr.DataArray(signs, dims=("chain",), coords={"chain": post["chain"]})
        for v in flip_vars:
            post[v] = post[v] * factor
    return idata


def fit_model(
    spec: ModelSpec,
    data: Dataset,
    config: SamplerConfig | None = None,
    *,
    experiments: Sequence[Any] = (),
    progress: Callable[[str], None] | None = None,
    strategy: str = "joint",
) -> FitResult:
    """Fit every block; return posteriors (one InferenceData per block) and per-node diagnostics.

    Calibrating experiments tie the nodes their contrast involves into one
    block; holdout experiments are never used here. Blocks are independent
    posteriors. ``strategy="joint"`` samples them in one compiled model
    (compilation dominates wall time on small data, see docs/benchmarks.md);
    ``"separate"`` compiles and samples each block on its own. ``fast`` fits the Laplace approximation
    (:mod:`causalmmm.model.laplace`), whose Hessian is inverted block by block.
    """
    if strategy not in ("joint", "separate"):
        raise FitError(f"unknown strategy {strategy!r}", hint="use joint or separate")
    cfg = config or SamplerConfig()
    calibrating = [e for e in experiments if e.use == "calibrate"]
    latent_ties = [spec.latent_children(name) for name in spec.latents]
    blocks = fit_blocks(spec, calibration_ties(spec, calibrating) + latent_ties + spec.parameter_ties())  # shared carry-over ties nodes too
    exp_block = {e.name: next(i for i, b in enumerate(blocks) if set(involved_nodes(spec, e)) <= set(b)) for e in calibrating}
    joint = strategy == "joint"
    groups = [list(range(len(blocks)))] if joint else [[i] for i in range(len(blocks))]
    start = time.perf_counter()
    used = "laplace" if cfg.fast else resolve_sampler(cfg.sampler)  # the same for every block
    idatas: list[az.InferenceData | None] = [None] * len(blocks)
    diags: list[NodeDiagnostics] = []
    samplers: list[str] = []
    for g, members in enumerate(groups):
        nodes = [n for i in members for n in blocks[i]]
        if progress:
            progress(f"fitting {len(members)} block(s) ({', '.join(nodes)})" if joint else f"fitting block {g + 1}/{len(groups)}: {', '.join(nodes)}")
        exps = [e for e in calibrating if exp_block[e.name] in members]
        model = build_model(spec, data, nodes, exps)
        samplers.append(used)
        seed = cfg.seed * 1000 + g
        latent_owner = {name: spec.latent_children(name)[0] for name in spec.latents}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                if cfg.fast:
                    member_exps = {k: members.index(v) for k, v in exp_block.items() if v in members}
                    idata = laplace_posterior(model, cfg.draws, seed, _block_owner([blocks[i] for i in members], member_exps, latent_owner))
                else:
                    idata = _sample_nuts(model, cfg, seed, used)
            except FitError:
                raise
            except Exception as exc:  # sampler failures become one line
                raise_if_interrupted()  # PyMC turns an interrupted sampler into "not enough samples"
                other = "nutpie" if used == "pymc" else "pymc"
                raise FitError(
                    f"sampling failed for {', '.join(nodes)} ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})",
                    hint=f"check the data scales and priors; try --sampler {other}",
                ) from None
        idata = align_factor_signs(expand_media_groups(idata, spec), spec)
        parts = _split_by_block(idata, [blocks[i] for i in members], {k: members.index(v) for k, v in exp_block.items() if v in members}, latent_owner)
        n_div = 0 if cfg.fast else count_divergences(idata)
        scope = "the jointly sampled blocks" if len(members) > 1 else f"block {members[0]} ({', '.join(nodes)})"
        for j, (i, part) in enumerate(zip(members, parts)):
            idatas[i] = part
            diags.extend(_diagnose(part, blocks[i], i, cfg, n_div, scope if j == 0 else None))
    result = FitResult(blocks, [d for d in idatas if d is not None], diags, cfg, time.perf_counter() - start, samplers=samplers)
    result.warnings = posterior_warnings(spec, result.posterior_draws(), diags) + sampler_warnings(cfg)
    return result
