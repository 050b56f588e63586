"""Dataset validation: every bad input is one line naming file, column and row."""

from __future__ import annotations

import pandas as pd
import pytest

from causalmmm.data import load_data
from causalmmm.errors import DataError


def _write(tmp_path, text: str):
    p = tmp_path / "d.csv"
    p.write_text(text)
    return p


def test_good_weekly_data(random_frame, example_graph):
    ds = load_data(random_frame).validate_against(example_graph)
    assert ds.freq == "W" and ds.n_periods == 156
    assert ds.fingerprint() == load_data(random_frame).validate_against(example_graph).fingerprint()
    mask = ds.window_mask("2022-03-01", "2022-03-31")
    assert mask.sum() == 4


@pytest.mark.parametrize(
    "text, needle",
    [
        ("", "the CSV file is empty"),
        ("date,a\n", "header but no rows"),
        ("day,a\n2024-01-01,1\n2024-01-08,2\n2024-01-15,3\n", "no date column 'date'"),
        ("date,a\n2024-01-01,1\nnot-a-date,2\n2024-01-15,3\n", "unparsable date 'not-a-date'"),
        ("date,a\n2024-01-01,1\n2024-01-01,2\n2024-01-08,3\n2024-01-15,3\n", "duplicated date 2024-01-01"),
        ("date,a\n2024-01-01,1\n2024-01-08,2\n2024-01-22,3\n2024-01-29,3\n", "gap between 2024-01-08 and 2024-01-22"),
        ("date,a\n2024-01-01,1\n2024-01-08,$2\n2024-01-15,3\n", "non-numeric value '$2'"),
        ("date,a\n2024-01-01,1\n2024-01-08,\n2024-01-15,3\n", "missing value (NaN)"),
        ("date,a,a\n2024-01-01,1,1\n2024-01-08,2,2\n2024-01-15,3,3\n", "duplicated column 'a'"),
        ("date,a\n2024-01-01,1\n2024-01-08,2\n", "only 2 rows"),
    ],
)
def test_bad_csv(tmp_path, text, needle):
    with pytest.raises(DataError) as exc:
        load_data(_write(tmp_path, text))
    assert needle in str(exc.value)
    assert "\n" not in str(exc.value)


def test_negative_spend_and_missing_column(random_frame, example_graph):
    df = random_frame.copy()
    df.loc[5, "ppc_spend"] = -3.0
    with pytest.raises(DataError, match="spend column 'ppc_spend' is negative on 2022-02-07"):
        load_data(df).validate_against(example_graph)
    with pytest.raises(DataError, match="without a data column: sales"):
        load_data(random_frame.drop(columns=["sales"])).validate_against(example_graph)


def test_window_outside_data(random_data):
    with pytest.raises(DataError, match="outside the data"):
        random_data.window_mask("2030-01-01", "2030-02-01")
    with pytest.raises(DataError, match="starts .* after it ends"):
        random_data.window_mask("2023-02-01", "2023-01-01")


def test_unsorted_dates_are_sorted():
    df = pd.DataFrame({"date": ["2024-01-15", "2024-01-01", "2024-01-08"], "a": [3.0, 1.0, 2.0]})
    ds = load_data(df)
    assert list(ds.frame["a"]) == [1.0, 2.0, 3.0]
