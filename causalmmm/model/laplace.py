"""The fast fit: MAP plus a Laplace approximation, with two cheaply compiled functions per model.

The posterior is approximated by a Gaussian around the mode in PyMC's unconstrained space:

* the mode: BFGS on ``-log p`` with one compiled value-and-gradient function;
* the curvature: the Hessian by central differences of that analytic gradient at the mode (exact up to
  O(h²), independent of the optimiser's path; BFGS's running inverse-Hessian estimate is not);
* independence: parameters of different blocks share no term of the log density, so the Hessian is
  block-diagonal and each block is inverted on its own (one badly conditioned block cannot spoil another);
* the draws: ``mode + L z`` with ``L`` the Cholesky factor of the covariance, mapped back to the
  constrained parameters and every Deterministic by one compiled function.

Compilation is most of a fast fit's time, so both functions are compiled with two graph rewrites only
(:data:`COMPILE_MODE`): the Laplace path evaluates the log density a few hundred times, where PyTensor's
default rewrites (canonicalize, specialize, fusion) cost seconds to save microseconds per call.
"""

from __future__ import annotations

from typing import Callable, cast

import arviz as az
import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pymc.blocking import DictToArrayBijection
from pymc.logprob.utils import local_check_parameter_to_ninf_switch
from pymc.pytensorf import join_nonshared_inputs
from pytensor.compile.mode import Mode
from pytensor.graph.rewriting.basic import MergeOptimizer, SequentialGraphRewriter, in2out
from pytensor.tensor.variable import TensorVariable
from scipy import optimize

#: Relative step of the central differences (about the cube root of machine epsilon).
FD_STEP = 1e-5
#: Eigenvalues of a block's Hessian below this fraction of its largest are floored there (a flat direction:
#: a parameter at a boundary of its support). Its draws then spread widely and the posterior checks flag them.
MIN_CURVATURE = 1e-10
#: At most this many Newton steps after BFGS, until the largest gradient component is below GRAD_TOL.
NEWTON_STEPS = 5
GRAD_TOL = 1e-6
#: Two rewrites only: parameter checks become ``-inf`` (as in every PyMC function) and duplicate
#: subgraphs are merged. On the bundled example (CPU seconds, bench/bench_speed.py's fast fit) compiling
#: logp + gradient took 24.6 s with ``optimizer="fast_compile"`` (canonicalize and specialize) and
#: 14.7 s with these two; an evaluation costs about 2 ms either way.
COMPILE_MODE = Mode(
    linker="cvm",
    optimizer=SequentialGraphRewriter(  # type: ignore[arg-type]  # a rewriter is accepted
        in2out(local_check_parameter_to_ninf_switch), MergeOptimizer()
    ),
)


def _hessian(grad: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """Hessian of the function whose gradient is ``grad``, by central differences, symmetrised."""
    n = x.size
    h = FD_STEP * np.maximum(1.0, np.abs(x))
    H = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = h[i]
        H[:, i] = (grad(x + e) - grad(x - e)) / (2.0 * h[i])
    return 0.5 * (H + H.T)


def _newton_polish(loss: Callable[[np.ndarray], tuple[float, np.ndarray]], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps from the optimiser's answer (quasi-Newton methods stop on a small relative fall of the loss,
    which can leave the gradient far from zero along weakly curved directions); each step is kept only if the
    loss falls. Returns the point and the Hessian there."""
    H = _hessian(lambda z: loss(z)[1], x)
    for _ in range(NEWTON_STEPS):
        f, g = loss(x)
        if float(np.max(np.abs(g))) < GRAD_TOL:
            break
        vals, vecs = np.linalg.eigh(H)
        if vals.min() <= 0:
            break
        step = vecs @ ((vecs.T @ g) / vals)
        for scale in (1.0, 0.5, 0.25):
            if loss(x - scale * step)[0] < f:
                x = x - scale * step
                break
        else:
            break
        H = _hessian(lambda z: loss(z)[1], x)
    return x, H


def _block_cholesky(H: np.ndarray, block: np.ndarray) -> np.ndarray:
    """Cholesky factor of the covariance (the inverse of ``H``), computed block by block."""
    L = np.zeros_like(H)
    for b in np.unique(block):
        idx = np.flatnonzero(block == b)
        vals, vecs = np.linalg.eigh(H[np.ix_(idx, idx)])
        floor = MIN_CURVATURE * max(float(vals.max()), 1e-300)
        cov = (vecs / np.maximum(vals, floor)) @ vecs.T
        L[np.ix_(idx, idx)] = np.linalg.cholesky(0.5 * (cov + cov.T))
    return L


def neg_logp_and_grad(model: pm.Model, point: dict[str, np.ndarray]) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """``x -> (-log p(x), -∇ log p(x))`` on the raveled unconstrained values (the order of ``point``'s
    continuous value variables), compiled with :data:`COMPILE_MODE`. Outside the support the loss is
    ``+inf`` with a zero gradient, so a line search backs off."""
    value_vars = model.continuous_value_vars
    terms = [pt.sum(t) for t in model.logp(sum=False)]  # every prior, likelihood and potential, with Jacobians
    total = pt.sum(pt.stack(terms))
    grads = cast(list[TensorVariable], pytensor.grad(total, value_vars))
    grad = pt.concatenate([g.ravel() for g in grads])
    outs, x = join_nonshared_inputs(point, [total, grad], value_vars)
    fn = pytensor.function([x], outs, mode=COMPILE_MODE)

    def loss(z: np.ndarray) -> tuple[float, np.ndarray]:
        lp, g = fn(z)
        if not np.isfinite(lp) or not np.all(np.isfinite(g)):
            return np.inf, np.zeros_like(z)
        return -float(lp), -np.asarray(g, dtype=float)

    return loss


def laplace_posterior(model: pm.Model, draws: int, seed: int, block_of: Callable[[str], object] | None = None) -> az.InferenceData:
    """``draws`` from the Laplace approximation of ``model``'s posterior, as an InferenceData with one chain.

    ``block_of`` maps a free variable's name to its block (variables of different blocks must not share a
    term of the log density); None treats the whole model as one block.
    """
    point = model.initial_point(random_seed=seed)
    x0 = DictToArrayBijection.map({v.name: point[v.name] for v in model.continuous_value_vars})  # the gradient's order
    loss = neg_logp_and_grad(model, point)
    res = optimize.minimize(loss, x0.data, jac=True, method="BFGS", options={"gtol": GRAD_TOL, "maxiter": 5000})
    if not np.isfinite(res.fun):
        raise FloatingPointError("the optimiser found no point of finite log density")
    mode, H = _newton_polish(loss, res.x)
    rv_of = {model.rvs_to_values[rv].name: rv.name for rv in model.free_RVs}
    labels: list[str] = []
    for name, _shape, size, _dtype in x0.point_map_info:
        labels += [str(block_of(rv_of[name]) if block_of else 0)] * size
    codes = np.unique(labels, return_inverse=True)[1]
    L = _block_cholesky(H, codes)
    rng = np.random.default_rng(seed)
    unconstrained = mode + rng.standard_normal((draws, mode.size)) @ L.T
    outs = model.unobserved_value_vars
    to_values = pytensor.function(model.value_vars, outs, mode=COMPILE_MODE, on_unused_input="ignore")
    names = [v.name for v in outs]
    samples: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for u in unconstrained:
        at = DictToArrayBijection.rmap(x0._replace(data=u))
        vals = to_values(*[at[v.name] for v in model.value_vars])
        for n, v in zip(names, vals):
            samples[n].append(np.asarray(v))
    keep = {n: np.stack(v)[None, ...] for n, v in samples.items() if not n.endswith("__")}
    return az.from_dict(posterior=keep)
