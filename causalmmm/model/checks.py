"""Posterior checks that turn a fit's quiet failures into warnings (:class:`ModelWarning`).

* ``adstock_tail``: the carry-over is cut off by ``l_max``. The edge's adstock
  family is evaluated over four times its window; the share of the carry-over
  weight beyond ``l_max`` (posterior mean) above :data:`TAIL_SHARE` means the
  model drops real carry-over (geometric: the share is ``alpha**l_max``).
* ``sign_binding``: a sign-constrained coefficient's posterior piles up at zero.
  A posterior truncated at zero whose unconstrained centre is at or below zero
  has mean/sd <= 1.32 (the half-normal's ratio; an exponential-like pile-up is
  ~1); a coefficient the data place clearly away from zero has a much larger
  ratio. Below :data:`SIGN_RATIO` the data do not support the declared sign.
* ``convergence``: R-hat, ESS and divergences from the per-node diagnostics, graded by what Monte-Carlo
  error does to the numbers a user reads: high (R-hat > 1.05 or 10+ divergences on any parameter, or the
  chains disagree on a channel's total ROAS), medium (some divergences, or a channel's total-ROAS draws
  through the node have under 100 effective draws), low otherwise (a nuisance parameter mixes slowly,
  short chains). Without ROAS draws (old runs) a node under 100 effective draws is medium.
* ``spend_extrapolation``: a channel's spend never goes low, so most of its do(0) effect lies on the part
  of the saturation curve below the lowest observed spend (the prior's, not the data's).
* ``nonfinite_draws``: a node's draws contain inf or NaN (the fast Laplace approximation at a
  sign boundary, a diverged chain); every number computed from them is suspect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import networkx as nx
import numpy as np

from causalmmm.fmt import num, pct
from causalmmm.model.equations import ParamName, edge_input, param_name
from causalmmm.model_warnings import ModelWarning
from causalmmm.spec import EdgeSpec, ModelSpec
from causalmmm.transforms import ADSTOCK_PARAMS, adstock_weights

if TYPE_CHECKING:
    import xarray as xr

    from causalmmm.model.calibration import Experiment
    from causalmmm.model.fit import NodeDiagnostics

TAIL_SHARE = 0.10
TAIL_TARGET = 0.05  # the suggested l_max leaves at most this share beyond it
SIGN_RATIO = 1.35
MAX_SUGGESTED_L_MAX = 104
#: spend_extrapolation: above these posterior-mean unseen shares, total ROAS is mostly the saturation prior's.
UNSEEN_MEDIUM = 0.20
UNSEEN_HIGH = 0.40
#: Convergence grades (:func:`convergence_severity`).
RHAT_OK = 1.01
RHAT_SEVERE = 1.05
MANY_DIVERGENCES = 10
MIN_ESS_TOTAL = 100
#: A parameter at fault is named with its most correlated sibling in the node when |r| is at least this.
CORRELATED = 0.7


def tail_share(kind: str, params: Mapping[str, np.ndarray | float], l_max: int, horizon: int | None = None) -> np.ndarray:
    """Per draw: the share of the adstock's carry-over weight beyond ``l_max`` (over ``horizon`` lags)."""
    h = horizon or 4 * l_max
    w = np.asarray(adstock_weights(kind, {k: np.asarray(v, dtype=float) for k, v in params.items()}, h, np))
    return w[..., l_max:].sum(axis=-1)


def suggested_l_max(kind: str, params: Mapping[str, float], l_max: int) -> int:
    """The smallest window that keeps all but :data:`TAIL_TARGET` of the carry-over (at the posterior mean)."""
    for candidate in range(l_max + 1, MAX_SUGGESTED_L_MAX + 1):
        if float(tail_share(kind, params, candidate, horizon=4 * MAX_SUGGESTED_L_MAX)) <= TAIL_TARGET:
            return candidate
    return MAX_SUGGESTED_L_MAX


def adstock_tail_warnings(spec: ModelSpec, draws: Mapping[str, np.ndarray]) -> list[ModelWarning]:
    out = []
    for node in spec.nodes:
        for e in node.edges:
            if e.adstock == "none" or e.l_max < 1:
                continue
            names = {k: param_name(node.name, k, e.source) for k in ADSTOCK_PARAMS[e.adstock]}
            if not all(n in draws for n in names.values()):
                continue
            params = {k: np.asarray(draws[n], dtype=float) for k, n in names.items()}
            share = float(np.mean(tail_share(e.adstock, params, e.l_max)))
            if share > TAIL_SHARE:
                means = {k: float(np.mean(v)) for k, v in params.items()}
                better = suggested_l_max(e.adstock, means, e.l_max)
                out.append(
                    ModelWarning(
                        "adstock_tail",
                        f"{e.source} -> {node.name}",
                        f"l_max={e.l_max} cuts off {share:.0%} of the fitted carry-over ({e.adstock}, "
                        + ", ".join(f"{k}={num(v)}" for k, v in means.items())
                        + "); effects beyond the window are lost",
                        f"set l_max={better} on this edge (keeps 95% of the carry-over) and refit",
                        "medium",
                    )
                )
    return out


def _magnitude(node: str, e: EdgeSpec, draws: Mapping[str, np.ndarray]) -> np.ndarray | None:
    name = param_name(node, "beta_ref" if e.saturation != "none" else "beta", e.source)
    if name not in draws:
        name = param_name(node, "beta", e.source)
    return np.asarray(draws[name], dtype=float) if name in draws else None


def sign_binding_warnings(spec: ModelSpec, draws: Mapping[str, np.ndarray]) -> list[ModelWarning]:
    out = []
    for node in spec.nodes:
        for e in node.edges:
            if e.sign == "free" or e.source in spec.latents:
                continue
            mag = _magnitude(node.name, e, draws)
            if mag is None or mag.size < 10:
                continue
            sd = float(np.std(mag))
            ratio = float(np.mean(mag)) / sd if sd > 0 else np.inf
            if ratio < SIGN_RATIO:
                other = "negative" if e.sign == "positive" else "positive"
                out.append(
                    ModelWarning(
                        "sign_binding",
                        f"{e.source} -> {node.name}",
                        f"the {e.sign} coefficient's posterior piles up at zero (mean/sd {ratio:.2f} < {SIGN_RATIO}): "
                        f"the data do not support a {e.sign} effect, so the constraint may be clamping a {other} or zero one",
                        f"refit with sign=free on this edge (or sign={other} if the business expects it) and compare",
                        "high",
                    )
                )
    return out


def _diag(d: NodeDiagnostics | Mapping[str, Any], key: str, default: Any = None) -> Any:
    return d.get(key, default) if isinstance(d, Mapping) else getattr(d, key, default)


def convergence_severity(r_hat: float | None, ess_bulk: float | None, divergences: int) -> str | None:
    """How far a node's sampler diagnostics alone are from trustworthy: None (fine), low, medium or high.

    * high: R-hat > :data:`RHAT_SEVERE` or at least :data:`MANY_DIVERGENCES` divergences: the chains disagree
      and every number depending on the node is provisional;
    * medium: some divergences, or fewer than :data:`MIN_ESS_TOTAL` effective draws;
    * low: R-hat above :data:`RHAT_OK` (short chains: the intervals are rough; the estimate is not in doubt).

    This is the grade without the reported quantities; :func:`convergence_warnings` given ROAS diagnostics
    regrades an ESS-only medium by the ESS of the channel ROAS that depend on the node.
    """
    r = float(r_hat) if r_hat is not None else 1.0
    if r > RHAT_SEVERE or divergences >= MANY_DIVERGENCES:
        return "high"
    if divergences > 0 or (ess_bulk is not None and float(ess_bulk) < MIN_ESS_TOTAL):
        return "medium"
    return "low" if r > RHAT_OK else None


@dataclass(frozen=True)
class QuantityDiagnostics:
    """R-hat and bulk/tail ESS of one reported quantity, e.g. a channel's total ROAS per draw."""

    name: str
    r_hat: float
    ess_bulk: float
    ess_tail: float

    @classmethod
    def of(cls, name: str, draws: np.ndarray) -> QuantityDiagnostics:
        """``draws`` shaped (chains, draws) (arviz's rank-normalised R-hat and ESS)."""
        import arviz as az

        x = np.asarray(draws, dtype=float)
        if x.ndim != 2 or x.shape[0] < 2 or not np.all(np.isfinite(x)):
            return cls(name, float("nan"), float("nan"), float("nan"))
        return cls(name, float(az.rhat(x)), float(az.ess(x, method="bulk")), float(az.ess(x, method="tail")))

    @property
    def severity(self) -> str | None:
        """high: the chains disagree on it (R-hat > :data:`RHAT_SEVERE`); medium: under :data:`MIN_ESS_TOTAL`
        bulk or tail effective draws (its mean's Monte-Carlo error above a tenth of its posterior sd, or its
        interval ends rough); None: fine or not computable."""
        if self.r_hat > RHAT_SEVERE:
            return "high"
        if min(self.ess_bulk, self.ess_tail) < MIN_ESS_TOTAL:
            return "medium"
        return None

    def text(self) -> str:
        return f"{self.name} R-hat {self.r_hat:.3f}, bulk ESS {self.ess_bulk:.0f}, tail ESS {self.ess_tail:.0f}"


@dataclass(frozen=True)
class WorstParameter:
    """The parameter of a node with the smallest bulk ESS, and its most correlated sibling (if |r| >= CORRELATED)."""

    name: str
    ess_bulk: float
    partner: str | None = None
    correlation: float | None = None

    def text(self) -> str:
        pair = f", correlated with {self.partner} (r = {self.correlation:+.2f})" if self.partner and self.correlation is not None else ""
        return f"its slowest parameter {self.name} has bulk ESS {self.ess_bulk:.0f}{pair}"


def _scalar_draws(post: xr.Dataset, name: str) -> list[tuple[str, np.ndarray]]:
    """Flattened (chain*draw) draws of each element of ``post[name]``, labelled ``name`` or ``name[i]``."""
    arr = post[name].to_numpy()
    flat = arr.reshape(arr.shape[0] * arr.shape[1], -1)
    return [(name if flat.shape[1] == 1 else f"{name}[{i}]", flat[:, i]) for i in range(flat.shape[1])]


def worst_parameter(post: xr.Dataset, node: str) -> WorstParameter | None:
    """The slowest-mixing parameter of ``node`` in one block's posterior (None without two chains)."""
    import arviz as az

    names = [str(v) for v in post.data_vars if ParamName.parse(str(v)).owner == node]
    if not names or post.sizes.get("chain", 0) < 2:
        return None
    ess = az.ess(post[names], method="bulk")
    per: list[tuple[str, float]] = []
    for v in names:
        values = np.atleast_1d(ess[v].to_numpy()).ravel()
        per += [(v if values.size == 1 else f"{v}[{i}]", float(x)) for i, x in enumerate(values) if np.isfinite(x)]
    if not per:
        return None
    label, value = min(per, key=lambda t: t[1])
    scalars = dict(kv for v in names for kv in _scalar_draws(post, v))
    x = scalars[label]
    best, r_best = None, 0.0
    for other, y in scalars.items():
        if other == label or np.std(x) == 0 or np.std(y) == 0:
            continue
        r = float(np.corrcoef(x, y)[0, 1])
        if abs(r) > abs(r_best):
            best, r_best = other, r
    if best is None or abs(r_best) < CORRELATED:
        return WorstParameter(label, value)
    return WorstParameter(label, value, best, r_best)


def _diagnostics_text(r_hat: float | None, ess_bulk: float | None, divergences: int) -> str:
    parts = [f"max R-hat {float(r_hat):.3f}" if r_hat is not None else "", f"min bulk ESS {float(ess_bulk):.0f}" if ess_bulk is not None else ""]
    parts.append(f"{divergences} divergent transitions" if divergences else "")
    return ", ".join(p for p in parts if p) or "sampler diagnostics flagged"


def suggested_draws(draws: int | None, ess: float | None, target: float = 1.5 * MIN_ESS_TOTAL) -> int | None:
    """Draws per chain that should lift ``ess`` to ``target`` (ESS grows about linearly with draws), in hundreds."""
    if not draws or not ess or not math.isfinite(ess) or ess <= 0:
        return None
    return max(2 * int(draws), int(math.ceil(draws * target / ess / 100.0)) * 100)


def _more_draws(draws: int | None, ess: float | None) -> str:
    n = suggested_draws(draws, ess)
    return f"rerun with --draws {n}" if n else "run more --tune/--draws"


def _grade(d: NodeDiagnostics | Mapping[str, Any], reported: Sequence[QuantityDiagnostics] | None) -> str | None:
    """The node's severity: its own diagnostics, regraded by the reported quantities through it when given."""
    r_hat, ess, div = _diag(d, "r_hat_max"), _diag(d, "ess_bulk_min"), int(_diag(d, "divergences", 0) or 0)
    base = convergence_severity(r_hat, ess, div)
    if reported is None:
        return base
    grades = {q.severity for q in reported}
    if base == "high" or "high" in grades:
        return "high"
    if div > 0 or "medium" in grades:
        return "medium"
    if base is not None or _diag(d, "warnings"):
        return "low"
    return None


def convergence_warnings(
    diagnostics: Sequence[NodeDiagnostics | Mapping[str, Any]],
    roas: Mapping[str, QuantityDiagnostics] | None = None,
    channels_through: Mapping[str, Sequence[str]] | None = None,
    worst: Mapping[str, WorstParameter] | None = None,
    draws: int | None = None,
) -> list[ModelWarning]:
    """One ``convergence`` warning per node with sampler problems.

    ``diagnostics``: :class:`causalmmm.model.fit.NodeDiagnostics` or their saved dicts (``summary["diagnostics"]``).
    Without ``roas`` each node is graded by :func:`convergence_severity` alone. With ``roas`` (channel ->
    :class:`QuantityDiagnostics` of its total ROAS per draw) and ``channels_through`` (node -> the channels
    whose total ROAS depends on its equation), a node's low ESS is medium only when the ROAS through it is
    under :data:`MIN_ESS_TOTAL` effective draws, else low; R-hat > :data:`RHAT_SEVERE` or many divergences stay
    high, divergences medium. ``worst`` (node -> its slowest parameter) and ``draws`` (per chain) make the
    message and the fix specific. A channel whose ROAS mixes badly with no flagged node gets its own warning.
    """
    out = []
    blamed: set[str] = set()
    for d in diagnostics:
        node = str(_diag(d, "node", "?"))
        r_hat, ess, div = _diag(d, "r_hat_max"), _diag(d, "ess_bulk_min"), int(_diag(d, "divergences", 0) or 0)
        through = [roas[c] for c in (channels_through or {}).get(node, ()) if c in roas] if roas is not None else None
        severity = _grade(d, through)
        if severity is None and not _diag(d, "warnings"):
            continue
        severity = severity or "low"
        text = _diagnostics_text(r_hat, ess, div)
        at_fault = (worst or {}).get(node)
        fault = f"; {at_fault.text()}" if at_fault else ""
        fix = "run more --tune/--draws, tighten this node's priors, or refit with --sampler pymc"
        if through is not None:
            bad = [q for q in through if q.severity is not None]
            if severity in ("high", "medium"):
                blamed.update(q.name for q in bad)
            reported = "; total ROAS: " + "; ".join(q.text() for q in (bad or through)) if through else ""
        else:
            bad, reported = [], ""
        if severity == "high":
            text = f"the sampler did not converge ({text}{fault}{reported}): every number that depends on {node} is provisional"
        elif severity == "medium" and bad and not div:
            worst_ess = min(min(q.ess_bulk, q.ess_tail) for q in bad)
            text = (
                f"Monte-Carlo error reaches the reported numbers ({text}{fault}{reported}): under {MIN_ESS_TOTAL} effective "
                "draws, a ROAS mean's Monte-Carlo error exceeds a tenth of its posterior sd and its interval ends are rough"
            )
            fix = f"{_more_draws(draws, worst_ess)}" + (
                f"; if it stays low, tighten the prior of {at_fault.name} or {at_fault.partner} (the pair trades off) or reparameterise"
                if at_fault and at_fault.partner
                else "; if it stays low, tighten this node's priors"
            )
        elif severity == "medium":
            text = f"{text}{fault}{reported}"
        elif through is not None and ess is not None and float(ess) < MIN_ESS_TOTAL:
            what = at_fault.text().replace("its slowest parameter", "parameter") if at_fault else f"a parameter has bulk ESS {float(ess):.0f}"
            safe = (
                f"the total ROAS through {node} is well mixed ({'; '.join(q.text() for q in through)})"
                if through
                else f"no channel's total ROAS depends on {node}'s equation"
            )
            pair = "; the data pin down the pair's combination, which the ROAS uses" if at_fault and at_fault.partner else ""
            text = f"one parameter mixes slowly ({text}): {what}, but {safe}{pair}; the reported numbers are not in doubt"
            fix = f"for tighter intervals on {at_fault.name if at_fault else 'that parameter'}, {_more_draws(draws, float(ess))}"
        else:
            text = f"short chains ({text}{fault}): the intervals are rough, the estimate is not in doubt"
        out.append(ModelWarning("convergence", node, text, fix, severity))
    for q in (roas or {}).values():
        if q.severity is not None and q.name not in blamed:
            out.append(
                ModelWarning(
                    "convergence",
                    q.name,
                    f"the total ROAS of {q.name} mixes badly ({q.text()}) although no node's parameters were flagged as badly mixed",
                    _more_draws(draws, min(q.ess_bulk, q.ess_tail)),
                    q.severity,
                )
            )
    return out


def nonfinite_warnings(spec: ModelSpec, draws: Mapping[str, np.ndarray]) -> list[ModelWarning]:
    """Posterior draws that are inf or NaN (a Laplace approximation at a sign boundary, a diverged chain)."""
    out = []
    for node in spec.nodes:
        bad = [name for name, v in draws.items() if ParamName.parse(name).owner == node.name and not np.all(np.isfinite(np.asarray(v, dtype=float)))]
        if bad:
            out.append(
                ModelWarning(
                    "nonfinite_draws",
                    node.name,
                    f"{len(bad)} parameter(s) have infinite or NaN draws ({', '.join(bad[:3])})",
                    "refit without --fast (NUTS), or give these parameters tighter priors",
                    "high",
                )
            )
    return out


def confounding_warnings(spec: ModelSpec, experiments: Sequence[Experiment] = ()) -> list[ModelWarning]:
    """``confounded_mechanism``: an equation with an open backdoor path (a latent confounder no observed set
    blocks). Without a calibrating experiment through it, every effect through that node rests on an
    unidentified coefficient (severity high); with one, on that experiment (medium). ``latent_factor``: a
    node identified only under the shared factor's assumptions (low)."""
    from causalmmm.model.calibration import involved_nodes

    calibrated: dict[str, list[str]] = {}
    for e in experiments:
        if getattr(e, "use", None) == "calibrate":
            for n in involved_nodes(spec, e):
                calibrated.setdefault(n, []).append(str(e.name))
    g = spec.causal_digraph()
    out = []
    for node in spec.nodes:
        factors = [p for p in node.latent_parents if p in spec.latents]
        if node.confounded:
            channels = sorted(c for c in g.nodes if c in spec.exogenous and node.name in nx.descendants(g, c) | {c})
            via = calibrated.get(node.name)
            what = (
                f"{node.name}'s equation is confounded by latent {', '.join(node.latent_parents)} (no observed variable "
                f"blocks the backdoor path), so effects through it"
            )
            if via:
                out.append(
                    ModelWarning(
                        "confounded_mechanism",
                        node.name,
                        f"{what} are identified only by the experiment(s) {', '.join(via)}",
                        "keep those experiments current; observe the latent variable or a proxy to check them",
                        "medium",
                    )
                )
            else:
                out.append(
                    ModelWarning(
                        "confounded_mechanism",
                        node.name,
                        f"{what} are not identified by the data: the estimate{'s of ' + ', '.join(channels) if channels else ''} can be biased by any amount",
                        "calibrate with an experiment on a channel through this node (see `causalmmm graph identify`), "
                        "or observe the latent variable or a proxy of it",
                        "high",
                    )
                )
        elif factors:
            out.append(
                ModelWarning(
                    "latent_factor",
                    node.name,
                    f"{node.name}'s latent parent(s) {', '.join(factors)} are modelled as one shared factor: identified "
                    "only under the factor model's assumptions (one common cause, linear loadings)",
                    "calibrate a channel through this node with an experiment to check the factor",
                    "low",
                )
            )
    return out


def unseen_share(e: EdgeSpec, params: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Per draw, ``f(z_min) / mean_t f(z_t)`` for the scaled spend series ``x``: the share of the do(spend = 0)
    contrast on the child that lies below the lowest input the data show (warm-up periods excluded)."""
    p = {k: np.asarray(v, dtype=float) for k, v in params.items()}
    fx = np.atleast_2d(np.asarray(edge_input(e, p, x, np), dtype=float))  # (S, T)
    seen = fx[:, max(e.l_max - 1, 0) + e.lag :]
    return seen.min(axis=1) / np.maximum(fx.mean(axis=1), 1e-12)  # f increases with z: min f = f(z_min)


def extrapolation_warnings(
    spec: ModelSpec, draws: Mapping[str, np.ndarray], series: Mapping[str, np.ndarray], experiments: Sequence[Experiment] = ()
) -> list[ModelWarning]:
    """``spend_extrapolation``: a saturating spend edge whose do(0) effect lies mostly below the lowest observed
    spend, where the curve is the saturation prior's, not the data's. Severity by the unseen share
    (:data:`UNSEEN_MEDIUM`, :data:`UNSEEN_HIGH`); low when a calibrating experiment switches that channel."""
    tested: dict[str, list[str]] = {}
    for ex in experiments:
        if getattr(ex, "use", None) == "calibrate" and getattr(ex, "treatment", None):
            tested.setdefault(str(ex.treatment), []).append(str(ex.name))
    out = []
    for node in spec.nodes:
        for e in node.edges:
            if e.is_adjustment or e.saturation == "none" or e.source not in spec.exogenous or e.source not in series:
                continue
            names = {k: param_name(node.name, k, e.source) for k in e.param_names if k != "beta"}
            if not all(n in draws for n in names.values()):
                continue
            share = float(np.mean(unseen_share(e, {k: draws[n] for k, n in names.items()}, np.asarray(series[e.source], dtype=float))))
            if share <= UNSEEN_MEDIUM:
                continue
            low = float(np.min(series[e.source]) / max(float(np.mean(series[e.source])), 1e-300))
            message = (
                f"{pct(share)} of the effect of switching {e.source} off lies below its lowest observed spend ({pct(low)} of its mean): "
                f"total contribution and ROAS there follow the {e.saturation} prior, not the data (marginal ROAS at current spend is identified)"
            )
            if e.source in tested:
                message += f"; the calibrating experiment {', '.join(tested[e.source])} anchors it"
                severity = "low"
            else:
                severity = "high" if share > UNSEEN_HIGH else "medium"
            fix = f"calibrate with a go-dark or low-spend experiment on {e.source}, or decide on marginal ROAS"
            out.append(ModelWarning("spend_extrapolation", f"{e.source} -> {node.name}", message, fix, severity))
    return out


def posterior_warnings(spec: ModelSpec, draws: Mapping[str, np.ndarray], diagnostics: Sequence[NodeDiagnostics] = ()) -> list[ModelWarning]:
    """Every posterior check of this module."""
    return nonfinite_warnings(spec, draws) + adstock_tail_warnings(spec, draws) + sign_binding_warnings(spec, draws) + convergence_warnings(diagnostics)
