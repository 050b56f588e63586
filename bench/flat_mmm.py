"""Benchmark adapter: pymc-marketing 0.19's flat ``MMM`` in the configurations users run.

We compare causalmmm against the flat model on the same simulated data. This
module fits ``pymc_marketing.mmm.MMM`` (GeometricAdstock + Logistic or Hill
saturation, ``yearly_seasonality=2``) and returns total ROAS draws per channel,
the wall time of the whole fit, and convergence numbers.

Configurations (the caller picks the columns; the names are labels only):

* ``spend_only``       channels only;
* ``with_confounder``  + the confounder column (e.g. ``demand``) as a control;
* ``kitchen_sink``     + every click column as a control too (mediators: this
  blocks part of the effect it tries to measure);
* ``lift_calibrated``  spend (+ confounder if given) plus
  ``MMM.add_lift_test_measurements`` from the sales-level experiments.

Lift-test units (checked against pymc-marketing 0.19.2's code, see
``lift_rows_from_experiments``): one row per experiment, all values in the
*original* units of the data and *per data period* (mean over the test
window): ``x`` = business-as-usual spend per period, ``delta_x`` = the change
per period, ``delta_y`` = the outcome change per period, ``sigma`` = the
standard error of that per-period mean. pymc-marketing divides ``x``/``delta_x``
by the channel's max-abs scale and ``delta_y``/``sigma`` by the target's, then
evaluates them on the saturation curve only (adstock is not part of that
likelihood term).

pymc-marketing is an optional dependency (the ``bench`` extra).
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd

CONFIGS = ("spend_only", "with_confounder", "kitchen_sink", "lift_calibrated")
SAMPLERS = ("nutpie", "pymc")
_MISSING = "pymc-marketing is not installed; install the bench extra: pip install -e '.[bench]'"


@dataclass
class FlatResult:
    """One flat-MMM fit, reduced to the numbers the benchmark compares."""

    config: str
    roas_draws: dict[str, np.ndarray]  # channel -> (chains*draws,) total ROAS, original units
    fit_seconds: float  # build + (lift terms) + sample + deterministics: the whole fit
    ess_bulk_min: float
    r_hat_max: float
    divergences: int
    contribution_draws: dict[str, np.ndarray] = field(default_factory=dict)  # channel -> Σ_t contribution, original units
    spend: dict[str, float] = field(default_factory=dict)  # channel -> Σ_t spend
    sampler: str = "nutpie"
    n_lift_rows: int = 0

    def summary(self, hdi_prob: float = 0.94) -> dict[str, dict[str, float]]:
        """ROAS mean and HDI per channel."""
        return {c: {"mean": float(np.mean(d)), **dict(zip(("hdi_low", "hdi_high"), _hdi(d, hdi_prob)))} for c, d in self.roas_draws.items()}


def _hdi(x: np.ndarray, prob: float) -> tuple[float, float]:
    s = np.sort(np.asarray(x, dtype=float).ravel())
    n = len(s)
    k = max(1, int(math.floor(prob * n)))
    if k >= n:
        return float(s[0]), float(s[-1])
    widths = s[k:] - s[: n - k]
    i = int(np.argmin(widths))
    return float(s[i]), float(s[i + k])


def _import_pymc_marketing() -> Any:
    try:
        with _quiet():
            import pymc_marketing.mmm as pmm
    except ImportError as exc:
        raise ImportError(_MISSING) from exc
    return pmm


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence pymc / pymc-marketing / pytensor warnings and INFO logging."""
    names = ("pymc", "pymc_marketing", "pytensor", "nutpie", "arviz")
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        # stdout: pymc-marketing's fit draws a progress bar for the deterministics it computes after sampling
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, lv in zip(loggers, levels):
            lg.setLevel(lv)


# --------------------------------------------------------------------------- lift rows


def _window_mask(df: pd.DataFrame, date_column: str, start: Any, end: Any) -> np.ndarray:
    dates = pd.to_datetime(df[date_column])
    return ((dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))).to_numpy()


def lift_rows_from_experiments(
    experiments: Sequence[dict], df: pd.DataFrame, *, outcome: str = "sales", date_column: str = "date", channels: Sequence[str] | None = None
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """Convert CONTRACT-format experiments into pymc-marketing lift-test rows.

    Returns ``(rows, skipped)``. ``rows`` has the columns ``channel, x, delta_x,
    delta_y, sigma`` (plus ``name`` for bookkeeping, which pymc-marketing
    ignores); ``skipped`` lists ``{"name", "reason"}`` for experiments the flat
    model cannot use (measured on a node other than ``outcome``, e.g. clicks;
    no estimate; treatment not a spend column; no spend in the window).

    Unit mapping (pymc-marketing 0.19.2: ``MMM.add_lift_test_measurements``
    passes the rows through ``scale_lift_measurements``, which divides
    ``x``/``delta_x`` by the channel's max-abs scaler and ``delta_y``/``sigma``
    by the target's; the saturation curve is then evaluated at
    ``x`` and ``x + delta_x`` on the same per-period scale as the data; the
    maintainers' answer in issue #948 says the values are per-period averages):

    * ``x``       mean observed (business-as-usual) spend per period in the window;
    * ``delta_x`` intervened − observed spend per period: ``-x`` for ``off``,
      ``(f - 1) x`` for ``{scale: f}``, ``v - x`` for ``{set: v}``;
    * ``delta_y`` the estimate per period (a ``total`` estimate is divided by the
      number of data periods in the window);
    * ``sigma``   the standard error on the same per-period scale (``se / n``
      for a ``total``). This is the SE of a per-period mean; it is *not* the
      ``se_total / sqrt(n)`` suggested in a comment on #948, which is the
      per-period noise sd and would understate the evidence by ``sqrt(n)``.

    Caveats of the target model (not fixed here): the term ignores adstock
    (#2433), so a short go-dark test whose lift is diluted by carry-over is read
    as a flatter saturation curve; the default Gamma likelihood on ``|delta_y|``
    can keep a near-zero mode (#2958).
    """
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    cols = set(channels) if channels is not None else None
    for e in experiments:
        name = str(e.get("name", f"experiment_{len(rows) + len(skipped)}"))
        measured = e.get("measured")
        measured_list = [measured] if isinstance(measured, str) else list(measured or [])
        if measured_list != [outcome]:
            skipped.append({"name": name, "reason": f"measured on {'+'.join(map(str, measured_list)) or '?'}, not {outcome}; a flat MMM has no node for it"})
            continue
        treatment = e.get("treatment")
        if treatment not in df.columns or (cols is not None and treatment not in cols):
            skipped.append({"name": name, "reason": f"treatment {treatment!r} is not a channel column"})
            continue
        if e.get("estimate") is None or e.get("se") is None:
            skipped.append({"name": name, "reason": "no estimate/se (raw-data experiment not analysed yet)"})
            continue
        mask = _window_mask(df, date_column, e["start"], e["end"])
        n = int(mask.sum())
        if n == 0:
            skipped.append({"name": name, "reason": "window outside the data"})
            continue
        x = float(pd.to_numeric(df.loc[mask, treatment]).mean())
        iv = e.get("intervention", "off")
        if iv == "off":
            new_x = 0.0
        elif isinstance(iv, dict) and "scale" in iv:
            new_x = float(iv["scale"]) * x
        elif isinstance(iv, dict) and "set" in iv:
            new_x = float(iv["set"])
        else:
            skipped.append({"name": name, "reason": f"unsupported intervention {iv!r}"})
            continue
        if x <= 0 and new_x <= 0:
            skipped.append({"name": name, "reason": "no spend in the window"})
            continue
        unit = e.get("unit", "per_period")
        if unit not in ("per_period", "total"):
            skipped.append({"name": name, "reason": f"unknown unit {unit!r}"})
            continue
        div = n if unit == "total" else 1
        delta_y, sigma = float(e["estimate"]) / div, float(e["se"]) / div
        if delta_y * (new_x - x) <= 0:
            # pymc-marketing compares |model lift| with |delta_y|; a lift of the wrong sign (noise) would be
            # silently read as a positive one, so say so rather than hide it.
            skipped.append(
                {
                    "name": name,
                    "reason": f"estimate {e['estimate']} has the opposite sign to the spend change; pymc-marketing's |Δy| likelihood cannot represent it",
                }
            )
            continue
        rows.append({"channel": treatment, "x": x, "delta_x": new_x - x, "delta_y": delta_y, "sigma": max(sigma, 1e-9), "name": name})
    out = pd.DataFrame(rows, columns=["channel", "x", "delta_x", "delta_y", "sigma", "name"])
    return out, skipped


# --------------------------------------------------------------------------- fitting


def _diagnostics(idata: Any, var_names: Sequence[str]) -> tuple[float, float, int]:
    import arviz as az

    post = idata.posterior[[v for v in var_names if v in idata.posterior]]
    n_chains = post.sizes.get("chain", 1)
    ess = az.ess(post, method="bulk")
    ess_min = float(min(float(ess[v].min()) for v in ess.data_vars))
    if n_chains >= 2:
        rhat = az.rhat(post)
        rhat_max = float(max(float(rhat[v].max()) for v in rhat.data_vars))
    else:
        rhat_max = float("nan")
    div = int(idata.sample_stats["diverging"].sum()) if "sample_stats" in idata.groups() and "diverging" in idata.sample_stats else 0
    return ess_min, rhat_max, div


def fit_flat_mmm(
    df: pd.DataFrame,
    *,
    date_column: str = "date",
    outcome: str = "sales",
    channels: Sequence[str],
    controls: Sequence[str] = (),
    lift_tests: pd.DataFrame | None = None,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    seed: int = 0,
    sampler: str = "nutpie",
    config_name: str = "spend_only",
    adstock_l_max: int = 8,
    saturation: str = "logistic",
    target_accept: float = 0.9,
    scale_controls: bool = True,
    lift_likelihood: str = "gamma",
) -> FlatResult:
    """Fit pymc-marketing's flat MMM and return total ROAS draws per channel.

    ``controls``: extra regressors (confounder, clicks, promo...). With
    ``scale_controls`` each is divided by its max |value| before the fit (pymc-
    marketing does not scale controls; raw columns in the thousands make its
    ``Normal(0, 2)`` coefficients badly scaled for NUTS). This changes the
    parametrisation only, not what the model can identify.

    ``lift_tests``: rows from :func:`lift_rows_from_experiments` (original
    units, per period); added with ``MMM.add_lift_test_measurements`` after
    the model is built. ``lift_likelihood="normal"`` swaps the default Gamma
    (see pymc-marketing issue #2958); the default is what users run.

    ROAS per draw = Σ_t channel contribution in original units
    (``MMM.compute_channel_contribution_original_scale``) / Σ_t spend.
    ``fit_seconds`` covers build, lift terms, sampling and the deterministics
    pymc-marketing computes after sampling.
    """
    pmm = _import_pymc_marketing()
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; choose one of {SAMPLERS}")
    if saturation not in ("logistic", "hill"):
        raise ValueError("saturation must be 'logistic' or 'hill'")
    channels = list(channels)
    controls = [c for c in controls if c not in channels]
    missing = [c for c in [date_column, outcome, *channels, *controls] if c not in df.columns]
    if missing:
        raise KeyError(f"columns not in the data: {missing}")
    if sampler == "nutpie":
        try:
            import nutpie  # noqa: F401
        except ImportError as exc:
            raise ImportError("sampler='nutpie' needs nutpie (pip install nutpie), or use sampler='pymc'") from exc

    X = df[[date_column, *channels, *controls]].copy().reset_index(drop=True)
    X[date_column] = pd.to_datetime(X[date_column])
    for c in [*channels, *controls]:
        X[c] = pd.to_numeric(X[c]).astype(float)
    if scale_controls:
        for c in controls:
            m = float(np.abs(X[c]).max())
            if m > 0:
                X[c] = X[c] / m
    y = pd.Series(pd.to_numeric(df[outcome]).to_numpy(dtype=float), index=X.index, name=outcome)

    sat = pmm.LogisticSaturation() if saturation == "logistic" else pmm.HillSaturation()
    sampler_config: dict[str, Any] = {
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "target_accept": target_accept,
        "nuts_sampler": sampler,
        "progressbar": False,
        "compute_convergence_checks": False,
    }
    if sampler == "pymc":
        sampler_config["cores"] = min(chains, 2)
    n_lift = 0
    with _quiet():
        mmm = pmm.MMM(
            date_column=date_column,
            channel_columns=channels,
            control_columns=controls or None,
            adstock=pmm.GeometricAdstock(l_max=adstock_l_max),
            saturation=sat,
            yearly_seasonality=2,
            sampler_config=sampler_config,
        )
        t0 = time.perf_counter()
        mmm.build_model(X, y)
        if lift_tests is not None and len(lift_tests):
            lt = lift_tests.loc[lift_tests["channel"].isin(channels), ["channel", "x", "delta_x", "delta_y", "sigma"]]
            lt = lt.reset_index(drop=True)
            n_lift = len(lt)
            if n_lift:
                kw: dict[str, Any] = {}
                if lift_likelihood == "normal":
                    import pymc.dims as pmd

                    kw["dist"] = pmd.Normal
                mmm.add_lift_test_measurements(lt, **kw)
        mmm.fit(X, y, random_seed=seed)
        fit_seconds = time.perf_counter() - t0

        free = [v.name for v in mmm.model.free_RVs]
        ess_min, rhat_max, div = _diagnostics(mmm.idata, free)
        contrib = mmm.compute_channel_contribution_original_scale()  # (chain, draw, date, channel)
        if "channel_contribution_original_scale" in mmm.idata.posterior:  # 0.19 also stores it as a deterministic
            alt = mmm.idata.posterior["channel_contribution_original_scale"].sum("date")
            if not np.allclose(contrib.sum("date").transpose(*alt.dims).to_numpy(), alt.to_numpy(), rtol=1e-6):
                raise RuntimeError("pymc-marketing's two original-scale channel contributions disagree; check the scaling")
    total = contrib.sum("date").stack(sample=("chain", "draw")).transpose("channel", "sample")
    spend = {c: float(X[c].sum()) for c in channels}
    contribution_draws = {c: total.sel(channel=c).to_numpy().astype(float) for c in channels}
    roas = {c: contribution_draws[c] / spend[c] if spend[c] > 0 else np.full_like(contribution_draws[c], np.nan) for c in channels}
    return FlatResult(config_name, roas, fit_seconds, ess_min, rhat_max, div, contribution_draws, spend, sampler, n_lift)


# --------------------------------------------------------------------------- self-check


def _synthetic(seed: int = 0, n: int = 104) -> tuple[pd.DataFrame, dict[str, float], list[dict]]:
    """Tiny weekly world: 3 channels, linear-ish effects with geometric carry-over, known total ROAS."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=n, freq="W-MON")
    t = np.arange(n)
    demand = 100 + 10 * np.sin(2 * np.pi * t / 52) + rng.normal(0, 3, n)
    spend = {
        "tv": np.clip(rng.gamma(4, 250, n) * (rng.random(n) < 0.7), 0, None),
        "social": rng.gamma(6, 120, n),
        "search": 6 * demand + rng.normal(0, 60, n),  # follows demand: confounded
    }
    roas_true = {"tv": 1.5, "social": 2.5, "search": 1.0}
    alpha = {"tv": 0.6, "social": 0.3, "search": 0.1}
    l_max = 8
    y = 2000 + 15 * demand + rng.normal(0, 150, n)
    for c, x in spend.items():
        w = alpha[c] ** np.arange(l_max)
        w = w / w.sum()
        ad = np.convolve(x, w)[:n]  # normalised: the long-run effect per unit of spend is roas_true
        y = y + roas_true[c] * ad
    # a mediator column for the kitchen-sink config: clicks caused by search spend (and demand)
    search_clicks = 0.5 * spend["search"] + 2 * demand + rng.normal(0, 20, n)
    df = pd.DataFrame({"date": dates, **spend, "demand": demand, "search_clicks": search_clicks, "sales": y})
    # in-sample truth: Σ contribution inside the data / Σ spend (carry-out past the end excluded)
    truth = {}
    for c, x in spend.items():
        w = alpha[c] ** np.arange(l_max)
        w = w / w.sum()
        truth[c] = float(roas_true[c] * np.convolve(x, w)[:n].sum() / x.sum())
    # one sales-level go-dark test per channel (true per-period lift, 10% se) and one click-level test
    exps = []
    for i, c in enumerate(spend):
        s = int(n * (0.2 + 0.2 * i))
        x = spend[c].copy()
        x_off = x.copy()
        x_off[s : s + 6] = 0
        w = alpha[c] ** np.arange(l_max)
        w = w / w.sum()
        lift = roas_true[c] * (np.convolve(x_off, w)[:n] - np.convolve(x, w)[:n])[s : s + 6].mean()
        exps.append(
            {
                "name": f"{c}_dark",
                "treatment": c,
                "intervention": "off",
                "measured": "sales",
                "start": str(dates[s].date()),
                "end": str(dates[s + 5].date()),
                "estimate": float(lift + rng.normal(0, 0.1 * abs(lift))),
                "se": float(0.1 * abs(lift)),
                "unit": "per_period",
            }
        )
    exps.append(
        {
            "name": "search_switchback",
            "treatment": "search",
            "intervention": "off",
            "measured": ["search_clicks", "seo_clicks"],
            "start": str(dates[int(n * 0.8)].date()),
            "end": str(dates[int(n * 0.8) + 5].date()),
            "estimate": -500.0,
            "se": 50.0,
            "unit": "per_period",
        }
    )
    return df, truth, exps


def _main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description="self-check of the pymc-marketing flat-MMM adapter")
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--tune", type=int, default=200)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--sampler", default="nutpie", choices=SAMPLERS)
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS))
    args = ap.parse_args()
    df, truth, exps = _synthetic()
    channels = ["tv", "social", "search"]
    lift, skipped = lift_rows_from_experiments(exps, df, outcome="sales")
    print("lift rows (original units, per period):")
    print(lift.to_string(index=False))
    print("skipped:", skipped)
    print("true in-sample ROAS:", {c: round(v, 3) for c, v in truth.items()})
    setups = {
        "spend_only": ([], None),
        "with_confounder": (["demand"], None),
        "kitchen_sink": (["demand", "search_clicks"], None),
        "lift_calibrated": (["demand"], lift),
    }
    for name in args.configs:
        controls, lt = setups[name]
        res = fit_flat_mmm(
            df,
            channels=channels,
            controls=controls,
            lift_tests=lt,
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            seed=1,
            sampler=args.sampler,
            config_name=name,
        )
        print(
            f"\n[{name}] sampler={res.sampler} fit {res.fit_seconds:.1f}s  ess_bulk_min={res.ess_bulk_min:.0f} "
            f"r_hat_max={res.r_hat_max:.3f} divergences={res.divergences} lift_rows={res.n_lift_rows}"
        )
        for c, s in res.summary().items():
            print(f"  {c:<7} ROAS {s['mean']:.2f} [{s['hdi_low']:.2f}, {s['hdi_high']:.2f}]  truth {truth[c]:.2f}")


if __name__ == "__main__":
    _main()
