"""``--sampler auto`` is PyMC's NUTS, calibrated or not; a named sampler is used as named; the run says which ran."""

from __future__ import annotations

import pytest

from causalmmm.errors import FitError
from causalmmm.model.fit import SamplerConfig, resolve_sampler
from causalmmm.model.run import sampler_label


def test_auto_is_pymc_nuts():
    assert SamplerConfig().sampler == "auto"
    assert resolve_sampler("auto") == "pymc"


@pytest.mark.parametrize("name", ["nutpie", "pymc", "numpyro"])
def test_a_named_sampler_is_always_used(name):
    assert resolve_sampler(name) == name


def test_unknown_sampler_is_one_error_listing_the_choices():
    with pytest.raises(FitError) as err:
        SamplerConfig(sampler="gibbs")
    assert "auto, nutpie, pymc, numpyro" in str(err.value.hint)


@pytest.mark.parametrize(
    "settings, used, label",
    [
        ({"sampler": "auto", "fast": False}, ["pymc"], "auto: pymc"),
        ({"sampler": "auto", "fast": False}, ["nutpie", "pymc"], "auto: nutpie+pymc"),
        ({"sampler": "nutpie", "fast": False}, ["nutpie"], "nutpie"),
        ({"sampler": "auto", "fast": True}, ["laplace"], "auto: laplace, fast"),
        ({"sampler": "nutpie", "fast": False}, None, "nutpie"),  # a run saved before sampled_with existed
    ],
)
def test_the_run_line_names_what_sampled(settings, used, label):
    summary = {"settings": settings, **({} if used is None else {"sampled_with": used})}
    assert sampler_label(summary) == label
