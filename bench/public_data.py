"""pymc-marketing's public example data as test worlds: data, the graph a user would write, the truth.

Two files are vendored in ``tests/data/`` (source, licence and column meanings in its README):

* ``mmm_example.csv``: two channels (x1 steady, x2 in bursts), geometric adstock (l_max 8),
  logistic saturation, a concave trend, yearly seasonality, two one-week events; y is 1000 × the
  notebook's DGP. The CSV keeps no intermediate columns, so the truth is recomputed here from the
  documented DGP (:func:`example_truth`); the test suite checks that this DGP reproduces the
  CSV's y to rounding, noise included, from the notebook's seed.
* ``mmm_roas_data.csv``: a confounder z drives x1 and y; the file carries every intermediate
  column (adstocked, saturated, effects) and y without each channel (``y01``, ``y02``), so the
  truth is read from it (:func:`roas_truth`).

Truth is causalmmm's total ROAS over the whole data (docs/concepts.md): ``Σ_t [y_t − y_t(do(x = 0)
for all t in the data)] / Σ_t x_t``, spend before the data's first week carrying over in both arms.
The notebooks' own "true ROAS" removes a channel's effect entirely, pre-data carry-over included;
both are reported (:class:`PublicWorld.truth` and ``truth_documented``). Neither file has spend
before its first week, so the two coincide (checked in tests/test_public_data.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from causalmmm.experiments.schema import Experiment
from causalmmm.graph.causal_graph import CausalGraph
from causalmmm.intervention import Intervention

DATA_DIR = Path(__file__).resolve().parents[1] / "tests" / "data"
EXAMPLE_CSV = DATA_DIR / "mmm_example.csv"
ROAS_CSV = DATA_DIR / "mmm_roas_data.csv"

#: mmm_example's DGP (pymc-marketing docs/source/notebooks/mmm/mmm_example.ipynb, "Data Generation Process").
EXAMPLE_DGP: dict[str, Any] = {
    "seed": "sum(map(ord, 'mmm'))",
    "scale": 1000.0,
    "intercept": 2.0,
    "noise_sd": 0.25,
    "l_max": 8,
    "x1": {"alpha": 0.4, "lam": 4.0, "beta": 3.0},
    "x2": {"alpha": 0.2, "lam": 3.0, "beta": 2.0},
    "events": {"event_1": ("2019-05-13", 1.5), "event_2": ("2020-09-14", 2.5)},
}
#: mmm_roas_data's DGP as its columns pin it down (checked exactly in tests/test_public_data.py).
ROAS_DGP: dict[str, Any] = {
    "amplitude": 100.0,
    "l_max": 4,
    "x1": {"alpha": 0.3, "lam": 1.0, "beta": 2.0},
    "x2": {"alpha": 0.5, "lam": 2.5, "beta": 1.5},
}
#: Two go-dark experiments for mmm_roas (8 weeks each), as in the issue: measured without bias, se 10% of the effect.
ROAS_EXPERIMENTS: dict[str, tuple[str, str, str]] = {
    "x1_dark": ("x1", "2022-06-04", "2022-07-23"),
    "x2_dark": ("x2", "2023-06-03", "2023-07-22"),
}
EXPERIMENT_SE_SHARE = 0.10


@dataclass
class PublicWorld:
    """A public data set as a test world."""

    name: str
    frame: pd.DataFrame  # the columns a user would model, with a ``date`` column
    graph: CausalGraph
    truth: dict[str, float]  # causalmmm total ROAS per channel over the whole data
    truth_documented: dict[str, float]  # the source notebook's own "true ROAS"
    experiments: list[Experiment] = field(default_factory=list)
    experiment_truth: dict[str, float] = field(default_factory=dict)
    notes: str = ""


# ---------------------------------------------------------------- transforms (the DGPs' own definitions)
def geometric_adstock(x: np.ndarray, alpha: float, l_max: int) -> np.ndarray:
    """Normalised geometric adstock, zero before the first period (pymc-marketing's ``normalize=True``)."""
    w = alpha ** np.arange(l_max)
    w = w / w.sum()
    out = np.zeros(len(x))
    for lag, weight in enumerate(w):
        out[lag:] += weight * np.asarray(x, dtype=float)[: len(x) - lag]
    return out


def logistic_saturation(x: np.ndarray, lam: float) -> np.ndarray:
    return (1.0 - np.exp(-lam * x)) / (1.0 + np.exp(-lam * x))


# ---------------------------------------------------------------- mmm_example
def example_frame() -> pd.DataFrame:
    """mmm_example.csv with the date column renamed to ``date`` (the model's columns: y, x1, x2, events)."""
    raw = pd.read_csv(EXAMPLE_CSV)
    return raw.rename(columns={"date_week": "date"})[["date", "y", "x1", "x2", "event_1", "event_2"]]


def example_dgp_y(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The notebook's DGP evaluated on the CSV's spend: each component of y (data units) and its noise-free mean."""
    dates = pd.DatetimeIndex(pd.to_datetime(frame["date"]))
    n, d, s = len(frame), EXAMPLE_DGP, EXAMPLE_DGP["scale"]
    doy = dates.day_of_year.to_numpy()
    parts = {
        "intercept": np.full(n, d["intercept"]),
        "trend": (np.linspace(0.0, 50.0, n) + 10.0) ** 0.25 - 1.0,
        "seasonality": 0.5 * (-np.sin(2 * 2 * np.pi * doy / 365.5) + np.cos(2 * np.pi * doy / 365.5)),
    }
    for event, (day, size) in d["events"].items():
        parts[event] = size * (dates == pd.Timestamp(day)).astype(float)
    for ch in ("x1", "x2"):
        p = d[ch]
        parts[ch] = p["beta"] * logistic_saturation(geometric_adstock(frame[ch].to_numpy(float), p["alpha"], d["l_max"]), p["lam"])
    out = {k: s * v for k, v in parts.items()}
    out["mean"] = sum(out.values())
    return out


def example_noise() -> np.ndarray:
    """The notebook's noise, redrawn from its seed (after the two spend series, as the notebook draws them)."""
    n = len(pd.read_csv(EXAMPLE_CSV))
    rng = np.random.default_rng(sum(map(ord, "mmm")))
    rng.uniform(0.0, 1.0, size=n)
    rng.uniform(0.0, 1.0, size=n)
    return EXAMPLE_DGP["scale"] * rng.normal(0.0, EXAMPLE_DGP["noise_sd"], size=n)


def example_truth(frame: pd.DataFrame | None = None) -> dict[str, float]:
    """Total ROAS per channel: its whole contribution (no spend before the data) over its spend."""
    frame = example_frame() if frame is None else frame
    parts = example_dgp_y(frame)
    return {ch: float(parts[ch].sum() / frame[ch].sum()) for ch in ("x1", "x2")}


def example_graph() -> CausalGraph:
    """What a user who read the notebook writes: trend + yearly seasonality on y, events as controls, l_max 8."""
    g = CausalGraph("mmm_example")
    g.add_node("x1", "spend").add_node("x2", "spend")
    g.add_node("event_1", "control").add_node("event_2", "control")
    g.add_node("y", "outcome", trend="linear", seasonality=2)
    for ch in ("x1", "x2"):
        g.add_edge(ch, "y", adstock="geometric", saturation="logistic", l_max=EXAMPLE_DGP["l_max"])
    g.add_edge("event_1", "y").add_edge("event_2", "y")
    return g.validate()


def mmm_example() -> PublicWorld:
    frame = example_frame()
    truth = example_truth(frame)
    return PublicWorld(
        "mmm_example", frame, example_graph(), truth, dict(truth), notes="no spend before the data, so the notebook's truth and causalmmm's estimand coincide"
    )


# ---------------------------------------------------------------- mmm_roas_data
def roas_raw() -> pd.DataFrame:
    return pd.read_csv(ROAS_CSV, parse_dates=["date"])


def roas_truth_documented(raw: pd.DataFrame | None = None) -> dict[str, float]:
    """The notebook's true ROAS: ``Σ (y − y0i) / Σ xi`` (the channel's whole effect, pre-data carry-over included)."""
    raw = roas_raw() if raw is None else raw
    return {ch: float((raw["y"] - raw[f"y0{ch[-1]}"]).sum() / raw[ch].sum()) for ch in ("x1", "x2")}


def _in_data_adstock(raw: pd.DataFrame, ch: str, keep: np.ndarray | None = None) -> np.ndarray:
    """Adstock of the channel's in-data spend (optionally only where ``keep``)."""
    x = raw[ch].to_numpy(float) if keep is None else np.where(keep, raw[ch].to_numpy(float), 0.0)
    return geometric_adstock(x, ROAS_DGP[ch]["alpha"], ROAS_DGP["l_max"])


def roas_effect_of_turning_off(raw: pd.DataFrame, ch: str, off: np.ndarray) -> np.ndarray:
    """Per-period change of y (data units) when ``ch`` is set to 0 where ``off``: factual minus intervened."""
    p, amp = ROAS_DGP[ch], ROAS_DGP["amplitude"]
    adstock_fact = raw[f"{ch}_adstock"].to_numpy(float)  # includes carry-over from before the data
    adstock_do = adstock_fact - _in_data_adstock(raw, ch, keep=off)
    return amp * p["beta"] * (logistic_saturation(adstock_fact, p["lam"]) - logistic_saturation(adstock_do, p["lam"]))


def roas_truth(raw: pd.DataFrame | None = None) -> dict[str, float]:
    """causalmmm's estimand: channel off over the whole data, pre-data spend still carrying over in both arms."""
    raw = roas_raw() if raw is None else raw
    everywhere = np.ones(len(raw), dtype=bool)
    return {ch: float(roas_effect_of_turning_off(raw, ch, everywhere).sum() / raw[ch].sum()) for ch in ("x1", "x2")}


def roas_experiments(raw: pd.DataFrame | None = None) -> tuple[list[Experiment], dict[str, float]]:
    """Go-dark experiments on y (per-period effect over the window), estimate = truth, se = 10% of it."""
    raw = roas_raw() if raw is None else raw
    exps, truth = [], {}
    for name, (ch, start, end) in ROAS_EXPERIMENTS.items():
        window = ((raw["date"] >= start) & (raw["date"] <= end)).to_numpy()
        effect = float(-roas_effect_of_turning_off(raw, ch, window)[window].sum() / window.sum())  # intervened − factual
        truth[name] = effect
        exps.append(
            Experiment(
                name=name,
                design="lift",
                treatment=ch,
                intervention=Intervention.off(ch),
                measured=("y",),
                start=pd.Timestamp(start),
                end=pd.Timestamp(end),
                unit="per_period",
                estimate=effect,
                se=EXPERIMENT_SE_SHARE * abs(effect),
                source="bench/public_data.py",
            )
        )
    return exps, truth


def roas_graph(z_observed: bool) -> CausalGraph:
    """The notebook's DAG: z -> x1, z -> y, channels -> y; trend and seasonality on y (l_max 4 as in the notebook)."""
    g = CausalGraph("mmm_roas_z_observed" if z_observed else "mmm_roas_z_latent")
    g.add_node("z", "confounder", observed=z_observed)
    g.add_node("x1", "spend").add_node("x2", "spend")
    g.add_node("y", "outcome", trend="piecewise", changepoints=6, seasonality=2)
    g.add_edge("z", "x1").add_edge("z", "y")
    for ch in ("x1", "x2"):
        g.add_edge(ch, "y", adstock="geometric", saturation="logistic", l_max=ROAS_DGP["l_max"])
    return g.validate()


def mmm_roas(z_observed: bool) -> PublicWorld:
    raw = roas_raw()
    cols = ["date", "y", "x1", "x2"] + (["z"] if z_observed else [])
    exps, exp_truth = roas_experiments(raw)
    return PublicWorld(
        "mmm_roas (z observed)" if z_observed else "mmm_roas (z latent)",
        raw[cols].copy(),
        roas_graph(z_observed),
        roas_truth(raw),
        roas_truth_documented(raw),
        exps,
        exp_truth,
        notes="no spend before the data, so the notebook's truth and causalmmm's estimand coincide",
    )


def worlds() -> list[PublicWorld]:
    return [mmm_example(), mmm_roas(z_observed=False), mmm_roas(z_observed=True)]
