"""Shared fixtures: small deterministic data without sampling."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from seeds import ENV, seed_offset

os.environ.setdefault("PYTENSOR_FLAGS", "")
# Analysed raw-data experiments are cached (causalmmm.experiments.cache): in a folder of this test
# session, not the user's home, so every run starts cold and tests cannot see each other's results.
os.environ.setdefault("CAUSALMMM_CACHE_DIR", tempfile.mkdtemp(prefix="causalmmm-test-cache-"))
REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    seed_offset()  # a malformed CAUSALMMM_TEST_SEED stops the run before collection, with a usage error


def pytest_report_header(config: pytest.Config) -> str:
    return f"causalmmm test seed offset: {ENV}={seed_offset()} (every seeded test adds it to its seeds)"


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def example_graph():
    from causalmmm.graph import load_graph

    return load_graph(REPO / "graphs" / "marketing.dot")


@pytest.fixture
def random_frame(example_graph) -> pd.DataFrame:
    """156 weeks of positive noise for every observed node of the example graph."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"date": pd.date_range("2022-01-03", periods=156, freq="W-MON")})
    for n in example_graph.observed_nodes:
        df[n] = rng.gamma(5.0, 100.0, len(df))
    return df


@pytest.fixture
def random_data(example_graph, random_frame):
    from causalmmm.data import load_data

    return load_data(random_frame).validate_against(example_graph)
