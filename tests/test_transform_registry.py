"""The transform registry: one entry per family, read by graph validation, the spec, the model and the docs."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from conftest import REPO

from causalmmm.errors import SpecError
from causalmmm.graph.causal_graph import ADSTOCKS as GRAPH_ADSTOCKS
from causalmmm.graph.causal_graph import SATURATIONS as GRAPH_SATURATIONS
from causalmmm.spec import EdgeSpec, edge_default_priors
from causalmmm.transforms import ADSTOCK_FAMILIES, ADSTOCKS, SATURATION_FAMILIES, SATURATIONS, adstock, saturate

POINT = {"alpha": 0.6, "theta": 1.5, "shape": 1.8, "scale": 3.0, "k": 0.9, "s": 1.7, "lam": 1.3}


def test_graph_validation_reads_the_registry():
    assert GRAPH_ADSTOCKS == ADSTOCKS == tuple(ADSTOCK_FAMILIES) + ("none",)
    assert GRAPH_SATURATIONS == SATURATIONS == tuple(SATURATION_FAMILIES) + ("none",)


@pytest.mark.parametrize("name", list(ADSTOCK_FAMILIES))
def test_each_adstock_family_is_one_function_for_numpy_and_pytensor(name):
    x = np.random.default_rng(0).gamma(2.0, 1.0, 30)
    params = {k: POINT[k] for k in ADSTOCK_FAMILIES[name].params}
    sym = {k: pt.scalar(k) for k in params}
    np.testing.assert_allclose(_adstock_pt(name, sym, x, params), adstock(x, name, params, 6, np), rtol=1e-10)


def _adstock_pt(name, sym, x, params):
    xv = pt.vector("x")
    f = pytensor.function([xv] + list(sym.values()), adstock(xv, name, sym, 6, pt))
    return f(x, *params.values())


@pytest.mark.parametrize("name", list(SATURATION_FAMILIES))
def test_each_saturation_family_is_one_function_for_numpy_and_pytensor(name):
    x = np.concatenate([[0.0], np.random.default_rng(1).gamma(2.0, 0.5, 20)])
    params = {k: POINT[k] for k in SATURATION_FAMILIES[name].params}
    sym = {k: pt.scalar(k) for k in params}
    xv = pt.vector("x")
    f = pytensor.function([xv] + list(sym.values()), saturate(xv, name, sym, pt))
    np.testing.assert_allclose(f(x, *params.values()), saturate(x, name, params, np), rtol=1e-10)
    y = saturate(x, name, params, np)
    assert y[0] == 0.0 and np.all(np.diff(y[np.argsort(x)]) >= -1e-12) and np.all(y < 1.0 + 1e-12)


def test_each_family_has_its_own_priors():
    logistic = edge_default_priors(EdgeSpec("x", "y", "none", "logistic", 1, 0, "positive"))["lam"]
    mm = edge_default_priors(EdgeSpec("x", "y", "none", "michaelis_menten", 1, 0, "positive"))["lam"]
    assert logistic.parameters != mm.parameters
    for fam in list(ADSTOCK_FAMILIES.values()) + list(SATURATION_FAMILIES.values()):
        assert set(fam.priors) == set(fam.params), fam.name


def test_unknown_family_is_our_error():
    with pytest.raises(SpecError, match="unknown adstock 'exp'; allowed: geometric, delayed, weibull, none"):
        adstock(np.ones(3), "exp", {}, 2, np)
    with pytest.raises(SpecError, match="unknown saturation 'tanh'"):
        saturate(np.ones(3), "tanh", {}, np)


def test_docs_list_every_family_with_its_formula():
    text = (REPO / "docs" / "file-formats.md").read_text()
    for fam in list(ADSTOCK_FAMILIES.values()) + list(SATURATION_FAMILIES.values()):
        assert f"`{fam.name}`" in text and fam.formula in text, fam.name
